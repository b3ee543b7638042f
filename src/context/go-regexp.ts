import { InputError } from '../errors/index.ts';

/**
 * The flags a source from {@link translateGoRegexp} must be compiled with: `v` makes the
 * expression match whole code points, as Go's matcher matches runes, and allows the nested
 * classes the translation uses for Go's Perl, POSIX and Unicode classes.
 */
export const GO_REGEXP_FLAGS = 'v';

/**
 * Translates a Go `regexp` (RE2 syntax, the `syntax.Perl` flags `regexp.Compile` uses) into
 * a JavaScript source with the same meaning, for {@link GO_REGEXP_FLAGS}.
 *
 * Covers what patternmatcher's glob compiler can emit, which is more than it means to:
 * a backslash in a pattern passes the next character to Go's regexp unchanged, so `\d`,
 * `\n`, `\x41`, `\pL`, `\b` and `\Q…` keep their regexp meaning, and `*` or `?` inside
 * `[…]` put their expansion (`[^/]*`) inside the class. Go's meaning is kept for all of
 * these, including its differences from JavaScript: `.` does not match `\n` but does match
 * `\r`; `\s` and `[:space:]` are ASCII; `\pC` has no unassigned code points.
 *
 * Throws {@link InputError} (no file) where Go's compiler reports an error: an unknown or
 * non-ASCII escape, a backreference, an inverted class range, an unknown class name, a
 * missing `]` or `)`, a repetition of nothing or of a repetition. Braced repeats
 * (`a{2}`), flag groups (`(?i)`) and alternation inside patterns cannot come from
 * patternmatcher (it escapes `{`, `}`, `(`, `)` and `|`); a raw brace is taken as a
 * literal and a `(?` is rejected.
 */
export function translateGoRegexp(source: string): string {
  return new GoRegexpTranslator(Array.from(source)).translate();
}

type Ranges = readonly (readonly [number, number])[];

const DIGIT: Ranges = [[0x30, 0x39]];
const WORD: Ranges = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];

// Go's perlGroup: ASCII only, and `\s` leaves out `\v`.
const PERL_CLASSES: ReadonlyMap<string, Ranges> = new Map([
  ['d', DIGIT],
  ['s', [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]]],
  ['w', WORD],
]);

// Go's posixGroup (regexp/syntax/perl_groups.go).
const POSIX_CLASSES: ReadonlyMap<string, Ranges> = new Map<string, Ranges>([
  ['alnum', [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]]],
  ['alpha', [[0x41, 0x5a], [0x61, 0x7a]]],
  ['ascii', [[0x00, 0x7f]]],
  ['blank', [[0x09, 0x09], [0x20, 0x20]]],
  ['cntrl', [[0x00, 0x1f], [0x7f, 0x7f]]],
  ['digit', DIGIT],
  ['graph', [[0x21, 0x7e]]],
  ['lower', [[0x61, 0x7a]]],
  ['print', [[0x20, 0x7e]]],
  ['punct', [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]]],
  ['space', [[0x09, 0x0d], [0x20, 0x20]]],
  ['upper', [[0x41, 0x5a]]],
  ['word', WORD],
  ['xdigit', [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]],
]);

// The one-letter names `\pX` can use: Go's general categories. Go's C has no Cn
// (unassigned), which JavaScript's \p{C} includes, so it is spelt out.
const UNICODE_CATEGORIES: ReadonlyMap<string, string> = new Map([
  ['C', '\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}'],
  ['L', '\\p{L}'],
  ['M', '\\p{M}'],
  ['N', '\\p{N}'],
  ['P', '\\p{P}'],
  ['S', '\\p{S}'],
  ['Z', '\\p{Z}'],
]);

type Last = 'none' | 'atom' | 'assertion' | 'repeat';

class GoRegexpTranslator {
  readonly #chars: readonly string[];
  #at = 0;

  constructor(chars: readonly string[]) {
    this.#chars = chars;
  }

