import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { InputError, InternalError } from '../errors/index.ts';
import { signalSandbox, spawnSandbox, watchSandboxExit } from '../native/index.ts';
import type { NativeSandboxError, NativeSpawnResult } from '../native/index.ts';
import { CAPABILITIES, DEFAULT_CAPABILITIES, RLIMITS, type Capability } from './capabilities.ts';
import type { Executor, RootfsMount, RunResult, RunSpec, SandboxIo } from './executor.ts';
import { createRunCgroups, detectCgroupHierarchies, removeAbandonedCgroups, type CgroupHierarchies, type RunCgroups } from './cgroups.ts';
import { sandboxSetup, type EtcFiles, type ResolvedMount } from './sandbox-setup.ts';
import { defaultSeccompFilter } from './seccomp-bpf.ts';

/** Options of {@link LinuxExecutor}. */
export interface LinuxExecutorOptions {
  /** Where each run's scratch directory (its root mount point, its /etc files) is made; os.tmpdir() by default. */
  readonly stateDir?: string;
  /** How long an aborted command has between SIGTERM and SIGKILL; 10 s by default, as `docker stop`. */
  readonly gracePeriodMs?: number;
  /** Where each cgroup controller is; detected from the mount table on first need by default. */
  readonly cgroupHierarchies?: CgroupHierarchies;
}

/** The umask a command starts with, Docker's. */
const UMASK = 0o022;

/**
 * Runs each command in new mount, pid, uts, ipc, cgroup and (network 'none') net namespaces
 * through the native addon, as root of the host (no user namespace yet): the command is PID 2
 * under kiln-init, which reaps, forwards signals, and takes every process of the sandbox with it
 * when the command exits or when kiln dies. Every mount is made in the sandbox's own mount
 * namespace, so kiln's mount table never changes; the scratch directory is removed on every path.
 * With `resources`, the run gets cgroups of its own (cgroups.ts, v1 or v2 per controller) that
 * the sandbox joins before anything else, removed on every path too. Unless the spec says
 * 'unconfined', kiln-init and the command run under Docker's default seccomp profile for the
 * run's bounding set, compiled once per set and process (seccomp-bpf.ts).
 */
export class LinuxExecutor implements Executor {
  readonly #stateDir: string;
  readonly #gracePeriodMs: number;
  #hierarchies: Promise<CgroupHierarchies> | undefined;

  constructor(options: LinuxExecutorOptions = {}) {
    this.#stateDir = options.stateDir ?? tmpdir();
    this.#gracePeriodMs = options.gracePeriodMs ?? 10_000;
    if (options.cgroupHierarchies !== undefined) this.#hierarchies = Promise.resolve(options.cgroupHierarchies);
  }

