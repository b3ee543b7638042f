import { InternalError } from '../errors/index.ts';
import { parentPath } from './clean-path.ts';
import { compilePattern, matchPattern, type Pattern } from './pattern.ts';

/**
 * What matching a directory found, per pattern, to pass to its children (patternmatcher's
 * `MatchInfo`). Opaque to callers: made by {@link PatternMatcher.matchesUsingParentResults}
 * of the same matcher, handed back unchanged.
 */
export interface MatchInfo {
  readonly parentMatched: readonly boolean[];
}

/** The answer for one path plus the {@link MatchInfo} its children need. */
export interface MatchResult {
  readonly matched: boolean;
  readonly info: MatchInfo;
}

/** The {@link MatchInfo} of a path at the context root: nothing known about parents. */
export const NO_PARENT_INFO: MatchInfo = Object.freeze({ parentMatched: Object.freeze([]) });

// fsutil's patternChars on Unix: a pattern with any of these (once a trailing `/**` or `/*`
// is dropped) can match below a directory that is not a literal prefix of it.
const WILDCARD_CHARS = /[*[\]?^\\]/;

/**
 * A list of `.dockerignore` patterns compiled once, with moby/patternmatcher's semantics:
 * `*`, `?`, `[…]` (negated by `^`), `**` for any number of directories, `\` escapes, the
 * last matching pattern wins, `!` patterns are exceptions, and a pattern that matches a
 * directory matches everything below it.
 *
 * Paths are slash-separated and relative to the context root (`src/app.ts`), without a
 * leading `./`; they are taken as given, not cleaned. Immutable after construction and
 * safe to share.
 */
export class PatternMatcher {
  /** The compiled patterns, in order; empty lines and white space are gone. */
  readonly patterns: readonly Pattern[];
  /** Whether any pattern is a `!` exception (patternmatcher's `Exclusions()`). */
  readonly hasExclusions: boolean;
  // fsutil's onlyPrefixExcludeExceptions and the exception prefixes it compares.
  readonly #exceptionsArePrefixes: boolean;
  readonly #exceptionDirs: readonly string[];

  /**
   * Compiles `patterns` as patternmatcher's `New` does (each one trimmed, cleaned, blank
   * ones dropped). Throws {@link InputError} without a file for a lone `!` or a malformed
   * pattern; {@link parseIgnoreFile} reports the same errors with file and line.
   */
  constructor(patterns: readonly string[]) {
    const compiled: Pattern[] = [];
    for (const raw of patterns) {
      const pattern = compilePattern(raw);
      if (pattern !== undefined) compiled.push(pattern);
    }
    this.patterns = Object.freeze(compiled);
    const exceptions = compiled.filter((pattern) => pattern.exclusion).map((pattern) => withoutTrailingGlob(pattern.text));
    this.hasExclusions = exceptions.length > 0;
    this.#exceptionsArePrefixes = exceptions.every((text) => !WILDCARD_CHARS.test(text));
    this.#exceptionDirs = Object.freeze(exceptions.map((text) => `${text}/`));
  }

  /**
   * Whether `path` is matched (excluded, for an ignore file): some pattern matches it or
   * one of its parent directories, and no later exception matches either. patternmatcher's
   * `MatchesOrParentMatches`; it needs nothing from earlier calls, at the cost of testing
   * every parent.
   */
  matchesOrParentMatches(path: string): boolean {
    const parent = parentPath(path);
    let matched = false;
    for (const pattern of this.patterns) {
      // Only a pattern that would change the answer is worth testing.
      if (pattern.exclusion !== matched) continue;
      if (matchPattern(pattern, path) || (parent !== '.' && matchesAnyDirectory(pattern, parent))) {
        matched = !pattern.exclusion;
      }
    }
    return matched;
  }

  /**
   * The same question for a walker, which matched `path`'s parent directory just before
   * and passes its {@link MatchResult.info} (or {@link NO_PARENT_INFO} at the root, which
   * falls back to testing the parents). patternmatcher's `MatchesUsingParentResults`,
   * quirks included: a pattern skipped for the parent because it could not change the
   * answer there counts as not having matched the parent.
   *
   * Allocates the per-pattern info; for a path that has no children use
   * {@link matchesUsingParentInfo}.
   */
  matchesUsingParentResults(path: string, parent: MatchInfo = NO_PARENT_INFO): MatchResult {
    const record = new Array<boolean>(this.patterns.length).fill(false);
    const matched = this.#matchWithParent(path, parent, record);
    return { matched, info: { parentMatched: record } };
  }

  /** {@link matchesUsingParentResults} without the info for children: allocates nothing. */
  matchesUsingParentInfo(path: string, parent: MatchInfo = NO_PARENT_INFO): boolean {
    return this.#matchWithParent(path, parent, undefined);
  }

  /**
   * For a directory this matcher excluded: whether a walker must still descend into it
   * because a `!` exception may include something below it again. BuildKit's fsutil
   * (FilterOpt.ExcludePatterns) answers so: with no exceptions, never; when every
   * exception is a plain path (after dropping a trailing `/**` or `/*`), only when one of
   * them lies under `dir`; when any exception has a wildcard, always. A walked excluded
   * directory is itself sent only if something under it is.
   *
   * `dir` is a slash-separated path relative to the context root, without a trailing slash.
   */
  mustWalk(dir: string): boolean {
    if (!this.hasExclusions) return false;
    if (!this.#exceptionsArePrefixes) return true;
    const dirSlash = `${dir}/`;
    return this.#exceptionDirs.some((exception) => exception.startsWith(dirSlash));
  }

  #matchWithParent(path: string, parent: MatchInfo, record: boolean[] | undefined): boolean {
    const parentMatched = parent.parentMatched;
    const known = parentMatched.length !== 0;
    if (known && parentMatched.length !== this.patterns.length) {
      throw new InternalError(`match info for ${parentMatched.length} patterns passed to a matcher of ${this.patterns.length}`);
    }
    const parentDir = known ? '.' : parentPath(path);
    let matched = false;
    for (let index = 0; index < this.patterns.length; index += 1) {
      const pattern = this.patterns[index] as Pattern;
      let match = known && parentMatched[index] === true;
      if (!match) {
        if (pattern.exclusion !== matched) continue;
        match = matchPattern(pattern, path) || (parentDir !== '.' && matchesAnyDirectory(pattern, parentDir));
      }
      if (record !== undefined) record[index] = match;
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }
}

/** Whether `pattern` matches `dir` or one of the directories above it (`a`, `a/b`, …). */
function matchesAnyDirectory(pattern: Pattern, dir: string): boolean {
  for (let slash = dir.indexOf('/'); slash !== -1; slash = dir.indexOf('/', slash + 1)) {
    if (matchPattern(pattern, dir.slice(0, slash))) return true;
  }
  return matchPattern(pattern, dir);
}

function withoutTrailingGlob(text: string): string {
  let trimmed = text.endsWith('/**') ? text.slice(0, -3) : text;
  trimmed = trimmed.endsWith('/*') ? trimmed.slice(0, -2) : trimmed;
  return trimmed;
}
