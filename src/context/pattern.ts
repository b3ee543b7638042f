import { InputError, InternalError } from '../errors/index.ts';
import { cleanPath } from './clean-path.ts';
import { isValidGlob } from './glob-syntax.ts';
import { GO_REGEXP_FLAGS, translateGoRegexp } from './go-regexp.ts';
import { trimSpace } from './trim-space.ts';

interface PatternBase {
  /** The pattern as patternmatcher keeps it: trimmed, cleaned, without its `!`. */
  readonly text: string;
  /** True for a `!` exception: a path it matches is included again. */
  readonly exclusion: boolean;
}

/** A pattern without wildcards: matches the path equal to its text. */
export interface ExactPattern extends PatternBase {
  readonly kind: 'exact';
}

/** `dir/**` and the like: matches every path that starts with `prefix` (here `dir/`). */
export interface PrefixPattern extends PatternBase {
  readonly kind: 'prefix';
  readonly prefix: string;
}

/**
 * `**` followed by wildcard-free text: matches every path that ends with `suffix`, and,
 * when `suffix` starts with `/`, the path equal to the rest. `**` alone has an empty
 * suffix and matches everything. Note the test is on the text, not on whole elements:
 * `**foo` matches `barfoo`. `suffix` is undefined for the odd case of a pattern that starts
 * with a byte-order mark, where Go slices into the mark's bytes and nothing can match.
 */
export interface SuffixPattern extends PatternBase {
  readonly kind: 'suffix';
  readonly suffix: string | undefined;
}

/** Any other pattern, compiled once to a regular expression over the whole path. */
export interface RegexpPattern extends PatternBase {
  readonly kind: 'regexp';
  /** The Go regexp patternmatcher builds, kept to compare with it and for debugging. */
  readonly goSource: string;
  readonly regexp: RegExp;
}

/**
 * One compiled ignore pattern. The four kinds are patternmatcher's four match types; the
 * kind decides the semantics, not only the speed (see {@link SuffixPattern}).
 */
export type Pattern = ExactPattern | PrefixPattern | SuffixPattern | RegexpPattern;

// Characters that mean something to Go's regexp but nothing to a glob (Go's shouldEscape set).
const REGEXP_ONLY = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

/**
 * Compiles one pattern as patternmatcher's `New` does for each entry: trims it (Go's white
 * space), returns undefined when that leaves nothing, cleans it as a path, takes a leading
 * `!` as an exception, then checks its syntax with `filepath.Match`'s rules and compiles it.
 *
 * Throws {@link InputError} (without file or range: the caller adds them) for a lone `!`,
 * for a pattern `filepath.Match` rejects, and for a pattern whose regexp Go would fail to
 * compile. patternmatcher reports the last kind lazily, on the first path matched against
 * it (`[z-a]` is a valid glob but not a valid regexp class); kiln reports it here.
 */
export function compilePattern(raw: string): Pattern | undefined {
  let text = trimSpace(raw);
  if (text === '') return undefined;
  text = cleanPath(text);
  let exclusion = false;
  if (text.startsWith('!')) {
    if (text.length === 1) {
      throw new InputError('illegal exclusion pattern: "!"', {
        hint: 'Write the path to include again after the "!", or remove the line.',
      });
    }
    exclusion = true;
    text = text.slice(1);
  }
  if (!isValidGlob(text)) {
    throw new InputError(`syntax error in pattern ${JSON.stringify(text)}`, {
      hint: 'Close every "[" with "]" and escape a literal "[", "]" or "\\" with a backslash.',
    });
  }
  return buildPattern(text, exclusion);
}

/**
 * Whether `pattern` matches `path` itself (parent directories are the matcher's business).
 * `path` is slash-separated and relative to the context root, as given: it is not cleaned.
 */