  async run(spec: RunSpec, rootfs: readonly RootfsMount[], io: SandboxIo, signal?: AbortSignal): Promise<RunResult> {
    signal?.throwIfAborted();
    let cgroups: RunCgroups | undefined;
    if (spec.resources !== undefined) {
      // The first run with limits also removes what dead kiln processes left in the
      // hierarchies (their owner is in each cgroup's name); a live owner's stay.
      this.#hierarchies ??= detectCgroupHierarchies().then(async (found) => {
        await removeAbandonedCgroups(found);
        return found;
      });
      cgroups = await createRunCgroups(spec.resources, await this.#hierarchies);
    }
    // The scratch files are a few small ones: synchronous calls, a tenth of the cost of
    // round trips through libuv's thread pool, are the cheaper way to make and remove them.
    let dir: string;
    try {
      dir = mkdtempSync(join(this.#stateDir, 'kiln-sandbox-'));
    } catch (error) {
      await cgroups?.remove();
      throw error;
    }
    try {
      const root = join(dir, 'root');
      mkdirSync(root);
      const etc = writeEtcFiles(dir, spec);
      const mounts: ResolvedMount[] = [];
      for (const mount of spec.mounts ?? []) {
        mounts.push(mount.type === 'tmpfs' ? mount : { ...mount, isDirectory: statSync(mount.source).isDirectory() });
      }
      const setup = sandboxSetup(root, rootfs, etc, mounts);
      const capabilities = spec.capabilities ?? DEFAULT_CAPABILITIES;
      const seccomp = seccompFilter(spec.seccomp ?? 'default', capabilities);
      signal?.throwIfAborted();
      let started: NativeSpawnResult;
      try {
        started = spawnSandbox({
          argv: spec.argv,
          env: spec.env,
          cwd: spec.cwd,
          root,
          hostname: spec.hostname,
          newNetwork: spec.network === 'none',
          uid: spec.user.uid,
          gid: spec.user.gid,
          groups: spec.user.additionalGids,
          umask: UMASK,
          capabilities: capabilities.map((name) => CAPABILITIES[name]),
          noNewPrivileges: spec.noNewPrivileges ?? false,
          ...(seccomp === undefined ? {} : { seccomp }),
          rlimits: (spec.rlimits ?? []).map(({ name, soft, hard }) => ({ resource: RLIMITS[name], soft, hard })),
          setup,
          cgroupProcs: cgroups?.procsFiles ?? [],
          stdin: io.stdin !== undefined,
        });
      } catch (error) {
        throw startError(error, spec);
      }
      const status = await this.#supervise(started, io, signal);
      return { ...status, oomKilled: (await cgroups?.oomKilled()) ?? false };
    } finally {
      // Only an empty directory is left at `root` in kiln's namespace: the mounts were the sandbox's.
      rmSync(dir, { recursive: true, force: true });
      await cgroups?.remove();
    }
  }

  /** Streams the io of a started sandbox and waits for its end, honouring `signal`. */
  async #supervise(
    started: NativeSpawnResult,
    io: SandboxIo,
    signal: AbortSignal | undefined,
  ): Promise<Omit<RunResult, 'oomKilled'>> {
    let exited = false;
    const exit = new Promise<{ code: number | null; signal: number | null }>((resolve, reject) => {
      watchSandboxExit(started.pidfd, (error, code, killedBy) => {
        exited = true;
        if (error === null) resolve({ code, signal: killedBy });
        else reject(error);
      });
    });
    // The pidfd is the watcher's from now on, and closed by it at the exit.
    const kill = (number: number): void => {
      if (exited) return;
      try {
        signalSandbox(started.pidfd, number);
      } catch (error) {
        // Exited, not yet reaped.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    };

    let grace: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      kill(osConstants.signals.SIGTERM);
      grace = setTimeout(() => kill(osConstants.signals.SIGKILL), this.#gracePeriodMs);
    };
    let stdin: Socket | undefined;
    try {
      const outputs = [pump(started.stdout, io.stdout), pump(started.stderr, io.stderr)];
      if (io.stdin !== undefined) {
        stdin = new Socket({ fd: started.stdin, readable: false, writable: true });
        // The command may exit without reading it all: EPIPE is its business, not kiln's.
        stdin.on('error', () => {});
        io.stdin.pipe(stdin);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted === true) onAbort();
      const [status] = await Promise.all([exit, ...outputs]);
      signal?.throwIfAborted();
      return {
        exitCode: status.code,
        signal: status.signal === null ? null : signalName(status.signal),
      };
    } catch (error) {
      // Whatever failed here, the sandbox does not outlive the run.
      kill(osConstants.signals.SIGKILL);
      await exit.catch(() => {});
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(grace);
      if (stdin !== undefined) {
        io.stdin?.unpipe(stdin);
        stdin.destroy();
      }
    }
  }
}

/** The filter a run's `seccomp` asks for: Docker's profile for its bounding set (compiled once), or none. */
function seccompFilter(seccomp: NonNullable<RunSpec['seccomp']>, capabilities: readonly Capability[]): Uint8Array | undefined {
  switch (seccomp) {
    case 'default':
      return defaultSeccompFilter(capabilities);
    case 'unconfined':
      return undefined;
    default:
      throw new InternalError(`unknown seccomp setting ${JSON.stringify(seccomp satisfies never)}`);
  }
}

/** Delivers the pipe `fd` into `to` as it comes (never ending `to`), or discards it; settles at EOF. */
async function pump(fd: number, to: Writable | undefined): Promise<void> {
  const from = new Socket({ fd, readable: true, writable: false });
  if (to === undefined) from.resume();
  else from.pipe(to, { end: false });
  await once(from, 'close');
}

/** The /etc/hosts, /etc/hostname and /etc/resolv.conf of a sandbox, written into `dir`. */
function writeEtcFiles(dir: string, spec: RunSpec): EtcFiles {
  const files: EtcFiles = {
    hosts: join(dir, 'hosts'),
    hostname: join(dir, 'hostname'),
    resolvConf: join(dir, 'resolv.conf'),
  };
  // With the host's network the host's names and resolvers apply, as `docker run --network host`;
  // without a network there is nothing to resolve.
  const hosts =
    spec.network === 'host'
      ? readHostFile('/etc/hosts')
      : `127.0.0.1\tlocalhost ${spec.hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
  const resolvConf = spec.network === 'host' ? readHostFile('/etc/resolv.conf') : '';
  writeFileSync(files.hosts, hosts, { mode: 0o644 });
  writeFileSync(files.hostname, `${spec.hostname}\n`, { mode: 0o644 });
  writeFileSync(files.resolvConf, resolvConf, { mode: 0o644 });
  return files;
}

function readHostFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

function signalName(number: number): NodeJS.Signals {
  const names = Object.entries(osConstants.signals) as [NodeJS.Signals, number][];
  const found = names.find(([, value]) => value === number);
  if (found === undefined) throw new InternalError(`the sandbox was killed by signal ${number}, which Node does not name`);
  return found[0];
}

function isSandboxError(error: unknown): error is NativeSandboxError {
  return error instanceof Error && typeof (error as Partial<NativeSandboxError>).stage === 'string';
}

/** A failed spawn as a KilnError: the command's fault (not found, not executable) or kiln's. */
function startError(error: unknown, spec: RunSpec): unknown {
  if (!isSandboxError(error)) return error;
  if (error.stage === 'lookup' || error.stage === 'exec') {
    return new InputError(error.message, {
      cause: error,
      hint:
        error.stage === 'lookup'
          ? `check the command name and the PATH of its environment (${spec.env.find((entry) => entry.startsWith('PATH=')) ?? 'the default PATH'})`
          : 'check that the command is an executable for this platform and that its file system allows executing it',
    });
  }
  if (error.stage === 'cgroup') {
    return new InternalError(`cannot put the sandbox into its cgroups: ${error.message}`, { cause: error });
  }
  if (error.stage === 'seccomp') {
    return new InternalError(`cannot install the sandbox's seccomp filter: ${error.message}`, {
      cause: error,
      hint: "the kernel needs seccomp filters (CONFIG_SECCOMP_FILTER); without them run with seccomp 'unconfined'",
    });
  }
  if (error.stage === 'cwd' && error.code === 'EACCES') {
    return new InputError(`cannot enter the working directory ${spec.cwd}: ${error.message}`, { cause: error });
  }
  return new InternalError(`cannot start the sandbox: ${error.message}`, {
    cause: error,
    hint: 'kiln runs commands in Linux namespaces and needs root (CAP_SYS_ADMIN) and a kernel with mount, pid, uts, ipc, net and cgroup namespaces',
  });
}
