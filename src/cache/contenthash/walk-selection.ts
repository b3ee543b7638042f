import type { BigIntStats } from 'node:fs';
import { type MatchInfo, NO_PARENT_INFO, type PatternMatcher } from '../../context/index.ts';
import { NotFoundError } from '../../errors/index.ts';
import type { SelectedSource, SourceMatch } from './select-sources.ts';
import type { DirectoryListing } from '../../native/index.ts';
import { parentOf, type SourceTree } from './source-tree.ts';

/**
 * One step of {@link walkMatch}. `rel` is relative to the match ('' for the match itself),
 * `path` the host path read, `stats` its lstat(2).
 *
 * - `dir`: a directory to make. `implied` when only the parent of something selected
 *   (`--parents`, an include or exclude exception): fsutil makes it when it reaches the
 *   first selected entry below it, with the source directory's metadata.
 * - `leave`: every entry below that directory has been given; its metadata can be set.
 * - `node`: anything else (file, symlink, FIFO, device, socket).
 */
export type WalkEvent =
  | { readonly kind: 'dir'; readonly rel: string; readonly path: string; readonly stats: BigIntStats; readonly implied: boolean }
  | { readonly kind: 'leave'; readonly rel: string; readonly path: string; readonly stats: BigIntStats }
  | { readonly kind: 'node'; readonly rel: string; readonly path: string; readonly stats: BigIntStats };

/**
 * The events of a walk with {@link KnownListings}, besides {@link WalkEvent}'s:
 * - `run`: what the consumer made of a run of a directory's entries when it walked them
 *   before, given back in their place;
 * - `cut`: in a directory walked entry by entry, the end of a run: before each directory
 *   entry, and after the last entry (`last`).
 */
export type KnownWalkEvent = WalkEvent | { readonly kind: 'run'; readonly run: Uint8Array } | { readonly kind: 'cut'; readonly last: boolean };

/**
 * What a walk's consumer kept of directories it walked before, so that a directory listed
 * exactly as then is not walked entry by entry again. A directory's listing is cut into runs
 * by its directory entries: the entries before the first directory entry, those between each
 * two, and those after the last. For a directory it knows, `runs` gives back what the consumer
 * made of each run (one more than the directory entries), which the walk gives as `run` events
 * in their place; its directory entries are walked as ever. For one it does not know
 * (undefined), the walk gives each entry, with a `cut` event where each run ends, so that the
 * consumer can keep what it makes of them.
 *
 * A walk asks only when it selects everything the context holds (no `--exclude` and no
 * `--parents`): each entry of a run is then given exactly when the ignore rules leave it in,
 * which the listing and the directory's place decide.
 */
export interface KnownListings {
  /** `path`: the directory's host path; `rel`: below the match; `count`: how many runs the listing has, which the answer must have. */
  runs(path: string, rel: string, listing: DirectoryListing, count: number): readonly Uint8Array[] | undefined;
}

const CUT: KnownWalkEvent = { kind: 'cut', last: false };
const CUT_LAST: KnownWalkEvent = { kind: 'cut', last: true };

interface Pending {
  readonly rel: string;
  readonly path: string;
  readonly stats: BigIntStats;
  emitted: boolean;
}

/** A directory being walked: its level, its entries and the next to give. */
interface Frame {
  readonly level: Level;
  readonly listing: DirectoryListing;
  /** By entry, for a subdirectory the walk does not leave out: what becomes of it. */
  readonly plans: readonly (DirectoryPlan | undefined)[];
  /** The indexes of the directory entries, in order. */
  readonly directories: readonly number[];
  /** From {@link KnownListings}: the runs given in place of the entries that are not directories. */
  readonly runs: readonly Uint8Array[] | undefined;
  /** Whether the walk gives `cut` events (KnownListings did not know the listing). */
  readonly cuts: boolean;
  next: number;
  /** Runs given so far. */
  run: number;
  /** The directory's pending record (undefined for the match itself). */
  readonly dir: Pending | undefined;
}

/** A subdirectory the walk makes (`selected`) or walks only for what may be selected below it, as a level of its own. */
interface DirectoryPlan extends Level {
  readonly selected: boolean;
  /** Whether the walk goes below it (an excluded directory is not entered unless exceptions may select something in it). */
  readonly enter: boolean;
}

interface Level {
  readonly real: string;
  readonly rel: string;
  readonly context: MatchInfo;
  readonly include: MatchInfo;
  readonly exclude: MatchInfo;
}

