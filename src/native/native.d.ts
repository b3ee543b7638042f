/*
 * The exact surface of native/build/Release/kiln_native.node (native/src/*.cc): the only place
 * it is typed. load-native.ts loads it; the wrappers beside it (xattr.ts, mknod.ts,
 * gzip-members.ts) are its only callers.
 *
 * Every function takes one options object and validates it: a wrong type throws a TypeError,
 * a number out of range a RangeError, each naming the function and the field
 * (`mknod: major must be from 0 to 4095, got 5000`). A failed syscall throws a
 * {@link NativeErrnoError}.
 */

/**
 * What a failed syscall throws, shaped like Node's fs errors: the message
 * `ENODATA: no data available, lgetxattr '/p' 'user.x'`, a libuv `code` (as Node names it),
 * `errno` negative (as Node reports it), and what the call was given.
 */
export interface NativeErrnoError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path: string;
  /** The attribute name, for the xattr calls. */
  readonly attribute?: string;
}

/** The file-system surface: calls Node's fs lacks, each one synchronous syscall. */
export interface NativeFs {
  /** lgetxattr(2): the whole value, however long. */
  lgetxattr(options: { readonly path: string; readonly name: string }): Buffer;
  /** lsetxattr(2) with flags 0: creates the attribute or replaces its value. */
  lsetxattr(options: { readonly path: string; readonly name: string; readonly value: Uint8Array }): void;
  /** llistxattr(2): the names, in the order the file system lists them. */
  llistxattr(options: { readonly path: string }): string[];
  /** lremovexattr(2). */
  lremovexattr(options: { readonly path: string; readonly name: string }): void;
  /**
   * mknod(2); `mode` carries the file type (S_IFCHR, S_IFBLK or S_IFIFO, anything else is a
   * RangeError) and permission bits, which the umask reduces. `major` is 0–4095, `minor`
   * 0–1048575 (Linux's dev_t split).
   */
  mknod(options: { readonly path: string; readonly mode: number; readonly major: number; readonly minor: number }): void;
  /**
   * mount(2) in the calling process's mount namespace, always with MS_NODEV | MS_NOSUID;
   * `bind` adds MS_BIND | MS_REC (type and data are then ignored by the kernel); `readOnly`
   * mounts read-only (a bind through a second, remounting call). `data` is the file system's
   * option string ('' for none).
   */
  mount(options: {
    readonly type: string;
    readonly source: string;
    readonly target: string;
    readonly data: string;
    readonly readOnly: boolean;
    readonly bind: boolean;
  }): void;
  /** umount2(2) with UMOUNT_NOFOLLOW, and MNT_DETACH when `detach`. */
  unmount(options: { readonly target: string; readonly detach: boolean }): void;
  /**
   * The entries of a directory but `.` and `..`, sorted bytewise, and their statx(2) without
   * following symlinks, as libuv fills Node's lstat: `stats` holds 14 fields an entry, in the
   * order dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks, atimeNs, mtimeNs,
   * ctimeNs, birthtimeNs (0 where the file system keeps none). An entry removed between the
   * read and its statx is left out. Errors: `scandir` for the directory, `lstat` (with the
   * entry's path) for an entry that cannot be stat'ed.
   */
  readDirectory(options: { readonly path: string }): NativeListing;
  /**
   * A walk's directory reads done ahead on a thread of its own: `prefetch` names directories
   * the walk will read next, in that order and before those named earlier; `take` gives what
   * readDirectory would (read ahead, or read then; a failed read ahead is made again). The
   * thread stops on `close` or when the object is collected.
   */
  DirectoryPrefetcher: new () => NativeDirectoryPrefetcher;
}

/** What readDirectory gives. */
export interface NativeListing {
  /** The names, sorted bytewise, joined by `/` (UTF-8). */
  readonly names: Buffer;
  readonly stats: BigInt64Array;
}

/** The object `new fs.DirectoryPrefetcher()` makes. */
export interface NativeDirectoryPrefetcher {
  prefetch(options: { readonly paths: readonly string[] }): void;
  take(options: { readonly path: string }): NativeListing;
  close(): void;
  /** How many directories its thread has read. */
  readonly readAhead: number;
}

/** `require('kiln_native.node')`: one object per surface. */
export interface NativeAddon {
  readonly fs: NativeFs;
  readonly sandbox: NativeSandbox;
  readonly compress: NativeCompress;
}

