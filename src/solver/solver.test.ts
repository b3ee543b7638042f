import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheRecords, type CacheKey, type LayerRef, type StatCache } from '../cache/index.ts';
import type { ContentStore, Digest } from '../content/index.ts';
import { createVertex, type ExecOp, type FileOp, type Vertex } from '../graph/index.ts';
import type { DiffId } from '../image/index.ts';
import type { Executor } from '../sandbox/index.ts';
import type { Snapshotter } from '../snapshot/index.ts';
import type { ProgressEvent } from './progress-event.ts';
import { fileCacheInputs, prepareFile } from './run-file.ts';
import type { Solved } from './solved.ts';
import { createSolver } from './solver.ts';
import type { OpRunner, SolverDeps, StepContext } from './step-context.ts';

/*
 * The scheduler and the cache with fake runners that count their calls: no sandbox, no
 * snapshots. A fake layer's digest is derived from the command, so equal steps make equal
 * layers.
 */

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

function layerOf(text: string): LayerRef {
  return { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(`blob ${text}`) as Digest, size: 1 }, diffId: sha(text) as DiffId, size: 1 };
}

interface Fake {
  readonly deps: SolverDeps;
  readonly runs: string[];
  /** Steps running now, and the most at once. */
  readonly concurrency: { now: number; max: number };
  /** Called inside each run before it finishes; may throw or wait. */
  hook: (command: string, signal: AbortSignal | undefined) => Promise<void>;
}

async function fake(t: { teardown(fn: () => Promise<void>): void }): Promise<Fake> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-solver-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const runs: string[] = [];
  const concurrency = { now: 0, max: 0 };
  const state: Fake = {
    deps: undefined as never,
    runs,
    concurrency,
    hook: async () => undefined,
  };
  const exec: OpRunner<ExecOp> = {
    cacheInputs: async (op, inputs) => [['parent', inputs[0]!.key], ['command', JSON.stringify(op.argv)], ...op.env.map((e): [string, string] => [`env ${e.split('=')[0]}`, e])],
    run: async (op, _inputs, context) => {
      const command = op.argv.at(-1) ?? '';
      runs.push(command);
      concurrency.now++;
      concurrency.max = Math.max(concurrency.max, concurrency.now);
      try {
        await state.hook(command, context.signal);
      } finally {
        concurrency.now--;
      }
      return layerOf(`${command} ${op.env.join(' ')}`);
    },
  };
  const file: OpRunner<FileOp> = {
    cacheInputs: async (_op, inputs) => [['parent', inputs[0]!.key], ...inputs.slice(1).map((i, n): [string, string] => [`from ${n}`, i.key])],
    run: async (op) => {
      runs.push(`file ${op.actions.length}`);
      return layerOf(`file ${op.actions.length}`);
    },
  };
  const content = { info: async (digest: Digest) => ({ digest, size: 1 }) } as unknown as ContentStore;
  const deps: SolverDeps = {
    runners: { exec, file },
    snapshotter: {} as Snapshotter,
    executor: {} as Executor,
    content,
    cache: await CacheRecords.open(dir),
    imageLayers: async () => [layerOf('base')],
    mountsDir: join(dir, 'mounts'),
    cacheMountsDir: join(dir, 'cache-mounts'),
    tempDir: async () => dir,
  };
  Object.assign(state, { deps });
  return state;
}

const base = createVertex({ kind: 'image', id: sha('image') as Digest, ref: 'busybox' }, [], { name: '[1/3] FROM busybox' });

function run(command: string, parent: Vertex, env: string[] = [], position = command): Vertex {
  const op: ExecOp = { kind: 'exec', argv: ['sh', '-c', command], env, cwd: '/', user: '', network: 'default', security: 'sandbox', mounts: [], files: [], volumes: [] };
  return createVertex(op, [parent], { name: `[s ${position}] RUN ${command}`, file: 'Dockerfile' });
}

function copyFrom(parent: Vertex, ...from: Vertex[]): Vertex {
  const op: FileOp = {
    kind: 'file',
    actions: from.map((_, i) => ({ kind: 'copy', from: i + 1, sources: ['/x'], dest: '/', chown: undefined, chmod: undefined, excludes: [], parents: false, link: false, unpack: false, followSymlinks: true })),
  };
  return createVertex(op, [parent, ...from], { name: '[s copy] COPY', file: 'Dockerfile' });
}

