/**
 * Whether `pattern` is well-formed for Go's `path/filepath.Match` on Unix. patternmatcher
 * validates every pattern by calling `filepath.Match(pattern, ".")` and keeping only the
 * error; that call checks the syntax of every chunk of the pattern whatever the name, so
 * this checks the same rules directly:
 *
 * - a backslash escapes the next character and must not end the pattern;
 * - `[` opens a class, optionally negated by `^` (not by `!`, which is then an ordinary
 *   member); it needs at least one member or range before its `]`; a member is any
 *   character but an unescaped `-` or `]`, and `\` escapes one; `lo-hi` is a range (an
 *   inverted range is allowed and matches nothing); the class must be closed.
 */
export function isValidGlob(pattern: string): boolean {
  const end = pattern.length;
  let at = 0;
  while (at < end) {
    const ch = pattern[at];
    if (ch === '\\') {
      if (at + 1 >= end) return false;
      at += 1 + codePointWidth(pattern, at + 1);
    } else if (ch === '[') {
      at += 1;
      if (pattern[at] === '^') at += 1;
      let members = 0;
      for (;;) {
        if (pattern[at] === ']' && members > 0) {
          at += 1;
          break;
        }
        at = classMemberEnd(pattern, at);
        if (at < 0) return false;
        if (pattern[at] === '-') {
          at = classMemberEnd(pattern, at + 1);
          if (at < 0) return false;
        }
        members += 1;
      }
    } else {
      at += 1;
    }
  }
  return true;
}

/**
 * Where one class member starting at `at` ends, or -1 when it is malformed. Like Go's
 * `getEsc`, a member must be followed by something: the class must go on to its `]`.
 */
function classMemberEnd(pattern: string, at: number): number {
  const ch = pattern[at];
  if (ch === undefined || ch === '-' || ch === ']') return -1;
  let next = at;
  if (ch === '\\') {
    next += 1;
    if (next >= pattern.length) return -1;
  }
  next += codePointWidth(pattern, next);
  return next >= pattern.length ? -1 : next;
}

function codePointWidth(text: string, at: number): number {
  const cp = text.codePointAt(at);
  return cp !== undefined && cp > 0xffff ? 2 : 1;
}
