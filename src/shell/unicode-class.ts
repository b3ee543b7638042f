// Character classes as Go's `unicode` package defines them. BuildKit decides what is a
// variable name and where words split with unicode.IsLetter / IsDigit / IsSpace, which
// differ from JavaScript's `\w` and `\s` (e.g. `\s` includes U+FEFF, Go's IsSpace does
// not, and Go's includes U+0085), so kiln spells them out.

// Compiled once: these only run for characters outside ASCII.
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;

/**
 * Whether a UTF-16 code unit is white space by Go's `unicode.IsSpace`: tab, LF, VT, FF,
 * CR, space, U+0085, U+00A0 and the other White_Space characters (all in the BMP, so a
 * surrogate half is never a space).
 */
export function isSpace(code: number): boolean {
  if (code <= 0xff) {
    return (code >= 0x09 && code <= 0x0d) || code === 0x20 || code === 0x85 || code === 0xa0;
  }
  return (
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** Whether a code point is a letter (general category L), as Go's `unicode.IsLetter`. */
export function isLetter(codePoint: number): boolean {
  if (codePoint < 0x80) {
    return (codePoint >= 0x41 && codePoint <= 0x5a) || (codePoint >= 0x61 && codePoint <= 0x7a);
  }
  return LETTER.test(String.fromCodePoint(codePoint));
}

/** Whether a code point is a decimal digit (category Nd), as Go's `unicode.IsDigit`. */
export function isDigit(codePoint: number): boolean {
  if (codePoint < 0x80) return codePoint >= 0x30 && codePoint <= 0x39;
  return DIGIT.test(String.fromCodePoint(codePoint));
}
