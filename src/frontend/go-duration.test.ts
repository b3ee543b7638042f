import test from 'ava';
import { formatGoDuration, parseGoDuration } from './go-duration.ts';

test('parseGoDuration reads Go durations to nanoseconds', (t) => {
  const cases: [string, number][] = [
    ['0', 0], ['5s', 5e9], ['1m30s', 90e9], ['1.5h', 5400e9], ['300ms', 300e6], ['2us', 2000],
    ['2µs', 2000], ['2μs', 2000], ['7ns', 7], ['-1s', -1e9], ['+2m', 120e9], ['.5s', 5e8], ['1.s', 1e9], ['1h2m3.004s', 3723.004e9],
  ];
  for (const [text, ns] of cases) t.is(parseGoDuration(text), ns, text);
});

test('parseGoDuration refuses what Go refuses, with Go\'s messages', (t) => {
  t.throws(() => parseGoDuration(''), { message: 'time: invalid duration ""' });
  t.throws(() => parseGoDuration('5'), { message: 'time: missing unit in duration "5"' });
  t.throws(() => parseGoDuration('1d'), { message: 'time: unknown unit "d" in duration "1d"' });
  t.throws(() => parseGoDuration('s'), { message: 'time: invalid duration "s"' });
  t.throws(() => parseGoDuration('.s'), { message: 'time: invalid duration ".s"' });
  t.throws(() => parseGoDuration('3000000h'), { message: 'time: invalid duration "3000000h"' });
});

test('formatGoDuration writes what Go\'s Duration.String writes', (t) => {
  const cases: [number, string][] = [
    [0, '0s'], [1, '1ns'], [1500, '1.5µs'], [2_000_000, '2ms'], [1_500_000_000, '1.5s'], [90e9, '1m30s'],
    [3600e9, '1h0m0s'], [3723.004e9, '1h2m3.004s'], [-5e9, '-5s'], [120e9, '2m0s'],
  ];
  for (const [ns, text] of cases) t.is(formatGoDuration(ns), text, text);
});
