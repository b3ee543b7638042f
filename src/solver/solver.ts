import pLimit from 'p-limit';
import { cacheKey, explainMiss, type CacheKey, type CacheRecord, type LayerRef } from '../cache/index.ts';
import { NotFoundError, UsageError } from '../errors/index.ts';
import { topologicalOrder, type Op, type Vertex } from '../graph/index.ts';
import { chainIds } from '../snapshot/index.ts';
import type { ProgressEvent } from './progress-event.ts';
import { execCacheInputs, runExec } from './run-exec.ts';
import { fileCacheInputs, isLinked, prepareFile, prepareFileState, runFile } from './run-file.ts';
import type { Solved, SolvedFs } from './solved.ts';
import type { SolveOptions, SolverDeps, StepContext } from './step-context.ts';

/** Runs build graphs. */
export interface Solver {
  /**
   * Solves `root` and every vertex it depends on: each vertex once (equal digests are one
   * step), inputs first, independent ones in parallel; a step whose cache key has a record
   * is reused (its layers), any other runs and is recorded. Emits progress events.
   * @throws the first step's error (the others are canceled through the signal they share);
   * the abort reason when `options.signal` aborts.
   */
  solve(root: Vertex, options?: SolveOptions): Promise<SolvedFs>;
}

/** The real runners: RUN in the sandbox, file steps through overlay mounts. */
const DEFAULT_RUNNERS: NonNullable<SolverDeps['runners']> = {
  exec: { cacheInputs: (op, inputs, context) => execCacheInputs(op, inputs, context), run: runExec },
  file: { cacheInputs: fileCacheInputs, run: runFile, prepare: prepareFile, prepareState: prepareFileState },
};

/** Makes a solver over injected parts (the snapshotter, the executor, the cache index…). */
export function createSolver(deps: SolverDeps): Solver {
  // One unpack per layer stack at a time in this process: two steps on one base share it.
  const unpacking = new Map<string, Promise<string | undefined>>();
  const snapshotOf = async (layers: readonly LayerRef[], signal: AbortSignal | undefined): Promise<string | undefined> => {
    if (layers.length === 0) return undefined;
    const top = chainIds(layers.map((l) => l.diffId)).at(-1)!;
    let pending = unpacking.get(top);
    if (pending === undefined) {
      pending = deps.snapshotter
        .unpack(layers.map((l) => ({ descriptor: l.descriptor, diffId: l.diffId })), signal === undefined ? {} : { signal })
        .then((r) => r.chainId as string | undefined);
      unpacking.set(top, pending);
      pending.catch(() => unpacking.delete(top));
    }
    return pending;
  };
  return {
    solve: (root, options = {}) => solveGraph(deps, root, options, snapshotOf),
  };
}