/** The compression surface: work Node's zlib does at half the speed, run on libuv's thread pool. */
export interface NativeCompress {
  /**
   * `input` as one or more whole gzip members (RFC 1952), compressed at `level` (1–9) on a
   * thread of libuv's pool. The input is judged in segments of 16 KiB: runs of segments whose
   * collision entropy is at least 7.956 bits a byte are written as stored blocks, the other
   * runs deflated by libdeflate. A member ends after each deflated run and at the end of the
   * input: one member for text, an empty input included. Every header has MTIME 0, no name,
   * XFL 4 for level 1, 2 for level 9, else 0, and OS 3; every trailer the CRC-32 and length mod
   * 2^32 of the member's part of the input. The bytes depend only on `input`, `level` and
   * libdeflate's version. `input` is held until the promise settles and must not be written to
   * meanwhile. Rejects with an Error only when out of memory.
   */
  gzipMembers(options: { readonly input: Uint8Array; readonly level: number }): Promise<Buffer>;
}

/**
 * One step of a sandbox's root file system setup, run in order in the sandbox's own mount
 * namespace before pivot_root. Paths are host paths (under `root`). `mkdir`, `mknod` and
 * `symlink` accept what already exists; the setup runs with umask 0.
 *
 * Every path under `root` (a target, a mount's source) is resolved inside the root, never
 * leaving it: a symbolic link of the root file system is followed as if `root` were `/`, as
 * runc does (openat2(2) RESOLVE_IN_ROOT, Linux 5.6); files and directories are made relative
 * to their resolved parent, and mounts go onto the resolved file (/proc/self/fd/N). A mount
 * target resolving to the root itself is refused (EBUSY); a file whose path is a dangling
 * symlink is not created through it (EEXIST). Only mounts may target `root` itself.
 */
export type NativeSetupOperation =
  | {
      readonly kind: 'mount';
      /** mount(2)'s arguments; absent source, fstype or data are NULL. */
      readonly source?: string;
      readonly target: string;
      readonly fstype?: string;
      readonly flags: number;
      readonly data?: string;
      /** Skip the mount when its target, or its source under `root`, does not exist. */
      readonly optional?: boolean;
    }
  | { readonly kind: 'mkdir'; readonly path: string; readonly mode: number }
  /**
   * Hides `path` as runc's maskedPaths do: a directory under an empty read-only tmpfs, anything
   * else under a bind of `source` (/dev/null); nothing when `path` does not exist.
   */
  | { readonly kind: 'mask'; readonly path: string; readonly source: string }
  /** Creates an empty regular file when none is there (a bind mount's target). */
  | { readonly kind: 'file'; readonly path: string; readonly mode: number }
  | { readonly kind: 'mknod'; readonly path: string; readonly mode: number; readonly major: number; readonly minor: number }
  | { readonly kind: 'symlink'; readonly target: string; readonly path: string };

/**
 * `size` ids from `containerId` inside a user namespace are `hostId`… outside it
 * (user_namespaces(7)); no id of either range may pass 4294967294.
 */
export interface NativeIdMapping {
  readonly containerId: number;
  readonly hostId: number;
  readonly size: number;
}

