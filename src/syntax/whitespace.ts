/*
 * Whitespace exactly as BuildKit's Go parser defines it. Go's unicode.IsSpace and
 * JavaScript's \s differ (Go has U+0085 and not U+FEFF), and BuildKit mixes two notions: its
 * `reWhitespace` ([\t\v\f\r ]+) splits the command from its arguments and whitespace-separated
 * arguments, while word parsing and trimming use unicode.IsSpace.
 */
import { isSpace } from '../shell/index.ts';

export { isSpace };

/** BuildKit's reWhitespace as a splitter: runs of tab, VT, FF, CR and space. */
export const BLANKS = /[\t\v\f\r ]+/;

/** Index of the first character at or after `from` that is not {@link isSpace}. */
export function skipSpace(text: string, from = 0): number {
  let i = from;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the last character before `to` that is not {@link isSpace}. */
export function skipSpaceBack(text: string, to = text.length): number {
  let i = to;
  while (i > 0 && isSpace(text.charCodeAt(i - 1))) i--;
  return i;
}

/** strings.TrimSpace, with the offset of what remains. */
export function trimSpace(text: string): { readonly text: string; readonly offset: number } {
  const start = skipSpace(text);
  const end = skipSpaceBack(text);
  return start >= end ? { text: '', offset: start } : { text: text.slice(start, end), offset: start };
}

/**
 * Splits on {@link BLANKS} like Go's regexp.Split(s, n): at most `limit` parts (all when
 * omitted), each with its offset in `text`.
 */
export function splitBlanks(text: string, limit = Infinity): { readonly part: string; readonly offset: number }[] {
  const parts: { part: string; offset: number }[] = [];
  const re = /[\t\v\f\r ]+/g;
  let start = 0;
  for (let m = re.exec(text); m !== null && parts.length < limit - 1; m = re.exec(text)) {
    parts.push({ part: text.slice(start, m.index), offset: start });
    start = m.index + m[0].length;
  }
  parts.push({ part: text.slice(start), offset: start });
  return parts;
}
