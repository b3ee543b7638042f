/**
 * Go's `unicode.IsSpace` set, which `strings.TrimSpace` strips; the ignore-file reader and
 * the pattern compiler trim with it. It differs from JavaScript's `String.trim`: U+0085
 * (NEL) is space here, and U+FEFF (BOM) is not.
 */
const SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const LEADING = new RegExp(`^${SPACE}+`);
const TRAILING = new RegExp(`${SPACE}+$`);

/** `text` without leading and trailing white space as Go's `strings.TrimSpace` defines it. */
export function trimSpace(text: string): string {
  return text.replace(LEADING, '').replace(TRAILING, '');
}

/** How many UTF-16 code units of white space (as {@link trimSpace} sees it) open `text`. */
export function leadingSpaceLength(text: string): number {
  return LEADING.exec(text)?.[0].length ?? 0;
}