test('equal steps run once, and the result stacks the base, then each step’s layer', async (t) => {
  const f = await fake(t);
  const a = run('echo a', base, [], 'a');
  const twin = run('echo a', base, [], 'twin');
  const solved = await createSolver(f.deps).solve(copyFrom(run('echo b', a), twin, a));
  t.deepEqual(f.runs.sort(), ['echo a', 'echo b', 'file 2']);
  t.deepEqual(solved.layers.map((l) => l.diffId), [layerOf('base').diffId, layerOf('echo a ').diffId, layerOf('echo b ').diffId, layerOf('file 2').diffId]);
});

test('independent steps run in parallel; --max-parallelism 1 runs them one at a time', async (t) => {
  const stages = (n: number) => Array.from({ length: n }, (_, i) => run(`sleep ${i}`, base));
  const slow = async () => new Promise<void>((resolve) => setTimeout(resolve, 30));
  const wide = await fake(t);
  wide.hook = slow;
  await createSolver(wide.deps).solve(copyFrom(base, ...stages(4)));
  t.is(wide.concurrency.max, 4);
  const narrow = await fake(t);
  narrow.hook = slow;
  await createSolver(narrow.deps).solve(copyFrom(base, ...stages(4)), { maxParallelism: 1 });
  t.is(narrow.concurrency.max, 1);
});

test('a second solve takes every step from the cache; a changed env reruns that step and the ones after it, and says why', async (t) => {
  const f = await fake(t);
  const graph = (value: string) => run('echo c', run('echo b', run('echo a', base), [`V=${value}`]));
  const first = await createSolver(f.deps).solve(graph('1'));
  t.is(f.runs.length, 3);
  f.runs.length = 0;
  const events: ProgressEvent[] = [];
  const again = await createSolver(f.deps).solve(graph('1'), { progress: (e) => events.push(e) });
  t.deepEqual(f.runs, []);
  t.is(events.filter((e) => e.kind === 'cached').length, 3);
  t.deepEqual(again.layers, first.layers);
  events.length = 0;
  await createSolver(f.deps).solve(graph('2'), { progress: (e) => events.push(e) });
  t.deepEqual(f.runs, ['echo b', 'echo c']);
  const misses = events.flatMap((e) => (e.kind === 'started' && e.cacheMiss !== undefined ? [e.cacheMiss] : []));
  t.deepEqual(misses, ['env V changed', 'parent changed']);
  f.runs.length = 0;
  await createSolver(f.deps).solve(graph('2'), { noCache: () => true });
  t.is(f.runs.length, 3);
});

test('a failing step fails the solve with its error, cancels the steps running beside it, and the next solve reuses what finished', async (t) => {
  const f = await fake(t);
  let aborted = false;
  f.hook = async (command, signal) => {
    if (command === 'false') {
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('exit code: 1');
    }
    if (command === 'slow') {
      await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
      aborted = signal?.aborted === true;
      throw signal?.reason as Error;
    }
  };
  const fine = run('echo fine', base);
  const events: ProgressEvent[] = [];
  const graph = copyFrom(base, fine, run('false', base), run('slow', base));
  await t.throwsAsync(createSolver(f.deps).solve(graph, { progress: (e) => events.push(e) }), { message: 'exit code: 1' });
  t.true(aborted, 'the slow step saw the abort');
  t.true(events.some((e) => e.kind === 'error'));
  t.true(events.some((e) => e.kind === 'canceled'));
  f.runs.length = 0;
  f.hook = async () => undefined;
  await createSolver(f.deps).solve(fine);
  t.deepEqual(f.runs, [], 'the step that finished was recorded');
});

test('a RUN that needs an entitlement the build lacks is refused before anything runs, cached or not', async (t) => {
  const f = await fake(t);
  const op: ExecOp = { kind: 'exec', argv: ['true'], env: [], cwd: '/', user: '', network: 'host', security: 'sandbox', mounts: [], files: [], volumes: [] };
  const host = createVertex(op, [run('echo first', base)], { name: 'RUN --network=host true' });
  await t.throwsAsync(createSolver(f.deps).solve(host), { message: /network mode "host" is not allowed/ });
  t.deepEqual(f.runs, []);
  await createSolver(f.deps).solve(host, { allow: { networkHost: true } });
  t.is(f.runs.length, 2);
});

