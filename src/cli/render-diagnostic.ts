import type { Diagnostic } from '../syntax/index.ts';

/**
 * A diagnostic as the CLI prints it: `FILE:LINE:COLUMN: severity: message`, then the source
 * line(s) with a caret under the range, then the hint.
 *
 *     Dockerfile:3:1: error: unknown instruction: RNU
 *        3 | RNU echo hi
 *          | ^^^
 *     hint: did you mean RUN?
 */
export function renderDiagnostic(d: Diagnostic, source: string): string {
  const lines = source.split('\n');
  const { start, end } = d.range;
  const out = [`${d.file}:${start.line}:${start.column}: ${d.severity}: ${d.message}`];
  const last = Math.min(end.line, start.line + 4);
  const width = String(last).length;
  for (let n = start.line; n <= last; n++) {
    const text = (lines[n - 1] ?? '').replace(/\r$/, '');
    out.push(`${String(n).padStart(width + 3)} | ${text}`);
    const from = n === start.line ? start.column : 1;
    const to = n === end.line ? Math.max(end.column, from + 1) : text.length + 1;
    if (to > from && from <= text.length + 1) {
      // Tabs are kept under tabs so that the caret lines up whatever the tab width.
      const pad = text.slice(0, from - 1).replace(/[^\t]/g, ' ');
      out.push(`${''.padStart(width + 3)} | ${pad}${'^'.repeat(Math.min(to, text.length + 1) - from || 1)}`);
    }
  }
  if (end.line > last) out.push(`${''.padStart(width + 3)} | …`);
  if (d.hint !== undefined) out.push(`hint: ${d.hint}`);
  if (d.url !== undefined) out.push(`see ${d.url}`);
  return out.join('\n');
}
