/*
 * The benchmark's chart as hand-written SVG (no dependency): one row per target clause, kiln's
 * ratio to the clause's reference as a dot, the highest ratio the clause allows as a tick, on
 * a shared log scale (so 0.5× and 2× sit equally far from 1×); green where the target is met,
 * red where it is missed, grey where this run could not tell.
 */

/** One row of {@link renderRatioChart}. */
export interface ChartRow {
  /** What was measured, e.g. `W4 20,000 files / 300 MB: cold`. */
  readonly label: string;
  /** The clause, e.g. `≤ 0.5× BuildKit`; drawn beside the label. */
  readonly clause: string;
  /** kiln ÷ the clause's reference; undefined when it was not measured. */
  readonly ratio: number | undefined;
  /** The highest ratio the clause allows; undefined when it could not be worked out. */
  readonly limit: number | undefined;
}

/** What {@link renderRatioChart} draws. */
export interface RatioChart {
  readonly title: string;
  /** A line under the title: the machine, the date, the runs. */
  readonly subtitle: string;
  readonly rows: readonly ChartRow[];
}

const WIDTH = 1000;
const LABEL_WIDTH = 430;
const VALUE_WIDTH = 190;
const PLOT_LEFT = LABEL_WIDTH + 10;
const PLOT_WIDTH = WIDTH - PLOT_LEFT - VALUE_WIDTH - 10;
const TOP = 78;
const ROW = 28;
const GREEN = '#1a7f37';
const RED = '#cf222e';
const GREY = '#8c959f';

/** The chart as a standalone SVG document (UTF-8 text). Rows appear in the order given. */
export function renderRatioChart(chart: RatioChart): string {
  const values = chart.rows.flatMap((r) => [r.ratio, r.limit]).filter((v): v is number => v !== undefined && Number.isFinite(v) && v > 0);
  const low = Math.floor(Math.log2(Math.min(1, ...values) / 1.2));
  const high = Math.ceil(Math.log2(Math.max(1, ...values) * 1.2));
  const x = (ratio: number): number => PLOT_LEFT + ((Math.log2(ratio) - low) / (high - low)) * PLOT_WIDTH;
  const height = TOP + chart.rows.length * ROW + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="16" font-weight="bold">${escape(chart.title)}</text>`,
    `<text x="10" y="40" fill="#57606a">${escape(chart.subtitle)}</text>`,
    `<text x="10" y="60" fill="#57606a">dot: kiln ÷ reference · tick: the most the target allows · log scale · ` +
      `<tspan fill="${GREEN}">met</tspan> <tspan fill="${RED}">missed</tspan> <tspan fill="${GREY}">not measured</tspan></text>`,
  ];
  const bottom = TOP + chart.rows.length * ROW;
  for (let power = low; power <= high; power++) {
    const ratio = 2 ** power;
    const gx = x(ratio).toFixed(1);
    out.push(
      `<line x1="${gx}" y1="${TOP - 6}" x2="${gx}" y2="${bottom}" stroke="${power === 0 ? '#57606a' : '#d0d7de'}" stroke-width="${power === 0 ? 1.5 : 1}"/>`,
      `<text x="${gx}" y="${bottom + 16}" text-anchor="middle" fill="#57606a">${escape(formatRatio(ratio))}</text>`,
    );
  }
  chart.rows.forEach((row, i) => {
    const y = TOP + i * ROW + ROW / 2;
    if (i % 2 === 1) out.push(`<rect x="0" y="${TOP + i * ROW}" width="${WIDTH}" height="${ROW}" fill="#f6f8fa" fill-opacity="0.6"/>`);
    out.push(
      `<text x="10" y="${y + 4}">${escape(row.label)} <tspan fill="#57606a">${escape(row.clause)}</tspan></text>`,
    );
    const measured = row.ratio !== undefined && row.limit !== undefined && Number.isFinite(row.ratio) && row.ratio > 0;
    if (!measured || row.ratio === undefined || row.limit === undefined) {
      out.push(`<text x="${WIDTH - VALUE_WIDTH}" y="${y + 4}" fill="${GREY}">not measured</text>`);
      return;
    }
    const met = row.ratio <= row.limit;
    const colour = met ? GREEN : RED;
    const [rx, lx] = [x(row.ratio), x(row.limit)];
    out.push(
      `<line x1="${lx.toFixed(1)}" y1="${y}" x2="${rx.toFixed(1)}" y2="${y}" stroke="${colour}" stroke-width="4" stroke-opacity="0.45"/>`,
      `<line x1="${lx.toFixed(1)}" y1="${y - 9}" x2="${lx.toFixed(1)}" y2="${y + 9}" stroke="#24292f" stroke-width="2"/>`,
      `<circle cx="${rx.toFixed(1)}" cy="${y}" r="5.5" fill="${colour}"><title>${escape(`${row.label}: kiln ${formatRatio(row.ratio)}, target ≤ ${formatRatio(row.limit)}`)}</title></circle>`,
      `<text x="${WIDTH - VALUE_WIDTH}" y="${y + 4}" fill="${colour}">${escape(`${formatRatio(row.ratio)} (≤ ${formatRatio(row.limit)}) ${met ? 'met' : 'missed'}`)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** A ratio as people read it: `0.62×`, `1.3×`, `12×`. */
export function formatRatio(ratio: number): string {
  if (ratio >= 10) return `${ratio.toFixed(0)}×`;
  if (ratio >= 1) return `${Number(ratio.toFixed(2))}×`;
  return `${Number(ratio.toPrecision(2))}×`;
}

/** Text as SVG character data or attribute value (XML 1.0 § 2.4: &, <, > and quotes). */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
