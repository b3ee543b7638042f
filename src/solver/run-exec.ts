import { randomBytes } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { Writable } from 'node:stream';
import type { CacheKeyInput, LayerRef } from '../cache/index.ts';
import { checksumSources } from '../cache/index.ts';
import { InputError, UsageError } from '../errors/index.ts';
import type { ExecMount, ExecOp } from '../graph/index.ts';
import { resolveInRoot } from '../image/apply/index.ts';
import { CAPABILITIES, type BindMount, type Capability, type RunSpec } from '../sandbox/index.ts';
import { resolveUser } from './file/index.ts';
import { withMountedRoot } from './mounted-root.ts';
import type { Solved } from './solved.ts';
import type { StepContext } from './step-context.ts';
import { commitStep } from './commit-step.ts';

/** Paths the sandbox mounts over or creates in the root file system (sandbox-setup.ts). */
const SANDBOX_STUBS = ['/proc', '/dev', '/sys', '/etc', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf'];

/**
 * The named inputs of a RUN step's key: the parent's key, every value the command sees
 * (argv, each environment variable, user, working directory, network, security), its mounts
 * with their options, the keys of the states it mounts (bind from a stage) or the content
 * digest of what it mounts from the context. Never the content of cache mounts or secrets.
 */
export async function execCacheInputs(op: ExecOp, inputs: readonly Solved[], context: StepContext): Promise<CacheKeyInput['inputs']> {
  const named: [string, string][] = [
    ['parent', inputs[0]!.key],
    ['command', JSON.stringify(op.argv)],
  ];
  for (const entry of op.env) {
    const eq = entry.indexOf('=');
    named.push([`env ${eq < 0 ? entry : entry.slice(0, eq)}`, eq < 0 ? '' : entry.slice(eq + 1)]);
  }
  named.push(['user', op.user], ['workdir', op.cwd], ['network', op.network], ['security', op.security]);
  for (const file of op.files) named.push([`file ${file.path}`, JSON.stringify([file.mode, file.data])]);
  for (const mount of op.mounts) {
    named.push([`mount ${mount.target ?? mount.kind}`, JSON.stringify({ ...mount, from: undefined })]);
    if ((mount.kind === 'bind' || mount.kind === 'cache') && mount.from !== undefined) {
      const from = inputs[mount.from];
      if (from === undefined) throw new Error(`mount from input ${mount.from} is missing`);
      if (mount.kind === 'bind' && from.kind === 'context') {
        named.push([
          `mount ${mount.target} content`,
          await checksumSources({
            source: { kind: 'context', dir: from.dir, ...(from.filter === undefined ? {} : { ignore: from.filter }) },
            sources: [mount.source === '' ? '.' : mount.source],
            excludes: [],
            parents: false,
            followSymlinks: true,
            ...(context.deps.statCache === undefined ? {} : { statCache: context.deps.statCache }),
            ...(context.signal === undefined ? {} : { signal: context.signal }),
          }),
        ]);
      } else {
        named.push([`mount ${mount.target} from`, from.key]);
      }
    }
  }
  return named;
}

/** Runs a RUN step on a snapshot of its parent and turns the changes into its layer. */
export async function runExec(op: ExecOp, inputs: readonly Solved[], context: StepContext): Promise<LayerRef> {
  const { deps, options, signal } = context;
  if (op.network === 'host' && options.allow?.networkHost !== true) {
    throw new UsageError('network mode "host" is not allowed: RUN --network=host needs --allow network.host');
  }
  if (op.security === 'insecure' && options.allow?.securityInsecure !== true) {
    throw new UsageError('security mode "insecure" is not allowed: RUN --security=insecure needs --allow security.insecure');
  }
  const parent = inputs[0]!;
  if (parent.kind !== 'fs') throw new Error('RUN on a non-file-system input');
  const parentName = await context.snapshotOf(parent.layers);
  const key = `step-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  const mounts = await deps.snapshotter.prepare(key, parentName, signal === undefined ? {} : { signal });
  let committed = false;
  const scratch = await deps.tempDir();
  try {
    const binds = await execBinds(op, inputs, context, scratch);
    const stubPaths = [...SANDBOX_STUBS, ...binds.map((b) => b.target)];
    const { user, missing } = await withMountedRoot(mounts, deps.mountsDir, false, async (root) => ({
      user: await resolveUser(root, op.user),
      missing: await missingPaths(root, stubPaths),
    }));
    const env = op.env.some((e) => e.startsWith('HOME=')) ? [...op.env] : [...op.env, `HOME=${user.home}`];
    const spec: RunSpec = {
      argv: op.argv,
      env,
      cwd: op.cwd,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      hostname: 'buildkitsandbox',
      network: op.network === 'host' ? 'host' : 'none',
      mounts: binds,
      ...(op.security === 'insecure' ? { capabilities: Object.keys(CAPABILITIES) as Capability[], seccomp: 'unconfined' as const } : {}),
      ...(options.resources === undefined ? {} : { resources: options.resources }),
    };
    const result = await deps.executor.run(
      spec,
      mounts,
      { stdout: logStream(context, 1), stderr: logStream(context, 2) },
      signal,
    );
    if (result.exitCode !== 0) {
      const code = result.exitCode === null ? `signal: ${result.signal}` : `exit code: ${result.exitCode}`;
      throw new InputError(
        `process ${JSON.stringify(op.argv.join(' '))} did not complete successfully: ${code}${result.oomKilled ? ' (killed: out of memory)' : ''}`,
      );
    }
    // Mount points the sandbox had to create are not the command's changes.
    if (missing.length > 0) await withMountedRoot(mounts, deps.mountsDir, false, (root) => removeStubs(root, missing));
    const layer = await commitStep(context, key, parentName, parent.layers);
    committed = true;
    return layer;
  } finally {
    await rm(scratch, { recursive: true, force: true });
    if (!committed) await deps.snapshotter.remove(key).catch(() => undefined);
  }
}

/** The binds of a RUN's mounts and heredoc files. */
async function execBinds(op: ExecOp, inputs: readonly Solved[], context: StepContext, scratch: string): Promise<BindMount[]> {
  const binds: BindMount[] = [];
  for (const [index, file] of op.files.entries()) {
    const path = join(scratch, `file-${index}`);
    await writeFile(path, file.data, { mode: file.mode });
    await chmod(path, file.mode);
    binds.push({ source: path, target: file.path, readonly: true });
  }
  for (const mount of op.mounts) binds.push(await execMountBind(mount, inputs, context, scratch));
  return binds;
}

async function execMountBind(mount: ExecMount, inputs: readonly Solved[], context: StepContext, scratch: string): Promise<BindMount> {
  switch (mount.kind) {
    case 'cache': {
      // TODO(#6): sharing=locked|private and from= seeding; every cache is shared for now.
      const dir = join(context.deps.cacheMountsDir, cacheDirName(mount.id));
      await mkdir(dir, { recursive: true });
      const made = await readdir(dir).then((n) => n.length === 0);
      if (made) {
        await chown(dir, mount.uid, mount.gid);
        await chmod(dir, mount.mode);
      }
      return { source: dir, target: mount.target, readonly: mount.readonly };
    }
    case 'bind': {
      const from = inputs[mount.from];
      if (from === undefined) throw new Error(`mount from input ${mount.from} is missing`);
      if (from.kind === 'context') {
        const source = await resolveInRoot(from.dir, mount.source);
        await lstat(source).catch(() => {
          throw new InputError(`mount source ${JSON.stringify(mount.source)} not found in the build context`);
        });
        // TODO(#6): rw binds whose writes are discarded (an overlay over the source).
        return { source, target: mount.target, readonly: true };
      }
      const name = await context.snapshotOf(from.layers);
      const view = `view-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
      const dir = join(scratch, `bind-${basename(view)}`);
      await mkdir(dir);
      // A copy of the stage's tree under the source path: a view's mounts may be an overlay,
      // which the sandbox cannot take as a bind source without mounting it first.
      await context.deps.snapshotter.view(view, name);
      try {
        const viewMounts = await context.deps.snapshotter.mounts(view);
        await withMountedRoot(viewMounts, context.deps.mountsDir, true, async (root) => {
          const { cp } = await import('node:fs/promises');
          await cp(await resolveInRoot(root, mount.source), dir, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
        });
      } finally {
        await context.deps.snapshotter.remove(view);
      }
      return { source: dir, target: mount.target, readonly: !mount.readwrite };
    }
    case 'tmpfs':
    case 'secret':
    case 'ssh':
      throw new UsageError(`RUN --mount=type=${mount.kind} is not supported yet`);
    default:
      return assertNever(mount);
  }
}

