import { randomBytes } from 'node:crypto';
import type { CacheKeyInput, LayerRef } from '../cache/index.ts';
import { checksumSources, type ChecksumRequest } from '../cache/index.ts';
import { IntegrityError } from '../errors/index.ts';
import type { Digest } from '../content/index.ts';
import { copyFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CopyAction, FileOp, HttpAction } from '../graph/index.ts';
import { copyFiles, download, makeDirectory, makeFile, resolveChown, type CopySourceRoot, type Downloaded } from './file/index.ts';
import { commitStep } from './commit-step.ts';
import { withMountedRoot } from './mounted-root.ts';
import { userFiles } from './user-files.ts';
import { MergedReader } from '../snapshot/index.ts';
import type { Solved, SolvedFs } from './solved.ts';
import type { StepContext } from './step-context.ts';

/**
 * The named inputs of a file step's key: the parent's key, each action with its options,
 * and what each copy reads: the content digest of the files it selects from the context, or
 * the key of the stage or image it copies from.
 */
export async function fileCacheInputs(
  op: FileOp,
  inputs: readonly Solved[],
  context: StepContext,
  contentOfStates = false,
): Promise<CacheKeyInput['inputs']> {
  // A linked copy's layer does not depend on the parent, except for owner names it looks up there.
  const byName = op.actions.some((a) => 'chown' in a && a.chown !== undefined && !/^\d+(:\d+)?$/.test(a.chown));
  const named: [string, string][] = isLinked(op) && !byName ? [['linked', 'true']] : [['parent', inputs[0]!.key]];
  for (const [index, action] of op.actions.entries()) {
    named.push([`action ${index}`, JSON.stringify({ ...action, from: undefined })]);
    if (action.kind === 'http') {
      // With a checksum the content is known before downloading; without one the file is
      // fetched now, and its digest is the key (the run reuses the download).
      const digest = action.checksum ?? (await prefetch(action.url, context)).digest;
      named.push([`url ${action.url}`, digest]);
      continue;
    }
    if (action.kind !== 'copy') continue;
    const from = inputs[action.from];
    if (from === undefined) throw new Error(`copy from input ${action.from} is missing`);
    if (from.kind === 'context') {
      const name = `files ${action.sources.join(' ')}`;
      const { digest, rehashed } = await contextChecksum(action, from, context);
      named.push([name, digest]);
      if (rehashed.length > 0) context.explain(name, describeChanged(rehashed));
    } else if (contentOfStates) {
      const digest = await stateChecksum(action, from, context);
      named.push([`files from ${action.sources.join(' ')}`, digest]);
    } else {
      named.push([`from ${action.sources.join(' ')}`, from.key]);
    }
  }
  return named;
}

/** What a copy's checksum covers of its action: the selection, and whether it sets owners. */
function selectionOf(action: CopyAction): Omit<ChecksumRequest, 'source'> {
  return {
    sources: action.sources,
    excludes: action.excludes,
    parents: action.parents,
    followSymlinks: action.followSymlinks,
    ...(action.chown === undefined ? {} : { owner: action.chown }),
  };
}

/**
 * What `action` selects from the stage or image `from`, by content (with owners, unless
 * --chown): once per solve, started early by {@link prepareFileState} when `from` is new.
 */
function stateChecksum(action: CopyAction, from: SolvedFs, context: StepContext): Promise<Digest> {
  const selection = selectionOf(action);
  return context.memo(`state checksum ${JSON.stringify([from.key, selection])}`, () =>
    withStateView(from, context, (dir) =>
      checksumSources({
        source: { kind: 'rootfs', dir },
        ...selection,
        ...(context.signal === undefined ? {} : { signal: context.signal }),
      }),
    ),
  );
}

/**
 * Starts hashing what `op` copies from its input `index`, a stage made in this solve: the
 * step's quick key (over the stage's key, new) will miss, and its key over the content it
 * copies needs this. It runs beside the steps before `op` (a final stage's chain of COPY
 * --from each waited for the one before it to hash its own source).
 */