  translate(): string {
    const chars = this.#chars;
    let out = '';
    let depth = 0;
    let last: Last = 'none';
    let assertionStart = 0;
    while (this.#at < chars.length) {
      const ch = chars[this.#at] as string;
      switch (ch) {
        case '(':
          if (chars[this.#at + 1] === '?') this.#fail('flag groups are not supported');
          out += '(?:';
          depth += 1;
          this.#at += 1;
          last = 'none';
          break;
        case ')':
          if (depth === 0) this.#fail('unexpected )');
          out += ')';
          depth -= 1;
          this.#at += 1;
          last = 'atom';
          break;
        case '|':
          out += '|';
          this.#at += 1;
          last = 'none';
          break;
        case '*':
        case '+':
        case '?': {
          if (last === 'none') this.#fail(`missing argument to repetition operator: ${ch}`);
          if (last === 'repeat') this.#fail(`invalid nested repetition operator: ${ch}`);
          // Go lets an assertion repeat; JavaScript only lets a group around one.
          if (last === 'assertion') out = `${out.slice(0, assertionStart)}(?:${out.slice(assertionStart)})`;
          out += ch;
          this.#at += 1;
          if (chars[this.#at] === '?') {
            out += '?';
            this.#at += 1;
          }
          last = 'repeat';
          break;
        }
        case '[':
          out += this.#readClass();
          last = 'atom';
          break;
        case '.':
          // Go's `.` stops only at \n (no `s` flag); JavaScript's also stops at \r, U+2028, U+2029.
          out += '[^\\n]';
          this.#at += 1;
          last = 'atom';
          break;
        case '^':
        case '$':
          // Without Go's `m` flag these are text anchors, as in JavaScript without `m`.
          assertionStart = out.length;
          out += ch;
          last = 'assertion';
          this.#at += 1;
          break;
        case '\\': {
          const next = chars[this.#at + 1];
          if (next === 'A' || next === 'z' || next === 'b' || next === 'B') {
            assertionStart = out.length;
            out += next === 'A' ? '^' : next === 'z' ? '$' : `\\${next}`;
            last = 'assertion';
            this.#at += 2;
          } else if (next === 'C') {
            this.#fail('invalid escape sequence: \\C');
          } else if (next === 'Q') {
            // \Q…\E: everything up to \E (or the end) is literal text.
            this.#at += 2;
            while (this.#at < chars.length && !(chars[this.#at] === '\\' && chars[this.#at + 1] === 'E')) {
              out += literal((chars[this.#at] as string).codePointAt(0) as number);
              this.#at += 1;
              last = 'atom';
            }
            if (this.#at < chars.length) this.#at += 2;
          } else {
            out += this.#readClassEscape() ?? literal(this.#readEscape());
            last = 'atom';
          }
          break;
        }
        default:
          // Includes a raw `]`, `{` and `}`: literals in Go when they open nothing.
          out += literal(ch.codePointAt(0) as number);
          this.#at += 1;
          last = 'atom';
      }
    }
    if (depth > 0) this.#fail('missing closing )');
    return out;
  }

  /** `[…]` at the cursor, Go's parseClass; returns a JavaScript class. */
  #readClass(): string {
    const chars = this.#chars;
    const open = this.#at;
    this.#at += 1;
    let negated = false;
    if (chars[this.#at] === '^') {
      negated = true;
      this.#at += 1;
    }
    let body = '';
    // A `]` straight after `[` or `[^` is a member, not the end.
    let first = true;
    while (this.#at >= chars.length || chars[this.#at] !== ']' || first) {
      if (this.#at >= chars.length) this.#fail(`missing closing ]: ${chars.slice(open).join('')}`);
      first = false;
      const posix = this.#readPosixClass();
      if (posix !== undefined) {
        body += posix;
        continue;
      }
      const escape = this.#readClassEscape();
      if (escape !== undefined) {
        body += escape;
        continue;
      }
      const rangeStart = this.#at;
      const lo = this.#readClassChar();
      let hi = lo;
      if (chars.length - this.#at >= 2 && chars[this.#at] === '-' && chars[this.#at + 1] !== ']') {
        this.#at += 1;
        hi = this.#readClassChar();
        if (hi < lo) {
          this.#fail(`invalid character class range: ${chars.slice(rangeStart, this.#at).join('')}`);
        }
      }
      body += rangeSource(lo, hi);
    }
    this.#at += 1;
    return `[${negated ? '^' : ''}${body}]`;
  }

  /** `[:name:]` or `[:^name:]` at the cursor inside a class, or undefined. */
  #readPosixClass(): string | undefined {
    const chars = this.#chars;
    if (chars[this.#at] !== '[' || chars[this.#at + 1] !== ':' || chars.length - this.#at <= 2) return undefined;
    // Like Go, the name runs to the next `:]` wherever it is.
    let close = this.#at + 2;
    while (close + 1 < chars.length && !(chars[close] === ':' && chars[close + 1] === ']')) close += 1;
    if (close + 1 >= chars.length) return undefined;
    const spelled = chars.slice(this.#at, close + 2).join('');
    const inner = spelled.slice(2, -2);
    const negated = inner.startsWith('^');
    const ranges = POSIX_CLASSES.get(negated ? inner.slice(1) : inner);
    if (ranges === undefined) this.#fail(`invalid character class range: ${spelled}`);
    this.#at = close + 2;
    return classSource(ranges, negated);
  }

  /** A Perl (`\d`) or Unicode (`\pL`) class escape at the cursor, or undefined. */
  #readClassEscape(): string | undefined {
    const chars = this.#chars;
    if (chars[this.#at] !== '\\') return undefined;
    const letter = chars[this.#at + 1];
    if (letter === 'p' || letter === 'P') {
      // patternmatcher escapes `{`, so only the one-letter form `\pL` can reach here.
      const name = chars[this.#at + 2] ?? '';
      const category = UNICODE_CATEGORIES.get(name);
      if (category === undefined) this.#fail(`invalid character class range: \\${letter}${name}`);
      this.#at += 3;
      return `[${letter === 'P' ? '^' : ''}${category}]`;
    }
    const lower = letter?.toLowerCase() ?? '';
    const ranges = PERL_CLASSES.get(lower);
    if (ranges === undefined) return undefined;
    this.#at += 2;
    return classSource(ranges, letter !== lower);
  }

  #readClassChar(): number {
    const ch = this.#chars[this.#at] as string;
    if (ch === '\\') return this.#readEscape();
    this.#at += 1;
    return ch.codePointAt(0) as number;
  }

  /** A single-character escape at the cursor (Go's parseEscape); returns its code point. */
  #readEscape(): number {
    const chars = this.#chars;
    const start = this.#at;
    const ch = chars[this.#at + 1];
    if (ch === undefined) this.#fail('trailing backslash at end of expression');
    this.#at += 2;
    const code = ch.codePointAt(0) as number;
    const invalid = (): never => this.#fail(`invalid escape sequence: ${chars.slice(start, this.#at).join('')}`);
    if (code < 0x80 && !/[0-9A-Za-z]/.test(ch)) return code;
    switch (ch) {
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
        // A lone digit would be a backreference, which RE2 lacks; two or more are octal.
        if (!isOctal(chars[this.#at])) return invalid();
        return this.#readOctal(code - 0x30);
      case '0':
        return this.#readOctal(0);
      case 'x':
        return this.#readHex() ?? invalid();
      case 'a':
        return 0x07;
      case 'f':
        return 0x0c;
      case 'n':
        return 0x0a;
      case 'r':
        return 0x0d;
      case 't':
        return 0x09;
      case 'v':
        return 0x0b;
      default:
        return invalid();
    }
  }

  #readOctal(first: number): number {
    let value = first;
    for (let more = 0; more < 2 && isOctal(this.#chars[this.#at]); more += 1) {
      value = value * 8 + Number(this.#chars[this.#at]);
      this.#at += 1;
    }
    return value;
  }

  /** After `\x`: two hex digits, or `{digits}`; undefined when malformed. */
  #readHex(): number | undefined {
    const chars = this.#chars;
    if (this.#at >= chars.length) return undefined;
    const first = chars[this.#at] as string;
    this.#at += 1;
    if (first === '{') {
      let value = 0;
      let digits = 0;
      for (;;) {
        const ch = chars[this.#at];
        if (ch === undefined) return undefined;
        this.#at += 1;
        if (ch === '}') break;
        const digit = hexValue(ch);
        if (digit < 0) return undefined;
        value = value * 16 + digit;
        if (value > 0x10ffff) return undefined;
        digits += 1;
      }
      return digits === 0 ? undefined : value;
    }
    const second = chars[this.#at];
    this.#at += 1;
    const hi = hexValue(first);
    const lo = second === undefined ? -1 : hexValue(second);
    return hi < 0 || lo < 0 ? undefined : hi * 16 + lo;
  }

  #fail(reason: string): never {
    throw new InputError(`${reason} in regular expression ${this.#chars.join('')}`);
  }
}

function isOctal(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '7';
}

function hexValue(ch: string): number {
  return /^[0-9A-Fa-f]$/.test(ch) ? Number.parseInt(ch, 16) : -1;
}

/** One code point as JavaScript pattern text that means only itself, in or out of a class. */
function literal(code: number): string {
  const isWordChar =
    (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f;
  return isWordChar ? String.fromCodePoint(code) : `\\u{${code.toString(16)}}`;
}

function rangeSource(lo: number, hi: number): string {
  return lo === hi ? literal(lo) : `${literal(lo)}-${literal(hi)}`;
}

function classSource(ranges: Ranges, negated: boolean): string {
  return `[${negated ? '^' : ''}${ranges.map(([lo, hi]) => rangeSource(lo, hi)).join('')}]`;
}
