/**
 * A pattern the lexer could not turn into a matcher, with the reason in words. Returned
 * rather than thrown so the caller can name the variable and the word in its error.
 */
export interface InvalidPattern {
  readonly kind: 'invalid-pattern';
  readonly reason: string;
}

/** How a pattern matches: `*` as long (greedy) or as short as possible; anchored at the start or anywhere. */
export interface PatternMode {
  readonly greedy: boolean;
  readonly anchored: boolean;
}

// Patterns repeat across instructions and builds (the same ARG default, the same COPY
// path), so compiled matchers are kept. Bounded so a generated Dockerfile cannot grow it
// without limit; dropping everything at the bound is simpler than LRU and just as good here.
const CACHE_LIMIT = 512;
const cache = new Map<string, RegExp | InvalidPattern>();

// Go's `.` does not match "\n" (RE2 without the s flag) but does match "\r", U+2028 and
// U+2029, which JavaScript's `.` refuses; `[^\n]` is the class Go means.
const ANY = '[^\\n]';

// Regex syntax characters that stand for themselves in a shell pattern.
const REGEX_SYNTAX = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

/**
 * Compiles a pattern from `${v#p}`, `${v%p}` or `${v/p/r}` the way BuildKit does:
 * `*` matches any run of characters (except a newline, as in BuildKit), `?` any one
 * character, and a backslash makes `*`, `?` or `\` literal. A backslash before `}` or `/`
 * is dropped (it only kept the character from closing the `${}`). Everything else is
 * literal, including `[...]`: BuildKit has no bracket expressions. A backslash before any
 * other character, or at the end, makes the pattern invalid.
 *
 * The backslash is the pattern escape whatever the Dockerfile's escape character is.
 * Anchored matchers have no `g` flag; unanchored ones have it, so callers can scan with
 * `lastIndex` (and must set it before each use). Results are cached and shared.
 */
export function compileShellPattern(pattern: string, mode: PatternMode): RegExp | InvalidPattern {
  const key = (mode.greedy ? 'G' : 'L') + (mode.anchored ? 'A' : 'U') + pattern;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const compiled = compile(pattern, mode);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

function compile(pattern: string, mode: PatternMode): RegExp | InvalidPattern {
  const star = mode.greedy ? `${ANY}*` : `${ANY}*?`;
  let source = mode.anchored ? '^' : '';
  // BuildKit reads patterns with Go's text/scanner, which skips a leading byte-order mark.
  let i = pattern.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < pattern.length) {
    const ch = pattern.charAt(i);
    if (ch === '*') {
      source += star;
    } else if (ch === '?') {
      source += ANY;
    } else if (ch === '\\') {
      const escaped = pattern.charAt(i + 1);
      if (escaped === '}' || escaped === '/') {
        i++;
        continue;
      }
      if (escaped !== '*' && escaped !== '?' && escaped !== '\\') {
        const shown = escaped === '' ? 'a trailing \\' : `\\${String.fromCodePoint(pattern.codePointAt(i + 1) ?? 0)}`;
        return { kind: 'invalid-pattern', reason: `${shown} is not a valid escape (only \\*, \\? and \\\\ are)` };
      }
      source += `\\${escaped}`;
      i++;
    } else if (REGEX_SYNTAX.has(ch)) {
      source += `\\${ch}`;
    } else {
      source += ch;
    }
    i++;
  }
  return new RegExp(source, mode.anchored ? 'u' : 'gu');
}

/**
 * Reverses a pattern character by character while keeping each backslash escape in front
 * of the character it escapes (`a\*c` → `c\*a`), so that matching the reversed pattern
 * against the reversed value finds the shortest or longest suffix. A backslash that is
 * the last character has nothing to escape and moves to the front like any other.
 */
export function reverseShellPattern(pattern: string): string {
  const chars = Array.from(pattern);
  const units: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '\\' && i + 1 < chars.length) {
      units.push(ch + (chars[i + 1] as string));
      i++;
    } else {
      units.push(ch);
    }
  }
  return units.reverse().join('');
}

/** Reverses a string by code point, so surrogate pairs stay whole. */
export function reverseCodePoints(text: string): string {
  return Array.from(text).reverse().join('');
}
