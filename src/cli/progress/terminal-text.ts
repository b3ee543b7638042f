/*
 * Text for a terminal line of a known width: what a program's output looks like once the
 * escape sequences it meant for its own terminal are gone, and how many columns it takes.
 */

// CSI (ESC [ … final byte), OSC (ESC ] … BEL or ESC \), and two-byte ESC sequences (ECMA-48 §5.3).
const ESCAPE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
// C0 and C1 controls but tab, after the escapes above are gone.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
const TAB_STOP = 8;

/**
 * One line of a step's output as a terminal would leave it, flattened to plain text: what
 * follows the last carriage return (a progress bar redraws itself that way), without escape
 * sequences or control characters, tabs expanded to 8-column stops.
 */
export function terminalLine(text: string): string {
  const segments = text.split('\r');
  let last = segments[segments.length - 1] ?? '';
  for (let i = segments.length - 1; i >= 0 && last === ''; i--) last = segments[i] ?? '';
  const plain = last.replace(ESCAPE, '').replace(CONTROL, '');
  if (!plain.includes('\t')) return plain;
  let out = '';
  let column = 0;
  for (const char of plain) {
    if (char === '\t') {
      const pad = TAB_STOP - (column % TAB_STOP);
      out += ' '.repeat(pad);
      column += pad;
    } else {
      out += char;
      column += charWidth(char.codePointAt(0) ?? 0);
    }
  }
  return out;
}

/** The columns `text` takes on a terminal: 2 for East Asian wide characters, 0 for combining marks. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char.codePointAt(0) ?? 0);
  return width;
}

/** The longest prefix of `text` that fits in `width` columns (a wide character is never split). */
export function cutToWidth(text: string, width: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    const w = charWidth(char.codePointAt(0) ?? 0);
    if (used + w > width) break;
    used += w;
    end += char.length;
  }
  return text.slice(0, end);
}

// The common ranges of Unicode's East Asian Width W/F and of combining marks (UAX #11);
// a terminal that disagrees about a rare character misplaces one line, never the region.
function charWidth(code: number): number {
  if ((code >= 0x0300 && code <= 0x036f) || (code >= 0x200b && code <= 0x200f) || (code >= 0xfe00 && code <= 0xfe0f)) {
    return 0;
  }
  if (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0x303e) ||
    (code >= 0x3041 && code <= 0x33ff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0xa000 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}