/**
 * Walks what one match of a COPY source copies, in the order fsutil's copier visits it
 * (directory entries sorted bytewise, depth first), and with its filters:
 *
 * - the context's ignore rules: an excluded entry is not there; an excluded directory that
 *   holds included entries is (see {@link SourceTree.holdsIncluded});
 * - `exclude` (`--exclude`) and `include` (`--parents`), matched against the path below the
 *   match with patternmatcher's parent-aware matching: an excluded directory is skipped
 *   whole unless a `!` exception may include something in it, a directory not selected
 *   itself is walked and made only as the parent of something selected.
 *
 * Synchronous: the caller awaits its own work between events. A directory's `leave` comes
 * after everything below it. Throws NotFoundError naming the source when `--parents` named
 * a path that selected nothing. `known`, when given, stands in for directories listed as
 * the consumer saw them before (see {@link KnownListings}).
 */
export function walkMatch(
  tree: SourceTree,
  source: SelectedSource,
  match: SourceMatch,
  exclude: PatternMatcher | undefined,
): Generator<WalkEvent, void, undefined>;
export function walkMatch(
  tree: SourceTree,
  source: SelectedSource,
  match: SourceMatch,
  exclude: PatternMatcher | undefined,
  known: KnownListings | undefined,
): Generator<KnownWalkEvent, void, undefined>;
export function* walkMatch(
  tree: SourceTree,
  source: SelectedSource,
  match: SourceMatch,
  exclude: PatternMatcher | undefined,
  known?: KnownListings,
): Generator<KnownWalkEvent, void, undefined> {
  const top = tree.abs(match.real);
  if (!match.stats.isDirectory()) {
    yield { kind: 'node', rel: '', path: top, stats: match.stats };
    return;
  }
  yield { kind: 'dir', rel: '', path: top, stats: match.stats, implied: false };
  const walker = new MatchWalker(tree, source.include, exclude, known);
  yield* walker.children({
    real: match.real,
    rel: '',
    context: walker.contextInfo(match.real),
    include: NO_PARENT_INFO,
    exclude: NO_PARENT_INFO,
  });
  yield { kind: 'leave', rel: '', path: top, stats: match.stats };
  if (source.required !== undefined && !walker.selectedAny) {
    throw new NotFoundError(`source ${JSON.stringify(source.spec)}: not found in ${tree.name}`, {
      hint: 'with --parents, a path without wildcards must exist',
    });
  }
}

class MatchWalker {
  readonly #tree: SourceTree;
  readonly #include: PatternMatcher | undefined;
  readonly #exclude: PatternMatcher | undefined;
  /** Whether an excluded directory may hold exceptions, so must be walked. */
  readonly #walkExcluded: boolean;
  /** Directories walked but not yet made: made when something below them is selected. */
  readonly #pending: Pending[] = [];
  /** How many of #pending are not emitted yet: most entries have none to flush, and skip it. */
  #unemitted = 0;
  /** Asked for every directory, when the walk selects all the context holds. */
  readonly #known: KnownListings | undefined;
  /** Whether anything below the match was selected (not only implied). */
  selectedAny = false;

  constructor(tree: SourceTree, include: PatternMatcher | undefined, exclude: PatternMatcher | undefined, known: KnownListings | undefined) {
    this.#tree = tree;
    this.#include = include;
    this.#exclude = exclude;
    this.#walkExcluded = exclude?.hasExclusions ?? false;
    this.#known = include === undefined && exclude === undefined ? known : undefined;
  }

  /** The ignore rules' info of a directory of the tree, checked from the root. */
  contextInfo(real: string): MatchInfo {
    const filter = this.#tree.filter;
    if (filter === undefined || real === '') return NO_PARENT_INFO;
    return filter.check(real, this.contextInfo(parentOf(real))).info;
  }

