import test from 'ava';
import type { Digest } from '../content/index.ts';
import { canonicalJson } from './canonical-json.ts';
import type { ExecOp, Vertex } from './op.ts';
import { createVertex, topologicalOrder } from './vertex.ts';

const image = (id: string): Vertex =>
  createVertex({ kind: 'image', id: `sha256:${id.repeat(64).slice(0, 64)}` as Digest, ref: 'busybox' }, [], { name: 'FROM busybox' });

const run = (argv: string[], parent: Vertex, name = `RUN ${argv.join(' ')}`): Vertex => {
  const op: ExecOp = { kind: 'exec', argv, env: [], cwd: '/', user: '', network: 'default', security: 'sandbox', mounts: [], files: [], volumes: [] };
  return createVertex(op, [parent], { name });
};

test('canonical JSON sorts keys at every depth and drops undefined members', (t) => {
  t.is(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined, x: 2 }], c: 'x' } }), '{"a":{"c":"x","d":[3,{"x":2,"z":1}]},"b":1}');
  t.is(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
});

test('canonical JSON refuses cycles and bigints', (t) => {
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  t.throws(() => canonicalJson(cyclic), { instanceOf: TypeError });
  t.throws(() => canonicalJson({ n: 1n }), { instanceOf: TypeError });
});

test('equal ops on equal inputs are one vertex, whatever their display name', (t) => {
  const base = image('a');
  t.is(run(['true'], base, 'one').digest, run(['true'], base, 'two').digest);
  t.not(run(['true'], base).digest, run(['false'], base).digest);
  t.not(run(['true'], base).digest, run(['true'], image('b')).digest);
});

test('topological order lists inputs first and shared vertices once', (t) => {
  const base = image('a');
  const left = run(['left'], base);
  const right = run(['right'], base);
  const both = createVertex({ kind: 'file', actions: [] }, [left, right], { name: 'merge' });
  const order = topologicalOrder([both]);
  t.is(order.length, 4);
  t.is(order[0], base);
  t.is(order.at(-1), both);
  t.true(order.indexOf(left) < order.indexOf(both) && order.indexOf(right) < order.indexOf(both));
});

test('a chain of 5000 steps is ordered without overflowing the stack', (t) => {
  let vertex = image('a');
  for (let i = 0; i < 5000; i++) vertex = run([`step ${i}`], vertex);
  t.is(topologicalOrder([vertex]).length, 5001);
});
