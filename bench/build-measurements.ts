import { CHAINED_STEPS } from './build-contexts.ts';
import { median } from './sample.ts';
import { judgeTarget, type TargetClause } from './targets.ts';
import type { Measurement, PeerFigure } from './workload.ts';

/*
 * bench/build's rows of figures and how each becomes a Measurement: kiln's median, the bound
 * (the median of each round's summed components), the peers' medians, the target judged.
 */

/** One row's figures: each builder's per run, the bound's components per run. */
export interface Row {
  readonly times: Map<string, number[]>;
  readonly bounds: Record<string, number[]>;
  /** The 1-minute load average after each round: this machine may be shared. */
  readonly load: number[];
  /** Peers that failed in this row, with why: they are left out of it. */
  readonly failed: Map<string, string>;
}

/** An empty row, filled round by round. */
export function row(): Row {
  return { times: new Map(), bounds: {}, load: [], failed: new Map() };
}

/** The measurement of one row: medians, the bound as the median of each round's summed components, peers, target. */
export function measurement(spec: {
  readonly name: string;
  readonly runs: number;
  readonly row: Row;
  readonly clauses: readonly TargetClause[];
  readonly notes: readonly string[];
  readonly peerNames: readonly string[];
  readonly incomparable: Readonly<Record<string, string>>;
}): Measurement {
  const { row: r } = spec;
  const components = Object.entries(r.bounds);
  const kilnTimes = r.times.get('kiln') ?? [];
  const totals = kilnTimes.map((_, i) => components.reduce((sum, [, ms]) => sum + (ms[i] ?? 0), 0));
  const kiln = median(kilnTimes);
  const bound = { name: components.map(([n]) => n).join(' + '), median: median(totals) };
  const peers: PeerFigure[] = spec.peerNames
    .filter((name) => !r.failed.has(name) && (r.times.get(name)?.length ?? 0) > 0)
    .map((name) => {
      const values = r.times.get(name) ?? [];
      const why = spec.incomparable[name];
      return { name, median: median(values), values, comparable: why === undefined, note: why };
    });
  const unit = 'ms';
  return {
    name: spec.name,
    unit,
    better: 'lower',
    runs: spec.runs,
    kiln,
    reference: bound,
    ratio: kiln / bound.median,
    target: spec.clauses.length === 0 ? undefined : judgeTarget(spec.clauses, { kiln, unit, bound, peers }),
    notes: [
      `bound: ${components.map(([n, ms]) => `${n} ${median(ms).toFixed(1)}`).join(', ')}`,
      `runs: ${[...r.times].map(([name, ms]) => `${name} ${ms.map((m) => m.toFixed(0)).join(', ')}`).join('; ')}; load average ${Math.min(...r.load).toFixed(1)}-${Math.max(...r.load).toFixed(1)}`,
      ...[...r.failed].map(([name, why]) => `${name} failed: ${why}`),
      ...spec.notes,
    ],
    peers,
  };
}

/** Peak RSS figures are the highest of the runs, not the median: memory budgets are about the worst case. */
export function peakOf(r: Row, clauses: readonly TargetClause[]): Pick<Measurement, 'kiln' | 'reference' | 'ratio' | 'target' | 'peers'> {
  const high = (values: readonly number[] | undefined): number => (values === undefined || values.length === 0 ? Number.NaN : Math.max(...values));
  const kiln = high(r.times.get('kiln'));
  const reference = { name: 'node -e 0 peak RSS', median: median(r.bounds['node -e 0 peak RSS'] ?? []) };
  const peers: PeerFigure[] = [...r.times]
    .filter(([name]) => name !== 'kiln')
    .map(([name, values]) => ({
      name,
      median: high(values),
      values,
      comparable: name !== 'BuildKit',
      note: name === 'BuildKit' ? "dockerd's high-water mark, not a build's peak" : undefined,
    }));
  return {
    kiln,
    reference,
    ratio: kiln / reference.median,
    target: judgeTarget(clauses, { kiln, unit: 'MB', bound: reference, peers }),
    peers,
  };
}

/** W6's cost of one chained RUN step per builder, ((cold - no-op) / steps), against one bare sandboxed step. */
export function perStep(runs: number, coldRow: Row, noopRow: Row, peerNames: readonly string[]): Measurement {
  const per = (name: string): number => (median(coldRow.times.get(name) ?? []) - median(noopRow.times.get(name) ?? [])) / CHAINED_STEPS;
  const stepMs = median((coldRow.bounds[`${CHAINED_STEPS} sandboxed steps`] ?? []).map((ms) => ms / CHAINED_STEPS));
  const kiln = per('kiln');
  return {
    name: `W6 ms per chained RUN step ((cold - no-op) / ${CHAINED_STEPS})`,
    unit: 'ms',
    better: 'lower',
    runs,
    kiln,
    reference: { name: 'unshare + chroot /bin/true', median: stepMs },
    ratio: kiln / stepMs,
    target: undefined,
    notes: [],
    peers: peerNames
      .filter((name) => !coldRow.failed.has(name) && !noopRow.failed.has(name))
      .map((name) => ({ name, median: per(name), values: [], comparable: true, note: undefined })),
  };
}