export function matchPattern(pattern: Pattern, path: string): boolean {
  switch (pattern.kind) {
    case 'exact':
      return path === pattern.text;
    case 'prefix':
      return path.startsWith(pattern.prefix);
    case 'suffix': {
      const { suffix } = pattern;
      if (suffix === undefined) return false;
      // `**/foo` also matches `foo` itself: the `**/` may stand for nothing.
      return path.endsWith(suffix) || (suffix.startsWith('/') && path.length === suffix.length - 1 && suffix.endsWith(path));
    }
    case 'regexp':
      return pattern.regexp.test(path);
    default: {
      const unknown: never = pattern;
      throw new InternalError(`unknown pattern kind ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Builds the Go regexp for a validated glob the way patternmatcher's `compile` does, and
 * picks the match type on the way: exact until a wildcard shows up, prefix for a trailing
 * `**` after plain text, suffix for a leading `**` before plain text.
 */
function buildPattern(text: string, exclusion: boolean): Pattern {
  const chars = Array.from(text);
  // Go reads the pattern with text/scanner, which skips a byte-order mark at the very start.
  const startsWithMark = chars[0] === '\uFEFF';
  let at = startsWithMark ? 1 : 0;
  let kind: Pattern['kind'] = 'exact';
  let source = '^';
  let first = true;
  while (at < chars.length) {
    const ch = chars[at] as string;
    at += 1;
    if (ch === '*' && chars[at] === '*') {
      at += 1;
      // `**/` is read as `**`: the expansion below already ends in a slash.
      if (chars[at] === '/') at += 1;
      if (at < chars.length) {
        // Any run of whole directories, including none.
        source += '(.*/)?';
        kind = 'regexp';
      } else if (kind === 'exact') {
        kind = 'prefix';
      } else {
        source += '.*';
        kind = 'regexp';
      }
      // Set last so that a wildcard after the leading `**` still turns it into a regexp.
      if (first) kind = 'suffix';
    } else if (ch === '*') {
      source += '[^/]*';
      kind = 'regexp';
    } else if (ch === '?') {
      source += '[^/]';
      kind = 'regexp';
    } else if (REGEXP_ONLY.has(ch)) {
      source += `\\${ch}`;
    } else if (ch === '\\') {
      const escaped = chars[at];
      if (escaped === undefined) {
        source += '\\';
      } else {
        // The escaped character reaches Go's regexp as `\c`, with whatever meaning that has there.
        source += `\\${escaped}`;
        at += 1;
        kind = 'regexp';
      }
    } else if (ch === '[' || ch === ']') {
      source += ch;
      kind = 'regexp';
    } else {
      source += ch;
    }
    first = false;
  }

  switch (kind) {
    case 'exact':
      return { kind, text, exclusion };
    case 'prefix':
      return { kind, text, exclusion, prefix: text.slice(0, -2) };
    case 'suffix':
      return { kind, text, exclusion, suffix: startsWithMark ? undefined : text.slice(2) };
    case 'regexp': {
      const goSource = `${source}$`;
      return { kind, text, exclusion, goSource, regexp: compileRegexp(text, goSource) };
    }
    default: {
      const unknown: never = kind;
      throw new InternalError(`unknown pattern kind ${String(unknown)}`);
    }
  }
}

function compileRegexp(text: string, goSource: string): RegExp {
  let jsSource: string;
  try {
    jsSource = translateGoRegexp(goSource);
  } catch (cause) {
    if (!(cause instanceof InputError)) throw cause;
    // Docker fails the same pattern, though only once a path is matched against it.
    throw new InputError(`pattern ${JSON.stringify(text)} does not compile: ${cause.message}`, {
      cause,
      hint: 'Check its ranges and backslash escapes: Docker turns it into the same rejected Go regular expression.',
    });
  }
  try {
    return new RegExp(jsSource, GO_REGEXP_FLAGS);
  } catch (cause) {
    throw new InternalError(`regular expression ${goSource} translated to an invalid ${jsSource}`, { cause });
  }
}
