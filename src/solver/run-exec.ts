import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { chmod, chown, cp, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { Writable } from 'node:stream';
import type { CacheKeyInput, LayerRef } from '../cache/index.ts';
import { checksumSources } from '../cache/index.ts';
import { InputError, UsageError } from '../errors/index.ts';
import type { ExecMount, ExecOp } from '../graph/index.ts';
import { resolveInRoot } from '../image/apply/index.ts';
import { CAPABILITIES, type BindMount, type Capability, type RunSpec, type TmpfsMount } from '../sandbox/index.ts';
import { MergedReader, upperDirOf } from '../snapshot/index.ts';
import { resolveUserIn } from './file/index.ts';
import { withMountedRoot } from './mounted-root.ts';
import { userFilesIn } from './user-files.ts';
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
  const release: (() => void | Promise<void>)[] = [];
  try {
    const { mounts: binds, env: mountEnv } = await execMounts(op, inputs, context, scratch, release);
    const stubPaths = [...SANDBOX_STUBS, ...binds.map((b) => b.target)];
    // Read through the snapshot's layer directories: no mount before the run.
    const reader = new MergedReader(mounts);
    const user = await resolveUserIn(userFilesIn(reader), op.user);
    const missing = [...new Set(stubPaths.flatMap((p) => ancestors(p)))].filter((p) => !reader.exists(p));
    const env = withEntries(op.env.some((e) => e.startsWith('HOME=')) ? [...op.env] : [...op.env, `HOME=${user.home}`], [...(op.proxyEnv ?? []), ...mountEnv]);
    const spec: RunSpec = {
      argv: op.argv,
      env,
      cwd: op.cwd,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      hostname: 'buildkitsandbox',
      network: op.network === 'host' ? 'host' : 'none',
      mounts: binds,
      ...(op.security === 'insecure' ? { capabilities: await hostCapabilities(), seccomp: 'unconfined' as const } : {}),
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
    if (missing.length > 0) {
      const upper = upperDirOf(mounts);
      if (upper !== undefined) await removeStubs(upper, missing);
    }
    const layer = await commitStep(context, key, parentName, parent.layers);
    committed = true;
    return layer;
  } finally {
    for (const fn of release.reverse()) await fn();
    rmSync(scratch, { recursive: true, force: true });
    if (!committed) await deps.snapshotter.remove(key).catch(() => undefined);
  }
}

/** The mounts of a RUN's `--mount`s and heredoc files, and the environment they add (secret env, SSH_AUTH_SOCK). */
async function execMounts(
  op: ExecOp,
  inputs: readonly Solved[],
  context: StepContext,
  scratch: string,
  release: (() => void | Promise<void>)[],
): Promise<{ mounts: (BindMount | TmpfsMount)[]; env: string[] }> {
  const mounts: (BindMount | TmpfsMount)[] = [];
  const env: string[] = [];
  for (const [index, file] of op.files.entries()) {
    const path = join(scratch, `file-${index}`);
    await writeFile(path, file.data, { mode: file.mode });
    await chmod(path, file.mode);
    mounts.push({ source: path, target: file.path, readonly: true });
  }
  for (const [index, mount] of op.mounts.entries()) {
    const made = await execMount(mount, index, inputs, context, scratch, release);
    if (made.mount !== undefined) mounts.push(made.mount);
    env.push(...made.env);
  }
  return { mounts, env };
}

async function execMount(
  mount: ExecMount,
  index: number,
  inputs: readonly Solved[],
  context: StepContext,
  scratch: string,
  release: (() => void | Promise<void>)[],
): Promise<{ mount: BindMount | TmpfsMount | undefined; env: string[] }> {
  const { deps } = context;
  switch (mount.kind) {
    case 'cache': {
      const base = join(deps.cacheMountsDir, cacheDirName(mount.id));
      let dir = base;
      if (mount.sharing === 'locked') {
        // One step at a time: in this process, then across kiln processes (a lock file).
        release.push(await lockCacheMount(base));
        const unlock = await deps.lockFile?.(await mountLockPath(deps.cacheMountsDir, mount.id), true, context.signal);
        if (unlock !== undefined) release.push(unlock);
      } else if (mount.sharing === 'private') {
        const claimed =
          claimPrivate(base, release) &&
          (deps.lockFile === undefined || (await claimFile(deps.lockFile, await mountLockPath(deps.cacheMountsDir, mount.id), release)));
        // In use by another step: a fresh directory, discarded afterwards.
        if (!claimed) dir = join(scratch, `cache-${index}`);
      }
      await mkdir(dir, { recursive: true });
      if ((await readdir(dir)).length === 0) {
        await chown(dir, mount.uid, mount.gid);
        await chmod(dir, mount.mode);
        const from = mount.from === undefined ? undefined : inputs[mount.from];
        if (from !== undefined) await copyFromSource(from, mount.source, dir, context);
      }
      return { mount: { source: dir, target: mount.target, readonly: mount.readonly }, env: [] };
    }
    case 'bind': {
      const from = inputs[mount.from];
      if (from === undefined) throw new Error(`mount from input ${mount.from} is missing`);
      if (from.kind === 'context' && !mount.readwrite) {
        const source = await resolveInRoot(from.dir, mount.source);
        await lstat(source).catch(() => {
          throw new InputError(`mount source ${JSON.stringify(mount.source)}: not found in the build context`);
        });
        return { mount: { source, target: mount.target, readonly: true }, env: [] };
      }
      // A stage's tree (or a writable context bind): a private copy, so writes are discarded.
      const dir = join(scratch, `bind-${index}`);
      await mkdir(dir);
      await copyFromSource(from, mount.source, dir, context);
      return { mount: { source: dir, target: mount.target, readonly: !mount.readwrite }, env: [] };
    }
    case 'tmpfs':
      return { mount: { type: 'tmpfs', target: mount.target, size: mount.size }, env: [] };
    case 'secret': {
      const value = await deps.secrets?.(mount.id);
      if (value === undefined) {
        if (mount.required) throw new InputError(`secret ${mount.id}: not found`, { hint: `pass it with --secret id=${mount.id},src=FILE or env=VAR` });
        return { mount: undefined, env: [] };
      }
      const env = mount.env === undefined ? [] : [`${mount.env}=${value.toString('utf8')}`];
      if (mount.target === undefined) return { mount: undefined, env };
      const path = join(scratch, `secret-${index}`);
      await writeFile(path, value, { mode: 0o600 });
      await chown(path, mount.uid, mount.gid);
      await chmod(path, mount.mode);
      return { mount: { source: path, target: mount.target, readonly: true }, env };
    }
    case 'ssh': {
      const socket = deps.sshAgents?.(mount.id);
      if (socket === undefined) {
        if (mount.required) throw new InputError(`no SSH key ${JSON.stringify(mount.id)} forwarded from the client`, { hint: `pass --ssh ${mount.id}[=SOCKET]` });
        return { mount: undefined, env: [] };
      }
      return { mount: { source: socket, target: mount.target, readonly: false }, env: [`SSH_AUTH_SOCK=${mount.target}`] };
    }
    default:
      return assertNever(mount);
  }
}

/** Copies `source` (a path inside a solved state or the context) into `dest`. */
async function copyFromSource(from: Solved, source: string, dest: string, context: StepContext): Promise<void> {
  const copyTree = async (root: string): Promise<void> => {
    const path = await resolveInRoot(root, source === '' ? '.' : source);
    if ((await lstat(path).catch(() => undefined)) === undefined) {
      throw new InputError(`mount source ${JSON.stringify(source)}: not found`);
    }
    await cp(path, dest, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true, force: true });
  };
  if (from.kind === 'context') return copyTree(from.dir);
  const name = await context.snapshotOf(from.layers);
  const view = `view-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  const mounts = await context.deps.snapshotter.view(view, name);
  try {
    await withMountedRoot(mounts, context.deps.mountsDir, true, copyTree);
  } finally {
    await context.deps.snapshotter.remove(view);
  }
}

/** Cache mounts with sharing=locked: one step at a time per cache in this process. */
const cacheLocks = new Map<string, Promise<void>>();

async function lockCacheMount(dir: string): Promise<() => void> {
  const previous = cacheLocks.get(dir) ?? Promise.resolve();
  let unlock!: () => void;
  const held = new Promise<void>((resolve) => (unlock = resolve));
  const next = previous.then(() => held);
  cacheLocks.set(dir, next);
  await previous;
  return () => {
    unlock();
    if (cacheLocks.get(dir) === next) cacheLocks.delete(dir);
  };
}

/** Takes the lock file without waiting; false when another holds it. */
async function claimFile(
  lockFile: NonNullable<StepContext['deps']['lockFile']>,
  path: string,
  release: (() => void | Promise<void>)[],
): Promise<boolean> {
  const unlock = await lockFile(path, false);
  if (unlock === undefined) return false;
  release.push(unlock);
  return true;
}

/** Cache mounts with sharing=private in use by a step of this process. */
const privateInUse = new Set<string>();

function claimPrivate(dir: string, release: (() => void | Promise<void>)[]): boolean {
  if (privateInUse.has(dir)) return false;
  privateInUse.add(dir);
  release.push(() => {
    privateInUse.delete(dir);
  });
  return true;
}

/** The lock file of a cache mount, beside (not inside) the cache mounts' directory. */
async function mountLockPath(cacheMountsDir: string, id: string): Promise<string> {
  const dir = join(dirname(cacheMountsDir), 'mount-locks');
  await mkdir(dir, { recursive: true });
  return join(dir, `${cacheDirName(id)}.lock`);
}

function cacheDirName(id: string): string {
  return Buffer.from(id).toString('base64url').slice(0, 200) || 'default';
}

/**
 * Every capability kiln itself may pass on (`RUN --security=insecure`: BuildKit grants all
 * of its own): its bounding set, which a container running kiln may have cut.
 */
async function hostCapabilities(): Promise<Capability[]> {
  const status = await readFile('/proc/self/status', 'utf8');
  const bounding = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`);
  return (Object.entries(CAPABILITIES) as [Capability, number][]).filter(([, n]) => ((bounding >> BigInt(n)) & 1n) === 1n).map(([name]) => name);
}