async function solveGraph(
  deps: SolverDeps,
  root: Vertex,
  options: SolveOptions,
  snapshotOf: (layers: readonly LayerRef[], signal: AbortSignal | undefined) => Promise<string | undefined>,
): Promise<SolvedFs> {
  const runners = deps.runners ?? DEFAULT_RUNNERS;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;
  const emit = (event: ProgressEvent): void => {
    try {
      options.progress?.(event);
    } catch {
      // A renderer's failure must not fail the build.
    }
  };
  const limit = pLimit(options.maxParallelism ?? 16);
  const results = new Map<string, Promise<Solved>>();
  const states = new Map<string, 'pending' | 'running' | 'finished'>();
  const order = topologicalOrder([root]);
  // Entitlements are checked on the whole graph before anything runs, as BuildKit does: a
  // step found in the cache needs them as much as one that runs.
  for (const vertex of order) checkEntitlements(vertex, options);
  for (const vertex of order) {
    if (vertex.op.kind === 'scratch') continue;
    states.set(vertex.digest, 'pending');
    emit({ kind: 'vertex', time: Date.now(), id: vertex.digest, name: vertex.name, file: vertex.file, range: vertex.range });
  }

  /** Work started ahead for steps' keys ({@link OpRunner.prepareState}): the solve ends after it. */
  const ahead: Promise<unknown>[] = [];
  /** Input `index` of `vertex`, solved; a file step starts what its key needs of a new state at once. */
  const solveInput = (vertex: Vertex, input: Vertex, index: number): Promise<Solved> => {
    const solved = solveVertex(input);
    const op = vertex.op;
    const prepareState = runners.file.prepareState;
    if (op.kind === 'file' && prepareState !== undefined && index > 0) {
      solved.then(
        (state) => {
          if (state.kind !== 'fs' || state.made !== true || signal.aborted) return;
          const work = prepareState(op, index, state, contextOf(vertex, new Map()));
          if (work !== undefined) ahead.push(work.catch(() => undefined));
        },
        () => undefined,
      );
    }
    return solved;
  };

  const solveVertex = (vertex: Vertex): Promise<Solved> => {
    let result = results.get(vertex.digest);
    if (result === undefined) {
      result = Promise.all(vertex.inputs.map((input, index) => solveInput(vertex, input, index))).then((inputs) =>
        limit(async () => {
          signal.throwIfAborted();
          states.set(vertex.digest, 'running');
          try {
            return await solveStep(vertex, inputs);
          } finally {
            states.set(vertex.digest, 'finished');
          }
        }),
      );
      results.set(vertex.digest, result);
    }
    return result;
  };

  const memos = new Map<string, Promise<unknown>>();
  const memo = <T>(key: string, compute: () => Promise<T>): Promise<T> => {
    let pending = memos.get(key) as Promise<T> | undefined;
    if (pending === undefined) {
      pending = compute();
      memos.set(key, pending);
    }
    return pending;
  };
  const contextOf = (vertex: Vertex, details: Map<string, string>): StepContext => ({
    explain: (input, words) => details.set(input, words),
    deps,
    options,
    vertex,
    signal,
    log: (stream, data) => emit({ kind: 'log', time: Date.now(), id: vertex.digest, stream, data }),
    snapshotOf: (layers) => snapshotOf(layers, signal),
    memo,
  });
  const contextInput = (op: Op & { kind: 'context' }): Solved => {
    const source = deps.contextSource?.(op.name);
    if (source === undefined) throw new NotFoundError(`the build has no context named ${JSON.stringify(op.name)}`);
    return { kind: 'context', key: cacheKey({ kind: 'context', inputs: [['name', op.name]] }), dir: source.dir, filter: source.filter };
  };

  const solveStep = async (vertex: Vertex, inputs: readonly Solved[]): Promise<Solved> => {
    const op = vertex.op;
    const now = (): number => Date.now();
    const details = new Map<string, string>();
    const context = contextOf(vertex, details);
    switch (op.kind) {
      case 'scratch':
        return { kind: 'fs', key: cacheKey({ kind: 'scratch', inputs: [] }), layers: [] };
      case 'context': {
        emit({ kind: 'started', time: now(), id: vertex.digest, cacheMiss: undefined });
        emit({ kind: 'done', time: now(), id: vertex.digest });
        return contextInput(op);
      }
      case 'image': {
        emit({ kind: 'started', time: now(), id: vertex.digest, cacheMiss: undefined });
        const layers = await deps.imageLayers(op.id, signal);
        emit({ kind: 'done', time: now(), id: vertex.digest });
        return { kind: 'fs', key: cacheKey({ kind: 'image', inputs: [['image', op.id]] }), layers };
      }
      case 'exec':
      case 'file':
        return cachedStep(vertex, op, inputs, context, details);
      default:
        return assertNever(op);
    }
  };

  const cachedStep = async (
    vertex: Vertex,
    op: Op & { kind: 'exec' | 'file' },
    inputs: readonly Solved[],
    context: StepContext,
    details: ReadonlyMap<string, string>,
  ): Promise<Solved> => {
    const parent = inputs[0];
    if (parent?.kind !== 'fs') throw new Error(`${vertex.name}: input 0 is not a file system`);
    let started = false;
    try {
      const keyOf = async (contentOfStates: boolean): Promise<{ named: (readonly [string, string])[]; key: CacheKey }> => {
        const named: (readonly [string, string])[] = [
          ...(op.kind === 'exec'
            ? await runners.exec.cacheInputs(op, inputs, context, contentOfStates)
            : await runners.file.cacheInputs(op, inputs, context, contentOfStates)),
        ];
        // How the layer's tar is written changes its content: part of the key. Its codec does
        // not (layers are stored uncompressed; exports compress), so it stays out.
        if (options.rewriteTimestamp === true && options.sourceDateEpoch !== undefined) named.push(['rewrite-timestamp', String(options.sourceDateEpoch)]);
        return { named, key: cacheKey({ kind: op.kind, inputs: named }) };
      };
      const slot = slotOf(vertex);
      const ignoreCache = vertex.noCache === true || options.noCache?.(vertex) === true;
      const lookup = async (key: CacheKey): Promise<CacheRecord | undefined> => {
        if (ignoreCache) return undefined;
        const record = await deps.cache.get(key);
        if (record === undefined) return undefined;
        return (await blobsPresent(deps, record.rebase === true ? record.layers : newLayers(record.layers, parent.layers))) ? record : undefined;
      };
      // First the key over the keys of the states a copy reads (cheap); then, for a copy from
      // another stage or image, the key over the content it selects, which still hits when
      // that stage ran again and made the same files.
      const quick = await keyOf(false);
      let final = quick;
      let record = await lookup(quick.key);
      if (record === undefined && op.kind === 'file' && copiesFromStates(op, inputs)) {
        final = await keyOf(true);
        record = await lookup(final.key);
        if (record !== undefined) await deps.cache.put({ ...record, key: quick.key, resultKey: record.resultKey ?? final.key });
      }
      if (record !== undefined) {
        const key = record.resultKey ?? record.key;
        // The step's own layer is marked reused; the layers below it are its parents' (marked
        // by their steps) or a base image's, so a chain costs one touch a step, not n².
        const own = record.layers.at(-1);
        await Promise.all([
          deps.cache.touch(record.key),
          own === undefined ? undefined : deps.touchBlob?.(own.descriptor.digest),
          slot === undefined ? undefined : deps.cache.lastKey(slot).then((last) => (last === key ? undefined : deps.cache.setLastKey(slot, key))),
        ]);
        emit({ kind: 'cached', time: Date.now(), id: vertex.digest });
        if (record.rebase === true) return { kind: 'fs', key: mergedKey(parent.key, key), layers: [...parent.layers, ...record.layers] };
        return { kind: 'fs', key, layers: record.layers };
      }
      let cacheMiss: string | undefined = ignoreCache ? 'cache disabled for this step' : undefined;
      if (cacheMiss === undefined && slot !== undefined) {
        const last = await deps.cache.lastKey(slot);
        const previous = last === undefined ? undefined : await deps.cache.get(last);
        cacheMiss = explainMiss(previous?.inputs, final.named, details);
      }
      emit({ kind: 'started', time: Date.now(), id: vertex.digest, cacheMiss });
      started = true;
      const layer = op.kind === 'exec' ? await runners.exec.run(op, inputs, context) : await runners.file.run(op, inputs, context);
      const layers = [...parent.layers, layer];
      const rebase = op.kind === 'file' && isLinked(op);
      const made: CacheRecord = {
        kind: 'cache-record',
        schema: 1,
        key: final.key,
        layers: rebase ? [layer] : layers,
        ...(rebase ? { rebase: true } : {}),
        inputs: final.named,
        created: new Date().toISOString(),
      };
      await deps.cache.put(made);
      if (final.key !== quick.key) await deps.cache.put({ ...made, key: quick.key, resultKey: final.key });
      if (slot !== undefined) await deps.cache.setLastKey(slot, final.key);
      emit({ kind: 'done', time: Date.now(), id: vertex.digest });
      return { kind: 'fs', key: rebase ? mergedKey(parent.key, final.key) : final.key, layers, made: true };
    } catch (error) {
      // A failure while the key is computed (a missing COPY source) is the step's too.
      if (!started && !signal.aborted) emit({ kind: 'started', time: Date.now(), id: vertex.digest, cacheMiss: undefined });
      if (signal.aborted) emit({ kind: 'canceled', time: Date.now(), id: vertex.digest });
      else emit({ kind: 'error', time: Date.now(), id: vertex.digest, message: (error as Error).message });
      throw error;
    }
  };

  // What steps' keys need that the steps before them do not change starts now, beside them.
  for (const vertex of order) {
    const op = vertex.op;
    if (op.kind !== 'file' || runners.file.prepare === undefined) continue;
    const inputs = vertex.inputs.map((input) => {
      if (input.op.kind !== 'context') return undefined;
      try {
        return contextInput(input.op);
      } catch {
        return undefined; // The step's own solve reports it.
      }
    });
    runners.file.prepare(op, inputs, contextOf(vertex, new Map()));
  }

  try {
    const solved = await solveVertex(root);
    if (solved.kind !== 'fs') throw new Error('the build target is not a file system');
    return solved;
  } catch (error) {
    // Stop every other step, wait for them to finish cleaning up, then report the first error.
    controller.abort(error);
    await Promise.allSettled([...results.values(), ...ahead]);
    for (const [id, state] of states) if (state !== 'finished') emit({ kind: 'canceled', time: Date.now(), id });
    throw error;
  } finally {
    // A state hashed ahead for a step that then hit the cache (or never ran) is done with before the solve ends.
    await Promise.allSettled(ahead);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The key of a linked step's result: its own layer's key (which leaves the parent out) merged
 * with the parent's, so the steps after it still depend on everything below.
 */
function mergedKey(parent: CacheKey, layer: CacheKey): CacheKey {
  return cacheKey({ kind: 'merge', inputs: [['parent', parent], ['layer', layer]] });
}

/** Refuses a RUN that needs an entitlement the build was not given (`--allow`). */
function checkEntitlements(vertex: Vertex, options: SolveOptions): void {
  if (vertex.op.kind !== 'exec') return;
  const where = vertex.file === undefined || vertex.range === undefined ? {} : { file: vertex.file, range: vertex.range };
  if (vertex.op.network === 'host' && options.allow?.networkHost !== true) {
    throw new UsageError(`${vertex.name}: network mode "host" is not allowed`, { ...where, hint: 'RUN --network=host needs --allow network.host' });
  }
  if (vertex.op.security === 'insecure' && options.allow?.securityInsecure !== true) {
    throw new UsageError(`${vertex.name}: security mode "insecure" is not allowed`, { ...where, hint: 'RUN --security=insecure needs --allow security.insecure' });
  }
}

/** Whether a file op copies from another stage or an image (not only from the context). */
function copiesFromStates(op: Op & { kind: 'file' }, inputs: readonly Solved[]): boolean {
  return op.actions.some((a) => a.kind === 'copy' && inputs[a.from]?.kind === 'fs');
}

/** A step's identity across builds (Dockerfile, stage and position), for miss explanations. */
function slotOf(vertex: Vertex): string | undefined {
  const position = /^\[[^\]]*\]/.exec(vertex.name)?.[0];
  if (vertex.file === undefined || position === undefined) return undefined;
  return cacheKey({ kind: 'slot', inputs: [['file', vertex.file], ['position', position]] });
}

/**
 * The layers of a record that its parent's result does not already vouch for: its own, or
 * all of them when the parent ran again since and made other layers.
 */
function newLayers(layers: readonly LayerRef[], parentLayers: readonly LayerRef[]): readonly LayerRef[] {
  const prefix = layers.length === parentLayers.length + 1 && parentLayers.every((l, i) => layers[i]?.diffId === l.diffId);
  return prefix ? layers.slice(-1) : layers;
}

async function blobsPresent(deps: SolverDeps, layers: readonly LayerRef[]): Promise<boolean> {
  for (const layer of layers) if ((await deps.content.info(layer.descriptor.digest)) === undefined) return false;
  return true;
}

function assertNever(value: never): never {
  throw new Error(`unexpected op ${JSON.stringify(value)}`);
}
