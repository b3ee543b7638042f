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
  readonly target: { readonly statement: string; readonly met: boolean } | undefined;
  /** Further figures worth a line of their own (sizes, differences). */
  readonly notes: readonly string[];
}

/** What the harness passes every workload. */
export interface WorkloadOptions {
  /** Timed runs per median; undefined leaves each measurement its own default. */
  readonly runs: number | undefined;
  /** Where progress goes (stderr), so that stdout stays machine-readable under --json. */
  readonly log: (line: string) => void;
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