/** `env` with each `NAME=value` of `extra` set (replacing an entry of the same name). */
function withEntries(env: readonly string[], extra: readonly string[]): string[] {
  const names = new Set(extra.map((e) => e.slice(0, e.indexOf('='))));
  return [...env.filter((e) => !names.has(e.slice(0, e.indexOf('=')))), ...extra];
}

/** `/a/b/c` → `/a`, `/a/b`, `/a/b/c`. */
function ancestors(path: string): string[] {
  const parts = posix.normalize(path).split('/').filter((p) => p !== '');
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/**
 * Removes the mount points the sandbox made, deepest first, while they are still empty: from
 * the snapshot's upper directory, where a path missing before the run can only be new (names
 * resolved inside it, so a symlink the command planted leads nowhere else).
 */
async function removeStubs(root: string, missing: readonly string[]): Promise<void> {
  // A handful of paths: synchronous calls.
  for (const path of [...missing].sort((a, b) => b.length - a.length)) {
    const host = join(await resolveInRoot(root, dirname(path)), basename(path));
    const stats = lstatSync(host, { throwIfNoEntry: false });
    if (stats === undefined) continue;
    if (stats.isDirectory() && readdirSync(host).length === 0) rmSync(host, { recursive: true });
    else if (stats.isFile() && stats.size === 0) rmSync(host);
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

