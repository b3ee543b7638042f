/** A duration as the progress views print it: seconds with one decimal (`1.2`), never negative. */
export function formatSeconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(1);
}

/**
 * How far into its step an output line came, as BuildKit prefixes plain log lines: three
 * decimals below 10 s, two below 100 s, then one (`0.123`, `12.35`, `123.4`).
 */
export function formatLogOffset(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return s.toFixed(s < 10 ? 3 : s < 100 ? 2 : 1);
}