/** What {@link NativeSandbox.spawn} is told: the whole sandbox, decided by src/sandbox. */
export interface NativeSpawnOptions {
  /** The kiln-init executable (native/build/Release/kiln-init), exec'd as PID 1. */
  readonly init: string;
  /** The command; argv[0] is looked up in the PATH of `env` as execvp does. */
  readonly argv: readonly string[];
  /** `NAME=value` entries: the command's whole environment. */
  readonly env: readonly string[];
  /** Absolute, inside the sandbox; created (as root, mode 0755) when missing. */
  readonly cwd: string;
  /** The directory that becomes `/` (pivot_root): a mount point once `setup` has run. */
  readonly root: string;
  readonly hostname: string;
  /** true: a new network namespace with `lo` up; false: the host's network. */
  readonly newNetwork: boolean;
  readonly uid: number;
  readonly gid: number;
  /** The supplementary groups (setgroups(2)). */
  readonly groups: readonly number[];
  /** The umask the command starts with. */
  readonly umask: number;
  /**
   * Capability numbers (0–63, capabilities(7)) kept in the bounding set, and for uid 0 in the
   * effective and permitted sets; every other one is dropped, nothing is inheritable or
   * ambient. A uid other than 0 has no effective capability.
   */
  readonly capabilities: readonly number[];
  /** prctl(PR_SET_NO_NEW_PRIVS) before the exec. */
  readonly noNewPrivileges: boolean;
  /**
   * A seccomp filter: struct sock_filter entries (8 bytes each, this machine's byte order, 1 to
   * 4096 of them), copied before the clone and installed with seccomp(SECCOMP_SET_MODE_FILTER)
   * after the setup (mounts, pivot_root, hostname, rlimits), so kiln-init and the command run
   * under it. Without no_new_privs it goes on before the capabilities and the user change
   * (installing needs CAP_SYS_ADMIN then), so it must allow prctl, setgroups, setresgid,
   * setresuid, capset, chdir, stat, access, poll and execveat; with no_new_privs, right before
   * the exec. A kernel that refuses it fails the spawn with stage 'seccomp'. None when absent.
   */
  readonly seccomp?: Uint8Array;
  /** setrlimit(2) of each, before the user changes: `resource` is RLIMIT_*, Infinity is unlimited. */
  readonly rlimits: readonly { readonly resource: number; readonly soft: number; readonly hard: number }[];
  readonly setup: readonly NativeSetupOperation[];
  /**
   * true: the sandbox also gets a user namespace of its own (CLONE_NEWUSER, created first, so
   * it owns the others), whose ids the parent maps from `uidMappings` and `gidMappings` by
   * writing /proc/PID/uid_map and gid_map right after the clone; the child waits for that
   * before anything else. `uid`, `gid`, `groups` and the capabilities are then the namespace's
   * (root inside is `hostId` of the range holding 0 outside). setgroups(2) stays allowed, as
   * kiln holds CAP_SETGID outside. The setup runs as the namespace's root: it cannot mknod
   * devices or mount sysfs without a new network namespace, nor touch files whose owner is
   * unmapped beyond what their modes let others do. A failed map write is stage
   * 'user-namespace', syscall 'write', path /proc/PID/uid_map (or gid_map). Absent: false.
   */
  readonly userNamespace?: boolean;
  /** With `userNamespace` (and only then), 1 to 340 ranges of user ids: uid_map's lines. */
  readonly uidMappings?: readonly NativeIdMapping[];
  /** With `userNamespace` (and only then), 1 to 340 ranges of group ids: gid_map's lines. */
  readonly gidMappings?: readonly NativeIdMapping[];
  /**
   * cgroup.procs files, opened for writing before the clone; the child writes itself ("0")
   * into each before anything else (stage 'cgroup'), then unshares its cgroup namespace.
   */
  readonly cgroupProcs?: readonly string[];
  /** true: a pipe to the command's stdin is returned; false: stdin is /dev/null. */
  readonly stdin: boolean;
}

/**
 * A running sandbox: the pid of its init (in kiln's pid namespace) and descriptors the caller
 * owns: `pidfd` until {@link NativeSandbox.watchExit} takes it, the read ends of stdout and
 * stderr, and the write end of stdin (-1 without one). All are close-on-exec.
 */
export interface NativeSpawnResult {
  readonly pid: number;
  readonly pidfd: number;
  readonly stdin: number;
  readonly stdout: number;
  readonly stderr: number;
}

/**
 * What a failed sandbox setup throws: a {@link NativeErrnoError} with the step that failed
 * (`stage`: 'spawn', 'cgroup', 'mount', 'mkdir', 'pivot_root', 'hostname', 'network', 'rlimits',
 * 'seccomp', 'capabilities', 'user', 'user-namespace', 'cwd', 'lookup', 'no_new_privs', 'exec', 'exec-init', …), `operation` (the index in `setup`) for a setup step, and
 * `path` naming what it failed on. A command not found on PATH is stage 'lookup', syscall
 * 'execvp', code 'ENOENT', message `exec: "name": executable file not found in $PATH`.
 */
export interface NativeSandboxError extends NativeErrnoError {
  readonly stage: string;
  readonly operation?: number;
}

/** The sandbox surface. */
export interface NativeSandbox {
  /**
   * Clones the sandbox (clone3 with CLONE_PIDFD and new mount, pid, uts, ipc, cgroup and,
   * with `newNetwork`, net namespaces), runs `setup`, pivots into `root` and execs kiln-init,
   * which execs the command. Returns once the command was exec'd; throws a
   * {@link NativeSandboxError} when anything before failed (the sandbox is then reaped).
   */
  spawn(options: NativeSpawnOptions): NativeSpawnResult;
  /**
   * Takes `pidfd` and calls `onExit` once the process exited and was reaped (waitid P_PIDFD),
   * then closes `pidfd`; waits on the event loop (a uv_poll), keeping it alive meanwhile.
   * `code` is the exit status, or `signal` the number of the signal that killed it.
   */
  watchExit(options: {
    readonly pidfd: number;
    readonly onExit: (error: NativeErrnoError | null, code: number | null, signal: number | null) => void;
  }): void;
  /** pidfd_send_signal(2). */
  signal(options: { readonly pidfd: number; readonly signal: number }): void;
}
