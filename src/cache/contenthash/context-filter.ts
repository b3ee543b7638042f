import {
  type IgnoreFile,
  type MatchInfo,
  NO_PARENT_INFO,
  PatternMatcher,
  selectIgnoreFile,
} from '../../context/index.ts';

/** What {@link ContextFilter.check} found for one path. */
export interface FilterVerdict {
  /** True when an ignore rule leaves the path out of the context. */
  readonly excluded: boolean;
  /** What the path's children need to be checked ({@link ContextFilter.check}'s `parent`). */
  readonly info: MatchInfo;
}

/**
 * The build context's ignore rules (`.dockerignore`) as COPY and its cache key see them: a
 * path they exclude is not in the context at all, as if BuildKit had never sent it. A
 * directory they exclude is still walked when a `!` exception may include something below
 * it (fsutil's rule, {@link PatternMatcher.mustWalk}), and is then in the context exactly
 * when something below it is.
 *
 * Paths are slash-separated and relative to the context root, without `./` (`src/app.ts`).
 * Immutable; one instance serves every COPY of a build.
 */
export class ContextFilter {
  /** The ignore file the rules came from, for messages (`/ctx/.dockerignore`). */
  readonly source: string;
  /** The rules, as one string: filters with the same key leave the same paths out. */
  readonly key: string;
  readonly #matcher: PatternMatcher;

  /**
   * @param patterns the rules in order, as {@link readIgnorePatterns} returns them
   * @param source names the ignore file in messages
   * @throws InputError for a malformed pattern (see {@link PatternMatcher})
   */
  constructor(patterns: readonly string[], source = '.dockerignore') {
    this.#matcher = new PatternMatcher(patterns);
    this.source = source;
    this.key = JSON.stringify(patterns);
  }

  /** The filter of a parsed ignore file; undefined when there is none or it has no rules. */
  static fromIgnoreFile(ignore: IgnoreFile | undefined): ContextFilter | undefined {
    if (ignore === undefined || ignore.rules.length === 0) return undefined;
    return new ContextFilter(
      ignore.rules.map((rule) => rule.pattern),
      ignore.path,
    );
  }

  /**
   * Whether the rules exclude `path`, given the verdict of its parent directory (its
   * {@link FilterVerdict.info}; {@link NO_PARENT_INFO} for a path at the root, or to check a
   * path from scratch). Walkers pass each directory's info down to its children.
   */
  check(path: string, parent: MatchInfo = NO_PARENT_INFO): FilterVerdict {
    const result = this.#matcher.matchesUsingParentResults(path, parent);
    return { excluded: result.matched, info: result.info };
  }

  /** {@link check} for a path without children: only the answer, allocating nothing. */
  excludes(path: string, parent: MatchInfo = NO_PARENT_INFO): boolean {
    return this.#matcher.matchesUsingParentInfo(path, parent);
  }

  /** For an excluded directory: whether a `!` exception may include something below it. */
  mayIncludeBelow(dir: string): boolean {
    return this.#matcher.mustWalk(dir);
  }
}

/**
 * The filter of the ignore file that applies to a build of `contextDir` with the Dockerfile
 * `dockerfilePath` (src/context's {@link selectIgnoreFile}: `<Dockerfile>.dockerignore`,
 * else the context's `.dockerignore`); undefined when there is none or it has no rules.
 * @throws InputError for an unreadable ignore file or a malformed pattern, naming file and line
 */
export async function loadContextFilter(contextDir: string, dockerfilePath: string | undefined): Promise<ContextFilter | undefined> {
  const selected = await selectIgnoreFile(contextDir, dockerfilePath);
  return ContextFilter.fromIgnoreFile(selected?.ignore);
}