export function prepareFileState(op: FileOp, index: number, input: SolvedFs, context: StepContext): Promise<unknown> | undefined {
  const work = op.actions
    .filter((action): action is CopyAction => action.kind === 'copy' && action.from === index)
    .map((action) => stateChecksum(action, input, context));
  // A failure is the key's to report, when the step gets there.
  return work.length === 0 ? undefined : Promise.allSettled(work);
}

/**
 * Starts hashing what `op` copies from build contexts: on a cold build the slowest part of its
 * key, which the steps before it do not change, so it runs beside them (the key awaits it).
 */
export function prepareFile(op: FileOp, inputs: readonly (Solved | undefined)[], context: StepContext): void {
  for (const action of op.actions) {
    if (action.kind !== 'copy') continue;
    const from = inputs[action.from];
    // A failure is the key's to report, when the step gets there.
    if (from?.kind === 'context') contextChecksum(action, from, context).catch(() => undefined);
  }
}

/** The checksum of what `action` selects from the context `from` (once per solve), and the files read for it. */
function contextChecksum(
  action: FileOp['actions'][number] & { kind: 'copy' },
  from: Solved & { kind: 'context' },
  context: StepContext,
): Promise<{ digest: Digest; rehashed: string[] }> {
  const selection = selectionOf(action);
  return context.memo(`context checksum ${JSON.stringify([from.key, from.dir, selection])}`, async () => {
    const rehashed: string[] = [];
    const digest = await checksumSources({
      source: contextRoot(from),
      ...selection,
      onRehash: (path) => rehashed.push(path),
      ...(context.deps.statCache === undefined ? {} : { statCache: context.deps.statCache }),
      ...(context.signal === undefined ? {} : { signal: context.signal }),
    });
    return { digest, rehashed };
  });
}

/** `file a.txt changed`, `files a.txt, b.txt and 3 more changed or added`. */
function describeChanged(paths: readonly string[]): string {
  const sorted = [...paths].sort();
  if (sorted.length === 1) return `file ${sorted[0]} changed`;
  const shown = sorted.slice(0, 3).join(', ');
  return sorted.length <= 3 ? `files ${shown} changed` : `files ${shown} and ${sorted.length - 3} more changed`;
}

/** Runs a file step (COPY, ADD, WORKDIR) through an overlay of its parent; its changes are its layer. */
export async function runFile(op: FileOp, inputs: readonly Solved[], context: StepContext): Promise<LayerRef> {
  const { deps, signal } = context;
  const parent = inputs[0]!;
  if (parent.kind !== 'fs') throw new Error('a file step on a non-file-system input');
  const parentName = await context.snapshotOf(parent.layers);
  const key = `step-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  const linked = isLinked(op);
  // COPY --link: the files go onto an empty snapshot, a layer of their own that does not
  // depend on the parent (BuildKit's merge); owner names still come from the parent's files.
  const mounts = await deps.snapshotter.prepare(key, linked ? undefined : parentName, signal === undefined ? {} : { signal });
  let committed = false;
  const scratch = linked ? await deps.tempDir() : undefined;
  try {
    const users = scratch === undefined ? undefined : await parentUserFiles(parentName, scratch, context);
    await withMountedRoot(mounts, deps.mountsDir, false, async (root) => {
      const userRoot = users ?? root;
      for (const action of op.actions) {
        signal?.throwIfAborted();
        switch (action.kind) {
          case 'copy':
            await runCopy(action, inputs, root, userRoot, context);
            break;
          case 'mkdir': {
            const owner = await resolveChown(userRoot, action.chown);
            await makeDirectory(root, action.path, { mode: action.mode, owner });
            break;
          }
          case 'mkfile': {
            const owner = action.chown === undefined ? { uid: 0, gid: 0 } : await resolveChown(userRoot, action.chown);
            await makeFile(root, action.path, action.data, { mode: action.mode, owner });
            break;
          }
          case 'http':
            await runHttp(action, root, context);
            break;
          default:
            throw new Error(`unexpected file action ${JSON.stringify(action satisfies never)}`);
        }
      }
    });
    const layer = linked ? await commitStep(context, key, undefined, []) : await commitStep(context, key, parentName, parent.layers);
    committed = true;
    return layer;
  } finally {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
    if (!committed) await deps.snapshotter.remove(key).catch(() => undefined);
  }
}

/** Whether a file op is a `COPY --link` (or `ADD --link`): its layer stands on its own. */
export function isLinked(op: FileOp): boolean {
  return op.actions.some((a) => a.kind === 'copy' && a.link);
}

/** The parent's /etc/passwd and /etc/group in `scratch`, read through a view of its snapshot. */
async function parentUserFiles(parentName: string | undefined, scratch: string, context: StepContext): Promise<string> {
  const view = `view-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  const mounts = await context.deps.snapshotter.view(view, parentName);
  try {
    return await userFiles(new MergedReader(mounts), scratch);
  } finally {
    await context.deps.snapshotter.remove(view);
  }
}