test('a file step is prepared as the solve begins, with its build context, while the steps before it run', async (t) => {
  const f = await fake(t);
  const prepared: { op: FileOp; inputs: readonly (string | undefined)[] }[] = [];
  let preparedSignal!: () => void;
  const preparedOnce = new Promise<void>((resolve) => (preparedSignal = resolve));
  const file = f.deps.runners!.file;
  const deps: SolverDeps = {
    ...f.deps,
    contextSource: (name) => (name === 'context' ? { dir: '/the/context', filter: undefined } : undefined),
    runners: {
      exec: f.deps.runners!.exec,
      file: {
        ...file,
        prepare: (op, inputs) => {
          prepared.push({ op, inputs: inputs.map((input) => (input?.kind === 'context' ? input.dir : input?.kind)) });
          preparedSignal();
        },
      },
    },
  };
  // The RUN before the COPY finishes only once the COPY was prepared.
  f.hook = async () => {
    await Promise.race([preparedOnce, new Promise((_, reject) => setTimeout(() => reject(new Error('the COPY was not prepared while the RUN ran')), 5000))]);
  };
  const context = createVertex({ kind: 'context', name: 'context' }, [], { name: 'context' });
  const copy = copyFrom(run('echo before', base), context);
  await createSolver(deps).solve(copy);
  t.is(prepared.length, 1);
  t.is(prepared[0]!.op as unknown, copy.op);
  t.deepEqual(prepared[0]!.inputs, [undefined, '/the/context']);
  t.deepEqual(f.runs, ['echo before', 'file 1']);
});

test('the real file runner hashes the context once for a step it prepared, to the key it computes unprepared', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-prepare-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const name of ['a', 'b', 'c']) await writeFile(join(dir, name), name);
  const recorded: string[] = [];
  const statCache: StatCache = {
    lookup: () => undefined,
    record: (path) => void recorded.push(path),
    now: () => 0n,
    size: 0,
    save: async () => undefined,
  };
  const f = await fake(t);
  const contextFor = (explained: Map<string, string>): StepContext => {
    const memos = new Map<string, Promise<unknown>>();
    return {
      deps: { ...f.deps, statCache },
      options: {},
      vertex: base,
      signal: undefined,
      log: () => undefined,
      explain: (input, words) => void explained.set(input, words),
      snapshotOf: async () => undefined,
      memo: <T>(key: string, compute: () => Promise<T>): Promise<T> => {
        if (!memos.has(key)) memos.set(key, compute());
        return memos.get(key) as Promise<T>;
      },
    };
  };
  const op: FileOp = {
    kind: 'file',
    actions: [{ kind: 'copy', from: 1, sources: ['.'], dest: '/', chown: undefined, chmod: undefined, excludes: [], parents: false, link: false, unpack: false, followSymlinks: true }],
  };
  const parent: Solved = { kind: 'fs', key: 'sha256:0' as CacheKey, layers: [] };
  const context: Solved = { kind: 'context', key: 'sha256:1' as CacheKey, dir, filter: undefined };

  const explained = new Map<string, string>();
  const prepared = contextFor(explained);
  prepareFile(op, [undefined, context], prepared);
  const key = await fileCacheInputs(op, [parent, context], prepared);
  // The three files, each read once (a directory is not kept in the stat cache).
  t.deepEqual(recorded.sort(), ['a', 'b', 'c'].map((name) => join(dir, name)));
  t.deepEqual([...explained.values()], ['files a, b, c changed']);

  const unprepared = await fileCacheInputs(op, [parent, context], contextFor(new Map()));
  t.deepEqual(key, unprepared);
  t.is(recorded.length, 6);
});

test('a COPY --from of a stage made in this solve starts its key work as the stage is done, beside the chain before it; the solve waits for it', async (t) => {
  const f = await fake(t);
  const events: string[] = [];
  let finishedAhead = 0;
  const file = f.deps.runners!.file;
  const stageA = run('make a', base);
  const stageB = run('make b', base);
  const first = copyFrom(base, stageA);
  const second = copyFrom(first, stageB);
  const runners = {
    exec: f.deps.runners!.exec,
    file: {
      ...file,
      run: async (op: FileOp, inputs: readonly Solved[], context: StepContext) => {
        // The first COPY waits until the second has started on its source.
        if (context.vertex === first) {
          while (!events.includes(`prepare ${second.digest} 1`)) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        events.push(`run ${context.vertex.digest}`);
        return file.run(op, inputs, context);
      },
      prepareState: (_op: FileOp, index: number, input: Solved, context: StepContext) => {
        t.true(input.kind === 'fs' && input.made === true);
        events.push(`prepare ${context.vertex.digest} ${index}`);
        return new Promise<void>((resolve) => setTimeout(resolve, 50)).then(() => void (finishedAhead += 1));
      },
    },
  };
  await createSolver({ ...f.deps, runners }).solve(second);
  t.true(events.indexOf(`prepare ${second.digest} 1`) < events.indexOf(`run ${first.digest}`));
  t.true(events.includes(`prepare ${first.digest} 1`));
  t.is(finishedAhead, 2);

  // Found in the cache, the stages are not new: nothing is started ahead.
  events.length = 0;
  await createSolver({ ...f.deps, runners }).solve(second);
  t.deepEqual(events, []);
});
