import type { BigIntStats } from 'node:fs';
import { cleanPath, PatternMatcher } from '../../context/index.ts';
import { InputError, NotFoundError } from '../../errors/index.ts';
import type { CopySelection } from './copy-selection.ts';
import type { Resolution, SourceTree } from './source-tree.ts';
import { ElementPattern, hasWildcards, splitWildcards } from './wildcard.ts';

/** One path a source selects: what the copy reads, and under which name. */
export interface SourceMatch {
  /**
   * Root-relative path as named or matched, its last element not followed: its base name
   * names the copy inside a directory destination (`COPY link /dir/` makes `/dir/link`).
   */
  readonly path: string;
  /** Root-relative path of what is read, symlinks followed as the request says ('' for the root). */
  readonly real: string;
  /** lstat(2) of `real`. */
  readonly stats: BigIntStats;
}

/** One entry of `CopySelection.sources`, resolved. */
export interface SelectedSource {
  /** The source as written. */
  readonly spec: string;
  /** What it selects, in Go's walk order; empty for a wildcard that matches nothing. */
  readonly matches: readonly SourceMatch[];
  /** `--parents`: the pattern a path below each match must match to be copied. */
  readonly include: PatternMatcher | undefined;
  /**
   * `--parents` without wildcards: the path (relative to each match) that must be among the
   * copied ones; the walkers fail with NotFoundError naming `spec` when it is not.
   */
  readonly required: string | undefined;
}

/** A whole selection, resolved: its sources in order and the `--exclude` matcher. */
export interface ResolvedSelection {
  readonly sources: readonly SelectedSource[];
  readonly exclude: PatternMatcher | undefined;
}

/**
 * Resolves what a COPY selects, with the rules of BuildKit's file op (docopy) and fsutil's
 * copy:
 *
 * - a source is cleaned as a path below `/` (`/x` means `x` at the root; `../x` too in a
 *   stage, while in the context a source that climbs above it is an error: nothing outside
 *   the source is ever named);
 * - a source with a wildcard is split at its first wildcard element: the plain part is
 *   resolved (symlinks followed inside the root), the rest matched level by level with
 *   Go's filepath.Match; no match is no error (BuildKit's AllowEmptyWildcard for COPY);
 * - a source without one must exist: {@link NotFoundError} naming it otherwise, saying
 *   whether it is missing or excluded by the ignore file;
 * - each selected path is followed when `followSymlinks` (a dangling link is missing);
 * - with `parents`, a source `base/./rest` (or `rest` below the root) selects `base`, and
 *   `rest` becomes an include pattern below it.
 *
 * @throws NotFoundError naming the source; UsageError for a malformed wildcard; InputError
 * for a malformed `--exclude` or `--parents` pattern
 */
export function selectSources(tree: SourceTree, selection: CopySelection): ResolvedSelection {
  const exclude = selection.excludes.length === 0 ? undefined : new PatternMatcher(selection.excludes);
  const sources = selection.sources.map((spec) => selectOne(tree, spec, selection));
  return { sources, exclude };
}