async function runCopy(action: CopyAction, inputs: readonly Solved[], root: string, userRoot: string, context: StepContext): Promise<void> {
  const from = inputs[action.from];
  if (from === undefined) throw new Error(`copy from input ${action.from} is missing`);
  const owner = action.chown === undefined ? undefined : await resolveChown(userRoot, action.chown);
  const copy = async (source: CopySourceRoot): Promise<void> =>
    copyFiles({
      source,
      sources: action.sources,
      destRoot: root,
      dest: action.dest,
      ...(owner === undefined ? {} : { owner }),
      ...(action.chmod === undefined ? {} : { chmod: action.chmod }),
      excludes: action.excludes,
      parents: action.parents,
      followSymlinks: action.followSymlinks,
      unpack: action.unpack,
      ...(context.signal === undefined ? {} : { signal: context.signal }),
    });
  if (from.kind === 'context') return copy(contextRoot(from));
  await withStateView(from, context, (dir) => copy({ kind: 'rootfs', dir }));
}

/** Downloads of this process by URL: a file fetched for a key is the one the step copies. */
const downloads = new Map<string, Promise<Downloaded>>();

function prefetch(url: string, context: StepContext, checksum?: Digest): Promise<Downloaded> {
  let pending = downloads.get(url);
  if (pending === undefined) {
    pending = (async () => {
      const dir = await context.deps.tempDir();
      return download(url, join(dir, 'download'), checksum, context.signal);
    })();
    downloads.set(url, pending);
    pending.catch(() => downloads.delete(url));
  }
  return pending;
}

/** ADD https://…: the download (mode 0600, as BuildKit's http source) copied to its destination. */
async function runHttp(action: HttpAction, root: string, context: StepContext): Promise<void> {
  const fetched = await prefetch(action.url, context, action.checksum);
  if (action.checksum !== undefined && fetched.digest !== action.checksum) {
    throw new IntegrityError(`digest mismatch for ${action.url}: expected ${action.checksum}, got ${fetched.digest}`);
  }
  const name = action.filename ?? '__unnamed__';
  const dir = await context.deps.tempDir();
  try {
    await rename(fetched.path, join(dir, name)).catch(async () => copyFile(fetched.path, join(dir, name)));
    downloads.delete(action.url);
    const owner = action.chown === undefined ? undefined : await resolveChown(root, action.chown);
    await copyFiles({
      source: { kind: 'rootfs', dir, name: action.url },
      sources: [name],
      destRoot: root,
      dest: action.dest,
      ...(owner === undefined ? {} : { owner }),
      ...(action.chmod === undefined ? {} : { chmod: action.chmod }),
      excludes: [],
      parents: false,
      followSymlinks: false,
      unpack: false,
      ...(context.signal === undefined ? {} : { signal: context.signal }),
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `fn` with a read-only view of a solved file system at a host path. */
async function withStateView<T>(state: SolvedFs, context: StepContext, fn: (dir: string) => Promise<T>): Promise<T> {
  const { deps } = context;
  const name = await context.snapshotOf(state.layers);
  const key = `view-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  const mounts = await deps.snapshotter.view(key, name);
  try {
    return await withMountedRoot(mounts, deps.mountsDir, true, fn);
  } finally {
    await deps.snapshotter.remove(key);
  }
}

function contextRoot(from: Solved & { kind: 'context' }): CopySourceRoot {
  return from.filter === undefined ? { kind: 'context', dir: from.dir } : { kind: 'context', dir: from.dir, ignore: from.filter };
}
