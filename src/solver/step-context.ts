import type { CacheKeyInput, CacheRecords, ContextFilter, LayerRef, StatCache } from '../cache/index.ts';
import type { ContentStore, Digest } from '../content/index.ts';
import type { ExecOp, FileOp, Op, Vertex } from '../graph/index.ts';
import type { Solved, SolvedFs } from './solved.ts';
import type { Executor, RunResources } from '../sandbox/index.ts';
import type { Snapshotter } from '../snapshot/index.ts';
import type { ProgressSink } from './progress-event.ts';

/**
 * Runs one kind of step: its cache key's named inputs (computed before it runs; with
 * `contentOfStates`, what it reads from other stages by content), and the step itself, which
 * returns its layer.
 */
export interface OpRunner<O extends Op> {
  cacheInputs(op: O, inputs: readonly Solved[], context: StepContext, contentOfStates: boolean): Promise<CacheKeyInput['inputs']>;
  run(op: O, inputs: readonly Solved[], context: StepContext): Promise<LayerRef>;
  /**
   * Called for every step as the solve begins, with the inputs known then (build contexts;
   * undefined for the others): starts what its key will need that the steps before it do not
   * change (hashing the context), through {@link StepContext.memo}, so that it runs beside them.
   */
  prepare?(op: O, inputs: readonly (Solved | undefined)[], context: StepContext): void;
  /**
   * Called when input `index` of a step is solved to a file system that its own step made in
   * this solve ({@link SolvedFs.made}): starts what the step's key will need of it (hashing
   * what a COPY --from selects there), beside the steps before the step. Returns the work,
   * which the solve waits for before it ends.
   */
  prepareState?(op: O, index: number, input: SolvedFs, context: StepContext): Promise<unknown> | undefined;
}

/** What the solver is built from (injected: tests pass fakes). */
export interface SolverDeps {
  /** The runners of RUN and file steps; the real ones (sandbox, snapshots) by default. */
  readonly runners?: { readonly exec: OpRunner<ExecOp>; readonly file: OpRunner<FileOp> };
  readonly snapshotter: Snapshotter;
  readonly executor: Executor;
  readonly content: ContentStore;
  readonly cache: CacheRecords;
  /** The directory and ignore filter of a named build context (`context`); undefined when the build has none. */
  readonly contextSource?: (name: string) => { readonly dir: string; readonly filter: ContextFilter | undefined } | undefined;
  /** Remembers context files' digests by metadata, so unchanged files are not read again. */
  readonly statCache?: StatCache;
  /** The layers of a stored image, by image ID (FROM). */
  readonly imageLayers: (id: Digest, signal?: AbortSignal) => Promise<readonly LayerRef[]>;
  /** Keeps a blob that a hit reuses from collection while the build is live. */
  readonly touchBlob?: (digest: Digest) => Promise<void>;
  /** Where overlay mounts for file steps are made (under the kiln root). */
  readonly mountsDir: string;
  /** Where cache mounts (`RUN --mount=type=cache`) live (under the kiln root). */
  readonly cacheMountsDir: string;
  /** The value of a build secret (`--secret id=…`), or undefined when the build has none of that id. */
  readonly secrets?: (id: string) => Promise<Buffer | undefined>;
  /** The agent socket forwarded for an SSH id (`--ssh id=SOCKET`), or undefined. */
  readonly sshAgents?: (id: string) => string | undefined;
  /**
   * Takes an exclusive lock file shared by every kiln process (cache mounts with
   * sharing=locked wait for it; sharing=private takes it only when free: `wait` false, and
   * undefined comes back when another holds it). Resolves to the release.
   */
  readonly lockFile?: (path: string, wait: boolean, signal?: AbortSignal) => Promise<(() => Promise<void>) | undefined>;
  /** Scratch space for a step's private files (heredoc scripts). */
  readonly tempDir: () => Promise<string>;
}

/** Options of one solve. */
export interface SolveOptions {
  readonly signal?: AbortSignal;
  readonly progress?: ProgressSink;
  /** How many steps run at once; 16 by default (steps mostly wait, so not the core count). */
  readonly maxParallelism?: number;
  /** Vertices whose cache is ignored (`--no-cache` is all of them). */
  readonly noCache?: (vertex: Vertex) => boolean;
  /** cgroup limits of every RUN. */
  readonly resources?: RunResources;
  /** `--allow` entitlements. */
  readonly allow?: { readonly networkHost?: boolean; readonly securityInsecure?: boolean };
  /** SOURCE_DATE_EPOCH (seconds) with rewrite-timestamp: clamps mtimes in new layers. */
  readonly sourceDateEpoch?: number;
  readonly rewriteTimestamp?: boolean;
}

/** What a runner gets for one step. */
export interface StepContext {
  readonly deps: SolverDeps;
  readonly options: SolveOptions;
  readonly vertex: Vertex;
  readonly signal: AbortSignal | undefined;
  /** Sends output of the step as progress. */
  readonly log: (stream: 1 | 2, data: string) => void;
  /** Words for why a named cache input changed (`file src/a.js changed`), for the miss explanation. */
  readonly explain: (input: string, words: string) => void;
  /** The committed snapshot holding `layers` (unpacked once per process and stack). */
  readonly snapshotOf: (layers: readonly LayerRef[]) => Promise<string | undefined>;
  /** `compute()` once per solve and `key`: what a runner's prepare started, its key then awaits. */
  readonly memo: <T>(key: string, compute: () => Promise<T>) => Promise<T>;
}