function selectOne(tree: SourceTree, spec: string, selection: CopySelection): SelectedSource {
  let written = spec;
  let include: PatternMatcher | undefined;
  let required: string | undefined;
  if (selection.parents) {
    // BuildKit (dockerfile2llb dispatchCopy): the first `/./` is the pivot; none means the root.
    const pivot = spec.indexOf('/./');
    written = pivot < 0 ? '/' : spec.slice(0, pivot);
    const rest = pivot < 0 ? spec : spec.slice(pivot + 3);
    const pattern = rootRelative(rest).path;
    // An empty pattern (`./`) selects everything below the base rather than nothing.
    include = pattern === '' ? undefined : new PatternMatcher([pattern]);
    if (pattern !== '' && !hasWildcards(written) && !hasWildcards(rest)) required = pattern;
  }
  const { path, climbed } = rootRelative(written);
  if (climbed && tree.kind === 'context') {
    // The issue's rule (and the classic builder's): a context source never names a path above
    // the context, even where BuildKit would read `../x` as `x`.
    throw new InputError(`source ${JSON.stringify(spec)}: forbidden path outside the build context`, {
      hint: 'COPY and ADD read only the build context: move the file into it, or build from a directory above',
    });
  }
  const followLast = selection.followSymlinks;
  if (!hasWildcards(path)) {
    const resolution = tree.resolve(path, followLast);
    if (resolution.kind === 'absent') throw absentError(tree, spec, path, resolution, climbed);
    return { spec, matches: [{ path, real: resolution.path, stats: resolution.stats }], include, required };
  }
  const { plain, patterns } = splitWildcards(path);
  const base = tree.resolve(plain.join('/'), followLast);
  // fsutil walks the plain part with filepath.Walk, which fails on a missing root.
  if (base.kind === 'absent') throw absentError(tree, spec, plain.join('/'), base, climbed);
  const compiled = patterns.map((pattern) => new ElementPattern(pattern));
  const found: string[] = [];
  if (base.stats.isDirectory()) expand(tree, base.path, compiled, 0, found);
  const matches = found.map((match) => {
    const resolution = tree.resolve(match, followLast);
    if (resolution.kind === 'absent') throw absentError(tree, spec, match, resolution, climbed);
    return { path: match, real: resolution.path, stats: resolution.stats };
  });
  return { spec, matches, include, required };
}

/** Appends to `found` the paths below `dir` matching `patterns[depth…]`, one level each. */
function expand(tree: SourceTree, dir: string, patterns: readonly ElementPattern[], depth: number, found: string[]): void {
  const pattern = patterns[depth] as ElementPattern;
  const last = depth === patterns.length - 1;
  for (const entry of tree.readdir(dir)) {
    if (!pattern.matches(entry.name)) continue;
    const child = dir === '' ? entry.name : `${dir}/${entry.name}`;
    // Symlinks are not walked through (filepath.Walk lstats), only matched.
    const isDirectory = entry.isDirectory();
    if (!tree.present(child, isDirectory)) continue;
    if (last) found.push(child);
    else if (isDirectory) expand(tree, child, patterns, depth + 1, found);
  }
}

/**
 * A source cleaned as BuildKit cleans it (joined to `/`, so a `..` above the root stays at
 * the root), without the leading `/`; `climbed` when a `..` would have left the root.
 */
function rootRelative(spec: string): { readonly path: string; readonly climbed: boolean } {
  const rooted = cleanPath(`/${spec}`);
  const relative = cleanPath(spec.replace(/^\/+/, ''));
  return { path: rooted === '/' ? '' : rooted.slice(1), climbed: relative === '..' || relative.startsWith('../') };
}

function absentError(tree: SourceTree, spec: string, path: string, resolution: Resolution & { kind: 'absent' }, climbed: boolean): NotFoundError {
  const at = resolution.path === path ? '' : ` (${JSON.stringify(`/${resolution.path}`)} is not there)`;
  const left = climbed
    ? `; a source cannot leave ${tree.name}: ${JSON.stringify(spec)} is read as ${JSON.stringify(`/${path}`)}`
    : '';
  if (resolution.why === 'excluded') {
    const rule = tree.filter?.source ?? 'the ignore file';
    return new NotFoundError(
      `source ${JSON.stringify(spec)}: ${JSON.stringify(`/${resolution.path}`)} is excluded by ${rule}${left}`,
      { hint: `remove the rule that excludes it from ${rule}, or add a "!" exception for it`, file: tree.filter?.source },
    );
  }
  return new NotFoundError(`source ${JSON.stringify(spec)}: not found in ${tree.name}${at}${left}`, {
    hint: 'source paths are relative to the root of the build context (or of the --from stage)',
  });
}