function cacheDirName(id: string): string {
  return Buffer.from(id).toString('base64url').slice(0, 200) || 'default';
}

/** Which of `paths` (absolute in the root) do not exist in `root`. */
async function missingPaths(root: string, paths: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const path of new Set(paths.flatMap((p) => ancestors(p)))) {
    const host = join(await resolveInRoot(root, posix.dirname(path)), posix.basename(path));
    if ((await lstat(host).catch(() => undefined)) === undefined) missing.push(path);
  }
  return missing;
}

/** `/a/b/c` → `/a`, `/a/b`, `/a/b/c`. */
function ancestors(path: string): string[] {
  const parts = posix.normalize(path).split('/').filter((p) => p !== '');
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/** Removes the mount points the sandbox made, deepest first, while they are still empty. */
async function removeStubs(root: string, missing: readonly string[]): Promise<void> {
  for (const path of [...missing].sort((a, b) => b.length - a.length)) {
    const host = join(await resolveInRoot(root, dirname(path)), basename(path));
    const stats = await lstat(host).catch(() => undefined);
    if (stats === undefined) continue;
    if (stats.isDirectory() && (await readdir(host)).length === 0) await rm(host, { recursive: true });
    else if (stats.isFile() && stats.size === 0) await rm(host);
  }
}

/** A writable that turns a command's output into progress log events. */
function logStream(context: StepContext, stream: 1 | 2): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      context.log(stream, chunk.toString('utf8'));
      callback();
    },
  });
}

function assertNever(value: never): never {
  throw new Error(`unexpected mount ${JSON.stringify(value)}`);
}

