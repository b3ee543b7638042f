import type { PeerFigure, Target, TargetCheck } from './workload.ts';

/**
 * One clause of a performance goal, as data (issue #7's table): kiln's median held to
 *  - `peer`: at most `factor` × that peer's median (measured in the same run);
 *  - `bound`: at most `factor` × the lower bound measured in the same run;
 *  - `bound-plus`: at most the bound + `amount` (in the measurement's unit);
 *  - `at-most`: at most `value` (in the measurement's unit).
 */
export type TargetClause =
  | { readonly kind: 'peer'; readonly peer: string; readonly factor: number }
  | { readonly kind: 'bound'; readonly factor: number }
  | { readonly kind: 'bound-plus'; readonly amount: number }
  | { readonly kind: 'at-most'; readonly value: number };

/** The figures a target is judged on, all from one run. */
export interface TargetFigures {
  readonly kiln: number;
  readonly unit: string;
  readonly bound: { readonly name: string; readonly median: number };
  readonly peers: readonly PeerFigure[];
}

/**
 * Judges `clauses` (all must hold) on one run's figures. A clause naming a peer that was not
 * measured, or not measured doing the same work (not `comparable`), is undecided: the
 * target's `met` is false when any clause failed, else undefined when any is undecided.
 */
export function judgeTarget(clauses: readonly TargetClause[], figures: TargetFigures): Target {
  const checks = clauses.map((clause) => check(clause, figures));
  const met = checks.some((c) => c.met === false) ? false : checks.some((c) => c.met === undefined) ? undefined : true;
  return { statement: checks.map((c) => c.statement).join(' and '), met, checks };
}

function check(clause: TargetClause, { kiln, unit, bound, peers }: TargetFigures): TargetCheck {
  switch (clause.kind) {
    case 'peer': {
      const peer = peers.find((p) => p.name === clause.peer && p.comparable);
      const ratio = peer === undefined ? undefined : kiln / peer.median;
      return judged(`≤ ${clause.factor}× ${clause.peer}`, clause.peer, ratio, peer === undefined ? undefined : clause.factor);
    }
    case 'bound':
      return judged(`≤ ${clause.factor}× the bound`, 'bound', kiln / bound.median, clause.factor);
    case 'bound-plus':
      return judged(`≤ ${bound.name} + ${clause.amount} ${unit}`, 'bound', kiln / bound.median, (bound.median + clause.amount) / bound.median);
    case 'at-most':
      return judged(`≤ ${clause.value} ${unit}`, 'limit', kiln / clause.value, 1);
    default:
      return assertNever(clause);
  }
}

function judged(statement: string, against: string, ratio: number | undefined, limit: number | undefined): TargetCheck {
  const met = ratio === undefined || limit === undefined || Number.isNaN(ratio) ? undefined : ratio <= limit;
  return { statement, against, ratio, limit, met };
}

function assertNever(value: never): never {
  throw new Error(`unexpected target clause ${JSON.stringify(value)}`);
}
