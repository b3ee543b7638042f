import test from 'ava';
import { formatRatio, renderRatioChart } from './svg-chart.ts';

const chart = renderRatioChart({
  title: 'kiln <against> "peers" & bounds',
  subtitle: 'test',
  rows: [
    { label: 'W1 cold', clause: '≤ 0.8× BuildKit', ratio: 0.5, limit: 0.8 },
    { label: 'W4 no-op', clause: '≤ 0.6× BuildKit', ratio: 2.4, limit: 0.6 },
    { label: 'W7 save', clause: '≤ 0.5× Buildah', ratio: undefined, limit: undefined },
  ],
});

test('the chart is one svg element with a dot for each measured row only', (t) => {
  t.regex(chart, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>/);
  t.true(chart.trimEnd().endsWith('</svg>'));
  t.is(chart.match(/<circle /g)?.length, 2);
  t.is(chart.match(/not measured<\/text>/g)?.length, 1);
});

test('a met row is drawn green and a missed one red, with its ratio and limit', (t) => {
  t.true(chart.includes('>0.5× (≤ 0.8×) met</text>'));
  t.true(chart.includes('>2.4× (≤ 0.6×) missed</text>'));
  t.regex(chart, /fill="#1a7f37">0\.5×/);
  t.regex(chart, /fill="#cf222e">2\.4×/);
});

test('text is escaped as XML', (t) => {
  t.true(chart.includes('kiln &lt;against&gt; &quot;peers&quot; &amp; bounds'));
  t.false(chart.includes('<against>'));
});

test('the log scale puts the 1× gridline between ratios below and above it', (t) => {
  const x = (label: string): number => Number(new RegExp(`<text x="([\\d.]+)" y="[\\d.]+" text-anchor="middle" fill="#57606a">${label}</text>`).exec(chart)?.[1]);
  t.true(x('0.5×') < x('1×'));
  t.true(x('1×') < x('2×'));
  // Equal steps on a log scale: 0.5 → 1 as wide as 1 → 2.
  t.true(Math.abs(x('1×') - x('0.5×') - (x('2×') - x('1×'))) < 0.2);
});

test('ratios are written with sensible precision', (t) => {
  t.is(formatRatio(0.123456), '0.12×');
  t.is(formatRatio(1.3), '1.3×');
  t.is(formatRatio(12.6), '13×');
});
