/**
 * What one benchmark found: kiln's median, the reference measured in the same run, their
 * ratio, and whether the stated target is met. Plain data, so the harness can print it and
 * write it as JSON alike.
 */
export interface Measurement {
  /** What was measured, e.g. `throughput` or `start-up`. */
  readonly name: string;
  /** The unit of {@link kiln} and the reference's median, e.g. `MB/s` or `ms`. */
  readonly unit: string;
  /** Whether a larger figure is the better one (throughput) or a smaller one (time). */
  readonly better: 'higher' | 'lower';
  /** How many timed runs each median is taken over (warm-up runs excluded). */
  readonly runs: number;
  /** kiln's median. */
  readonly kiln: number;
  /** The lower bound or peer measured alongside, in the same unit. */
  readonly reference: { readonly name: string; readonly median: number };
  /** kiln ÷ reference. */
  readonly ratio: number;
  /** The goal this figure is held to, when there is one, and whether this run met it. */
  readonly target: Target | undefined;
  /** Further figures worth a line of their own (sizes, differences). */
  readonly notes: readonly string[];
  /**
   * Peer tools (BuildKit, Buildah) measured on the same input in the same run, when the
   * harness ran with `--peers`; absent for measurements that have none.
   */
  readonly peers?: readonly PeerFigure[];
}

/** A goal a measurement is held to, and whether this run met it. */
export interface Target {
  /** The goal in words, e.g. `≤ 0.8× BuildKit`. */
  readonly statement: string;
  /** Whether it was met; undefined when this run could not tell (a peer it names was not measured). */
  readonly met: boolean | undefined;
  /**
   * The goal's clauses as ratios, for charts: each compares kiln with one reference
   * (a peer, the bound, or the goal's own limit) against the highest ratio the goal allows.
   */
  readonly checks?: readonly TargetCheck[];
}

/** One clause of a {@link Target}: kiln ÷ `against`, held to at most `limit`. */
export interface TargetCheck {
  /** The clause in words, e.g. `≤ 0.8× BuildKit`. */
  readonly statement: string;
  /** What kiln is divided by: a peer's name, `bound`, or the limit itself (`limit`). */
  readonly against: string;
  /** kiln ÷ that reference; undefined when the reference was not measured. */
  readonly ratio: number | undefined;
  /** The highest ratio the clause allows; undefined when the reference was not measured. */
  readonly limit: number | undefined;
  readonly met: boolean | undefined;
}

/** A peer's median for a measurement, in the measurement's unit. */
export interface PeerFigure {
  /** The tool, e.g. `BuildKit` or `Buildah`. */
  readonly name: string;
  readonly median: number;
  /** Every run's figure, in order. */
  readonly values: readonly number[];
  /**
   * Whether it did the same work as kiln and so takes part in "best peer" and in targets;
   * false when it did not (W7: `docker save` writes uncompressed layers, kiln gzip ones).
   */
  readonly comparable: boolean;
  /** What was run, or why the figure is not comparable. */
  readonly note: string | undefined;
}

/** What the harness passes every workload. */
export interface WorkloadOptions {
  /** Timed runs per median; undefined leaves each measurement its own default. */
  readonly runs: number | undefined;
  /** Where progress goes (stderr), so that stdout stays machine-readable under --json. */
  readonly log: (line: string) => void;
  /** Whether to measure the peer tools too (`--peers`); workloads without peers ignore it. */
  readonly peers?: boolean;
}

/**
 * A benchmark workload: a module in bench/ exporting `workload` is one. It measures and
 * reports; it never asserts (DESIGN.md: bench/ never asserts), and it throws only when it
 * cannot measure at all (a build failed, a process would not start).
 */
export interface Workload {
  /** Short and kebab-case; `--only NAME` and bench/results/NAME.json use it. */
  readonly name: string;
  readonly description: string;
  measure(options: WorkloadOptions): Promise<readonly Measurement[]>;
}
