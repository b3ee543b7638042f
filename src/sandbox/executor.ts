import type { Readable, Writable } from 'node:stream';
import type { Capability, Rlimit } from './capabilities.ts';

/**
 * A mount of the root file system, as a snapshotter describes it (src/snapshot's `Mount`, of
 * the same shape): `{type: 'overlay', source: 'overlay', options: ['lowerdir=…', 'upperdir=…',
 * 'workdir=…']}` or `{type: 'bind', source: dir, options: ['rbind', 'rw' | 'ro']}`. The
 * sandbox performs it in its own mount namespace; kiln's mount table never changes.
 */
export interface RootfsMount {
  readonly type: 'overlay' | 'bind';
  readonly source: string;
  readonly options: readonly string[];
}

/** A host file or directory bound into the sandbox at `target` (absolute, inside it). */
export interface BindMount {
  readonly type?: 'bind';
  readonly source: string;
  readonly target: string;
  readonly readonly: boolean;
}

/** A fresh tmpfs at `target` (absolute, inside the sandbox), gone with the sandbox. */
export interface TmpfsMount {
  readonly type: 'tmpfs';
  readonly target: string;
  /** Bytes; 0 for the kernel's default (half of RAM). */
  readonly size: number;
}

/** Who the command runs as: ids inside the sandbox. */
export interface RunUser {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups (none when empty). */
  readonly additionalGids: readonly number[];
}

/**
 * What to run and how: the part of a RUN step (or `kiln run`) that is not its root file
 * system. Plain data; the executor decides everything else (the /dev, /proc and /sys it
 * mounts, the /etc/hosts it writes).
 */
export interface RunSpec {
  /** The command; argv[0] is looked up in `env`'s PATH (or the default one) as execvp does. */
  readonly argv: readonly string[];
  /** `NAME=value` entries: the whole environment of the command. */
  readonly env: readonly string[];
  /** Absolute; created (owned by root, 0755) when missing, as Docker does for WORKDIR. */
  readonly cwd: string;
  readonly user: RunUser;
  readonly hostname: string;
  /** 'none': a network namespace of its own with only `lo`, up; 'host': the host's network. */
  readonly network: 'none' | 'host';
  /** Mounted after the root file system, in order (a mount under another's target after it). */
  readonly mounts?: readonly (BindMount | TmpfsMount)[];
  /**
   * The capabilities kept (bounding set; effective and permitted for uid 0); Docker's default
   * set when absent. A uid other than 0 has none effective whatever this says.
   */
  readonly capabilities?: readonly Capability[];
  /** Sets no_new_privs (prctl(2) PR_SET_NO_NEW_PRIVS): no execve gains privileges. Off by default. */
  readonly noNewPrivileges?: boolean;
  /**
   * The system call filter, as `docker run --security-opt seccomp=…`: 'default' (when absent)
   * is Docker's default profile for the run's bounding set (seccomp-profile.ts): calls it does
   * not list fail with EPERM, among them creating namespaces, mount and the keyring calls unless
   * the run holds CAP_SYS_ADMIN; 'unconfined' installs no filter. kiln-init and everything
   * the command starts run under it; a kernel without seccomp filters fails the run.
   */
  readonly seccomp?: 'default' | 'unconfined';
  /** Resource limits; the ones not listed are kiln's own. */
  readonly rlimits?: readonly Rlimit[];
  /** cgroup limits of the whole sandbox (every process in it); none when absent. */
  readonly resources?: RunResources;
}

/**
 * cgroup limits of a run, as `docker run --memory --memory-swap --pids-limit --cpus`. A limit
 * whose controller the host lacks is an error, never ignored.
 */
export interface RunResources {
  /** Bytes of memory; past it the kernel's OOM killer kills a process of the sandbox. */
  readonly memory?: number;
  /** Bytes of memory plus swap (at least `memory`, which it needs); no swap when absent. */
  readonly memorySwap?: number;
  /** How many processes (threads) may exist in the sandbox at once; fork fails past it. */
  readonly pids?: number;
  /** CPU time as a number of CPUs (0.5: half of one), a CFS quota per 100 ms period. */
  readonly cpus?: number;
}

/**
 * Where the command's standard streams go. stdout and stderr are written as the command
 * writes them, never ended; absent ones are discarded. stdin is piped in, or the command
 * reads /dev/null without one.
 */
export interface SandboxIo {
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  readonly stderr?: Writable;
}

/**
 * How the command ended: `exitCode` its exit status, or 128 + the number of the signal that
 * killed it (as a shell reports it: the sandbox's init exits so); `signal` set, and
 * `exitCode` null, only when the sandbox itself was killed (an abort past its grace period).
 */
export interface RunResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether the OOM killer killed a process of the run (only with a `resources.memory` limit). */
  readonly oomKilled: boolean;
}

/**
 * Runs commands in isolation. `run` resolves once the command and everything it started have
 * exited and its output was delivered; it leaves no process and no mount behind on any path.
 */
export interface Executor {
  /**
   * Runs `spec` on `rootfs` (mounted in order at `/`).
   *
   * @throws InputError when the command cannot be started (not found on PATH, not
   * executable), InternalError when the sandbox cannot be set up; both carry the native
   * error (`stage`, `syscall`, `errno`, `code`) as `cause`. When `signal` aborts, the command
   * is sent SIGTERM, then SIGKILL after a grace period, and `run` rejects with the abort
   * reason once it is gone.
   */
  run(spec: RunSpec, rootfs: readonly RootfsMount[], io: SandboxIo, signal?: AbortSignal): Promise<RunResult>;
}