  /**
   * Everything below the directory `top` describes, depth first. One generator for the whole
   * walk, its directories on a stack of its own: a generator per directory passed every
   * event up through each level above it (four resumes for a file three levels down).
   */
  *children(top: Level): Generator<KnownWalkEvent, void, undefined> {
    const tree = this.#tree;
    const filter = tree.filter;
    const frames: Frame[] = [this.#frame(top, undefined)];
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const listing = frame.listing;
      // A known listing's entries up to its next directory entry are given as one run.
      if (frame.runs !== undefined) frame.next = frame.directories[frame.run] ?? listing.length;
      if (frame.next === listing.length) {
        frames.pop();
        if (frame.runs !== undefined) yield* this.#run(frame);
        else if (frame.cuts) yield CUT_LAST;
        const dir = frame.dir;
        if (dir !== undefined) yield* this.#leave(dir);
        continue;
      }
      const index = frame.next++;
      if (listing.isDirectory(index)) {
        if (frame.runs !== undefined) yield* this.#run(frame);
        else if (frame.cuts) yield CUT;
        const plan = frame.plans[index];
        if (plan === undefined) continue;
        const stats = listing.stats(index);
        const { real, rel } = plan;
        const path = tree.abs(real);
        const pending: Pending = { rel, path, stats, emitted: plan.selected };
        if (plan.selected) {
          if (this.#unemitted > 0) yield* this.#flush();
          this.selectedAny = true;
          yield { kind: 'dir', rel, path, stats, implied: false };
        } else {
          this.#unemitted += 1;
        }
        this.#pending.push(pending);
        if (plan.enter) frames.push(this.#frame(plan, pending));
        else yield* this.#leave(pending);
        continue;
      }
      const name = listing.names[index]!;
      const level = frame.level;
      const real = level.real === '' ? name : `${level.real}/${name}`;
      if (filter !== undefined && filter.excludes(real, level.context)) continue;
      const rel = level.rel === '' ? name : `${level.rel}/${name}`;
      // fsutil's copier: include patterns first, then excludes, which win.
      if (this.#include !== undefined && !this.#include.matchesUsingParentResults(rel, level.include).matched) continue;
      if (this.#exclude !== undefined && this.#exclude.matchesUsingParentResults(rel, level.exclude).matched) continue;
      if (this.#unemitted > 0) yield* this.#flush();
      this.selectedAny = true;
      yield { kind: 'node', rel, path: tree.abs(real), stats: listing.stats(index) };
    }
  }

  /** The next of a known listing's runs (nothing for an empty one). */
  *#run(frame: Frame): Generator<KnownWalkEvent, void, undefined> {
    const run = frame.runs![frame.run++]!;
    if (run.length === 0) return;
    // Known only when the walk selects everything: nothing is implied, no directory waits to be made.
    this.selectedAny = true;
    yield { kind: 'run', run };
  }

  /**
   * The frame of a directory the walk enters: its entries, and what becomes of each
   * subdirectory, decided now so that those it will enter are read ahead (in the order it
   * enters them) and those it leaves out are never read.
   */
  #frame(level: Level, dir: Pending | undefined): Frame {
    const tree = this.#tree;
    const listing = tree.list(level.real);
    const plans: (DirectoryPlan | undefined)[] = new Array<DirectoryPlan | undefined>(listing.length);
    const directories: number[] = [];
    const ahead: string[] = [];
    for (let index = 0; index < listing.length; index++) {
      if (!listing.isDirectory(index)) continue;
      directories.push(index);
      const plan = this.#plan(level, listing.names[index]!);
      plans[index] = plan;
      if (plan?.enter === true) ahead.push(plan.real);
    }
    tree.prefetch(ahead);
    // One run before each directory entry and one after the last.
    const runs = this.#known?.runs(tree.abs(level.real), level.rel, listing, directories.length + 1);
    if (runs !== undefined && runs.length !== directories.length + 1) throw new Error(`${runs.length} runs for a listing of ${directories.length + 1}`);
    return { level, listing, plans, directories, runs, cuts: this.#known !== undefined && runs === undefined, next: 0, run: 0, dir };
  }

  /** What becomes of subdirectory `name` of `level`; undefined when the walk leaves it out. */
  #plan(level: Level, name: string): DirectoryPlan | undefined {
    const filter = this.#tree.filter;
    const real = level.real === '' ? name : `${level.real}/${name}`;
    const rel = level.rel === '' ? name : `${level.rel}/${name}`;
    let context = NO_PARENT_INFO;
    if (filter !== undefined) {
      const verdict = filter.check(real, level.context);
      context = verdict.info;
      if (verdict.excluded && !(filter.mayIncludeBelow(real) && this.#tree.holdsIncluded(real, context))) return undefined;
    }
    // fsutil's copier: include patterns first, then excludes, which win.
    let selected = true;
    let excluded = false;
    let include = NO_PARENT_INFO;
    let exclude = NO_PARENT_INFO;
    if (this.#include !== undefined) {
      const result = this.#include.matchesUsingParentResults(rel, level.include);
      selected = result.matched;
      include = result.info;
    }
    if (this.#exclude !== undefined) {
      const result = this.#exclude.matchesUsingParentResults(rel, level.exclude);
      exclude = result.info;
      if (result.matched) {
        selected = false;
        excluded = true;
      }
    }
    // Not selected itself, a directory is walked only for what an include or an exception may select below it.
    if (!selected && this.#include === undefined && !this.#walkExcluded) return undefined;
    return { real, rel, context, include, exclude, selected, enter: !excluded || this.#walkExcluded };
  }

  /** Everything below `dir` (the last of #pending) has been given: its `leave`, when it was made. */
  *#leave(dir: Pending): Generator<KnownWalkEvent, void, undefined> {
    this.#pending.pop();
    if (dir.emitted) yield { kind: 'leave', rel: dir.rel, path: dir.path, stats: dir.stats };
    else this.#unemitted -= 1;
  }

  /** Makes the directories above a selected entry that are not made yet, outermost first. */
  *#flush(): Generator<KnownWalkEvent, void, undefined> {
    for (const dir of this.#pending) {
      if (dir.emitted) continue;
      dir.emitted = true;
      this.#unemitted -= 1;
      yield { kind: 'dir', rel: dir.rel, path: dir.path, stats: dir.stats, implied: true };
    }
  }
}
