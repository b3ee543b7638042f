import type { ProcessTiming } from '../time-process.ts';

/**
 * A build tool the suite measures, kiln or a peer (BuildKit, Buildah), behind one shape so
 * that every workload runs each of them the same way, round by round, on the same input.
 *
 * Lifecycle: {@link fresh} before the first build (and before every cold build), then any
 * number of builds, saves and starts on that state, then {@link close} once, on every path.
 * A state left by `fresh` stays on disk until the caller removes the suite's work dir at the
 * end: nothing is deleted while measuring (see bench/build.ts on ext4 and deleted inodes).
 */
export interface Builder {
  /** `kiln`, `BuildKit` or `Buildah`: the name tables and targets use. */
  readonly name: string;
  /** How it runs here (version, storage driver, isolation), for the notes. */
  readonly description: string;
  /** For each layer compression {@link saveImage} can write, the command it runs (in words). */
  readonly saves: Readonly<Partial<Record<LayerCompression, string>>>;
  /**
   * Starts a state with no build cache that holds only `busybox:latest` (untimed work); the
   * builds that follow run on it until the next call.
   */
  fresh(): Promise<void>;
  /**
   * Builds CONTEXT/Dockerfile with `--network=none`, tagged `tag`, on the current state, as a
   * user runs it (one client process, timed). peakRssKiB is the builder's own peak memory
   * where it can be told (a daemon's high-water mark for a daemon). Rejects when the build fails.
   */
  build(context: string, tag: string): Promise<ProcessTiming>;
  /**
   * Writes image `tag` of the current state to `file` (which must not exist) as a tarball
   * with layers of `compression`, which must be one of {@link saves}. `context` is the
   * context `tag` was built from: a builder that exports only as part of a build (kiln,
   * uncompressed) rebuilds it, every step cached.
   */
  saveImage(tag: string, file: string, compression: LayerCompression, context: string): Promise<ProcessTiming>;
  /** Runs `true` in a new container from busybox on the current state; ms from request to exit. */
  startTrue(): Promise<number>;
  /** Stops every process it started and lifts its mounts; its files stay for the caller to remove. */
  close(): Promise<void>;
}

/** The layers of a saved image: gzip-compressed, or plain tar. */
export type LayerCompression = 'gzip' | 'uncompressed';

