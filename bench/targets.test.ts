import test from 'ava';
import { judgeTarget } from './targets.ts';
import type { PeerFigure } from './workload.ts';

const peer = (name: string, median: number, comparable = true): PeerFigure => ({ name, median, values: [median], comparable, note: undefined });
const figures = (kiln: number, peers: readonly PeerFigure[] = []) => ({ kiln, unit: 'ms', bound: { name: 'node -e 0', median: 100 }, peers });

test('a peer clause is met at or under factor times the peer, and missed above it', (t) => {
  const met = judgeTarget([{ kind: 'peer', peer: 'BuildKit', factor: 0.5 }], figures(500, [peer('BuildKit', 1000)]));
  t.is(met.met, true);
  t.is(met.statement, '≤ 0.5× BuildKit');
  t.deepEqual(met.checks, [{ statement: '≤ 0.5× BuildKit', against: 'BuildKit', ratio: 0.5, limit: 0.5, met: true }]);
  t.is(judgeTarget([{ kind: 'peer', peer: 'BuildKit', factor: 0.5 }], figures(501, [peer('BuildKit', 1000)])).met, false);
});

test('a peer clause is undecided when that peer was not measured or did other work', (t) => {
  const absent = judgeTarget([{ kind: 'peer', peer: 'BuildKit', factor: 0.8 }], figures(10, [peer('Buildah', 1000)]));
  t.is(absent.met, undefined);
  t.is(absent.checks?.[0]?.ratio, undefined);
  const other = judgeTarget([{ kind: 'peer', peer: 'BuildKit', factor: 0.8 }], figures(10, [peer('BuildKit', 1000, false)]));
  t.is(other.met, undefined);
});

test('bound-plus allows the bound plus an amount, as a ratio to the bound', (t) => {
  const target = judgeTarget([{ kind: 'bound-plus', amount: 30 }], figures(130));
  t.is(target.met, true);
  t.is(target.statement, '≤ node -e 0 + 30 ms');
  t.is(target.checks?.[0]?.limit, 1.3);
  t.is(judgeTarget([{ kind: 'bound-plus', amount: 30 }], figures(131)).met, false);
});

test('at-most compares with the value itself', (t) => {
  const target = judgeTarget([{ kind: 'at-most', value: 1150 }], figures(1265));
  t.is(target.met, false);
  t.is(target.checks?.[0]?.ratio, 1.1);
  t.is(target.checks?.[0]?.limit, 1);
});

test('every clause must hold: a missed one wins over an undecided one', (t) => {
  const clauses = [
    { kind: 'peer', peer: 'BuildKit', factor: 0.5 },
    { kind: 'bound', factor: 1.3 },
  ] as const;
  t.is(judgeTarget(clauses, figures(140)).met, false);
  t.is(judgeTarget(clauses, figures(120)).met, undefined);
  t.is(judgeTarget(clauses, figures(120, [peer('BuildKit', 300)])).met, true);
  t.is(judgeTarget(clauses, figures(120, [peer('BuildKit', 300)])).statement, '≤ 0.5× BuildKit and ≤ 1.3× the bound');
});
