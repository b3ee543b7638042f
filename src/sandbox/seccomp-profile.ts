import type { Capability } from './capabilities.ts';

/*
 * Docker's default seccomp profile as data: the facts of moby's profiles/seccomp/default.json
 * (github.com/moby/profiles, as of mid 2026), one rule per entry of its `syscalls` list, in its
 * order. seccomp-bpf.ts compiles it into a classic BPF filter for a run's capability set and
 * the host's architecture; nothing here runs anything.
 */

/** What a filter does with a call: let it run, or fail it with an errno without running it. */
export type SeccompAction = { readonly kind: 'allow' } | { readonly kind: 'errno'; readonly errno: number };

/**
 * How an argument is compared, as libseccomp's SCMP_CMP_*: unsigned and on the whole 64-bit
 * register. 'masked-eq' is `(argument & value) === valueTwo`.
 */
export type SeccompComparison = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'masked-eq';

/** One argument condition of a rule (the OCI runtime spec's LinuxSeccompArg). */
export interface SeccompArgument {
  /** Which argument, 0–5. */
  readonly index: number;
  readonly op: SeccompComparison;
  /** Compared with; the mask for 'masked-eq'. From 0 to 2^64 - 1. */
  readonly value: bigint;
  /** 'masked-eq' only: what the masked argument must equal; 0 when absent. */
  readonly valueTwo?: bigint;
}

/**
 * An architecture as Docker's profile names them (libseccomp's names: 'amd64' is x86_64's
 * 64-bit ABI, 'x86' i386, 'arm64' aarch64, …).
 */
export type SeccompProfileArch =
  | 'amd64'
  | 'x86'
  | 'x32'
  | 'arm64'
  | 'arm'
  | 'ppc64le'
  | 's390'
  | 's390x'
  | 'riscv64';

/**
 * When a rule is part of a filter (the profile's `includes`/`excludes`). Included: the run's
 * bounding set holds every capability listed, the architecture is one listed, the kernel is at
 * least `minKernel`; excluded: it holds any capability listed, or the architecture is one
 * listed, or the kernel is at least `minKernel`.
 */
export interface SeccompRuleScope {
  readonly capabilities?: readonly Capability[];
  readonly arches?: readonly SeccompProfileArch[];
  /** [major, minor] */
  readonly minKernel?: readonly [number, number];
}

/**
 * A rule: `action` for every call to one of `names` whose arguments meet all of `args`. Several
 * rules for one call are alternatives (the first whose arguments match decides); a rule without
 * `args` decides alone. Names an architecture lacks are skipped there.
 */
export interface SeccompRule {
  readonly names: readonly string[];
  readonly action: SeccompAction;
  readonly args?: readonly SeccompArgument[];
  readonly includes?: SeccompRuleScope;
  readonly excludes?: SeccompRuleScope;
}

/** A whole profile: what every call no rule decides gets, and the rules. */
export interface SeccompProfile {
  readonly defaultAction: SeccompAction;
  readonly rules: readonly SeccompRule[];
}

const ALLOW: SeccompAction = { kind: 'allow' };

/** Namespace flags of clone(2) (linux/sched.h): NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000n;

/**
 * Docker's default profile: EPERM for every call it does not list; the ordinary calls allowed;
 * `socket` for every family but AF_ALG (38) and AF_VSOCK (40); `personality` only for the
 * personas Linux programs use; the calls that need a capability allowed only when the run holds
 * it, and for a run without CAP_SYS_ADMIN `clone` without namespace flags and `clone3` failing
 * with ENOSYS (its flags are in memory a filter cannot read; glibc then falls back to clone).
 */
export const DOCKER_DEFAULT_PROFILE: SeccompProfile = {
  defaultAction: { kind: 'errno', errno: 1 },
  rules: [
    {
      names: [
        'accept', 'accept4', 'access', 'adjtimex', 'alarm', 'bind', 'brk', 'cachestat', 'capget', 'capset',
        'chdir', 'chmod', 'chown', 'chown32', 'clock_adjtime', 'clock_adjtime64', 'clock_getres',
        'clock_getres_time64', 'clock_gettime', 'clock_gettime64', 'clock_nanosleep',
        'clock_nanosleep_time64', 'close', 'close_range', 'connect', 'copy_file_range', 'creat', 'dup',
        'dup2', 'dup3', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait',
        'epoll_pwait2', 'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'execve', 'execveat', 'exit',
        'exit_group', 'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate', 'fanotify_mark',
        'fchdir', 'fchmod', 'fchmodat', 'fchmodat2', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64',
        'fdatasync', 'fgetxattr', 'flistxattr', 'flock', 'fork', 'fremovexattr', 'fsetxattr', 'fstat',
        'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64', 'fsync', 'ftruncate', 'ftruncate64', 'futex',
        'futex_requeue', 'futex_time64', 'futex_wait', 'futex_waitv', 'futex_wake', 'futimesat', 'getcpu',
        'getcwd', 'getdents', 'getdents64', 'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid',
        'getgid32', 'getgroups', 'getgroups32', 'getitimer', 'getpeername', 'getpgid', 'getpgrp', 'getpid',
        'getppid', 'getpriority', 'getrandom', 'getresgid', 'getresgid32', 'getresuid', 'getresuid32',
        'getrlimit', 'get_robust_list', 'getrusage', 'getsid', 'getsockname', 'getsockopt',
        'get_thread_area', 'gettid', 'gettimeofday', 'getuid', 'getuid32', 'getxattr', 'getxattrat',
        'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch', 'io_cancel', 'ioctl',
        'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'ioprio_get', 'ioprio_set',
        'io_setup', 'io_submit', 'ipc', 'kill', 'landlock_add_rule', 'landlock_create_ruleset',
        'landlock_restrict_self', 'lchown', 'lchown32', 'lgetxattr', 'link', 'linkat', 'listen', 'listmount',
        'listxattr', 'listxattrat', 'llistxattr', '_llseek', 'lremovexattr', 'lseek', 'lsetxattr', 'lstat',
        'lstat64', 'madvise', 'map_shadow_stack', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore',
        'mkdir', 'mkdirat', 'mknod', 'mknodat', 'mlock', 'mlock2', 'mlockall', 'mmap', 'mmap2', 'mprotect',
        'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend',
        'mq_timedsend_time64', 'mq_unlink', 'mremap', 'mseal', 'msgctl', 'msgget', 'msgrcv', 'msgsnd',
        'msync', 'munlock', 'munlockall', 'munmap', 'name_to_handle_at', 'nanosleep', 'newfstatat',
        '_newselect', 'open', 'openat', 'openat2', 'pause', 'pidfd_open', 'pidfd_send_signal', 'pipe',
        'pipe2', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'poll', 'ppoll', 'ppoll_time64', 'prctl',
        'pread64', 'preadv', 'preadv2', 'prlimit64', 'process_mrelease', 'pselect6', 'pselect6_time64',
        'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'recv',
        'recvfrom', 'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'remap_file_pages', 'removexattr',
        'removexattrat', 'rename', 'renameat', 'renameat2', 'restart_syscall', 'riscv_hwprobe', 'rmdir',
        'rseq', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn',
        'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo',
        'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max',
        'sched_get_priority_min', 'sched_getscheduler', 'sched_rr_get_interval',
        'sched_rr_get_interval_time64', 'sched_setaffinity', 'sched_setattr', 'sched_setparam',
        'sched_setscheduler', 'sched_yield', 'seccomp', 'select', 'semctl', 'semget', 'semop', 'semtimedop',
        'semtimedop_time64', 'send', 'sendfile', 'sendfile64', 'sendmmsg', 'sendmsg', 'sendto', 'setfsgid',
        'setfsgid32', 'setfsuid', 'setfsuid32', 'setgid', 'setgid32', 'setgroups', 'setgroups32',
        'setitimer', 'setpgid', 'setpriority', 'setregid', 'setregid32', 'setresgid', 'setresgid32',
        'setresuid', 'setresuid32', 'setreuid', 'setreuid32', 'setrlimit', 'set_robust_list', 'setsid',
        'setsockopt', 'set_thread_area', 'set_tid_address', 'setuid', 'setuid32', 'setxattr', 'setxattrat',
        'shmat', 'shmctl', 'shmdt', 'shmget', 'shutdown', 'sigaltstack', 'signalfd', 'signalfd4',
        'sigprocmask', 'sigreturn', 'socketcall', 'socketpair', 'splice', 'stat', 'stat64', 'statfs',
        'statfs64', 'statmount', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range', 'syncfs',
        'sysinfo', 'tee', 'tgkill', 'time', 'timer_create', 'timer_delete', 'timer_getoverrun',
        'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64', 'timerfd_create',
        'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64', 'times', 'tkill',
        'truncate', 'truncate64', 'ugetrlimit', 'umask', 'uname', 'unlink', 'unlinkat', 'uretprobe', 'utime',
        'utimensat', 'utimensat_time64', 'utimes', 'vfork', 'vmsplice', 'wait4', 'waitid', 'waitpid',
        'write', 'writev',
      ],
      action: ALLOW,
    },
    // From Linux 4.8 a ptrace(2)d process cannot escape its filter, so tracing is harmless.
    {
      names: ['process_vm_readv', 'process_vm_writev', 'ptrace'],
      action: ALLOW,
      includes: { minKernel: [4, 8] },
    },
    // Every address family below AF_ALG (38), AF_NFC (39), and above AF_VSOCK (40).
    {
      names: ['socket'],
      action: ALLOW,
      args: [{ index: 0, op: 'lt', value: 38n }],
    },
    {
      names: ['socket'],
      action: ALLOW,
      args: [{ index: 0, op: 'eq', value: 39n }],
    },
    {
      names: ['socket'],
      action: ALLOW,
      args: [{ index: 0, op: 'gt', value: 40n }],
    },
    // PER_LINUX, UNAME26 (8), PER_LINUX32 (0x20000), PER_LINUX32 | UNAME26, and 0xffffffff,
    // which only reads the persona.
    {
      names: ['personality'],
      action: ALLOW,
      args: [{ index: 0, op: 'eq', value: 0n }],
    },
    {
      names: ['personality'],
      action: ALLOW,
      args: [{ index: 0, op: 'eq', value: 8n }],
    },
    {
      names: ['personality'],
      action: ALLOW,
      args: [{ index: 0, op: 'eq', value: 0x20000n }],
    },
    {
      names: ['personality'],
      action: ALLOW,
      args: [{ index: 0, op: 'eq', value: 0x20008n }],
    },
    {
      names: ['personality'],
      action: ALLOW,
      args: [{ index: 0, op: 'eq', value: 0xffffffffn }],
    },
    {
      names: ['sync_file_range2', 'swapcontext'],
      action: ALLOW,
      includes: { arches: ['ppc64le'] },
    },
    {
      names: ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'],
      action: ALLOW,
      includes: { arches: ['arm', 'arm64'] },
    },
    {
      names: ['arch_prctl'],
      action: ALLOW,
      includes: { arches: ['amd64', 'x32'] },
    },
    {
      names: ['modify_ldt'],
      action: ALLOW,
      includes: { arches: ['amd64', 'x32', 'x86'] },
    },
    {
      names: ['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr'],
      action: ALLOW,
      includes: { arches: ['s390', 's390x'] },
    },
    {
      names: ['riscv_flush_icache'],
      action: ALLOW,
      includes: { arches: ['riscv64'] },
    },
    {
      names: ['open_by_handle_at'],
      action: ALLOW,
      includes: { capabilities: ['CAP_DAC_READ_SEARCH'] },
    },
    {
      names: [
        'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick',
        'lookup_dcookie', 'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount',
        'mount_setattr', 'move_mount', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd',
        'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare',
      ],
      action: ALLOW,
      includes: { capabilities: ['CAP_SYS_ADMIN'] },
    },
    {
      names: ['clone'],
      action: ALLOW,
      args: [{ index: 0, op: 'masked-eq', value: CLONE_NAMESPACE_FLAGS }],
      excludes: { capabilities: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
    },
    // s390 passes clone's flags as its second argument.
    {
      names: ['clone'],
      action: ALLOW,
      args: [{ index: 1, op: 'masked-eq', value: CLONE_NAMESPACE_FLAGS }],
      includes: { arches: ['s390', 's390x'] },
      excludes: { capabilities: ['CAP_SYS_ADMIN'] },
    },
    {
      names: ['clone3'],
      action: { kind: 'errno', errno: 38 },
      excludes: { capabilities: ['CAP_SYS_ADMIN'] },
    },
    {
      names: ['reboot'],
      action: ALLOW,
      includes: { capabilities: ['CAP_SYS_BOOT'] },
    },
    {
      names: ['chroot'],
      action: ALLOW,
      includes: { capabilities: ['CAP_SYS_CHROOT'] },
    },
    {
      names: ['delete_module', 'init_module', 'finit_module'],
      action: ALLOW,
      includes: { capabilities: ['CAP_SYS_MODULE'] },
    },
    {
      names: ['acct'],
      action: ALLOW,
      includes: { capabilities: ['CAP_SYS_PACCT'] },
    },
    {
      names: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
      action: ALLOW,
      includes: { capabilities: ['CAP_SYS_PTRACE'] },
    },
    {
      names: ['iopl', 'ioperm'],
      action: ALLOW,
      includes: { capabilities: ['CAP_SYS_RAWIO'] },
    },
    {
      names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
      action: ALLOW,
      includes: { capabilities: ['CAP_SYS_TIME'] },
    },
    {
      names: ['vhangup'],
      action: ALLOW,
      includes: { capabilities: ['CAP_SYS_TTY_CONFIG'] },
    },
    {
      names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'],
      action: ALLOW,
      includes: { capabilities: ['CAP_SYS_NICE'] },
    },
    {
      names: ['syslog'],
      action: ALLOW,
      includes: { capabilities: ['CAP_SYSLOG'] },
    },
    {
      names: ['bpf'],
      action: ALLOW,
      includes: { capabilities: ['CAP_BPF'] },
    },
    {
      names: ['perf_event_open'],
      action: ALLOW,
      includes: { capabilities: ['CAP_PERFMON'] },
    },
  ],
};

/** What decides which rules of a profile apply to a run. */
export interface SeccompScope {
  /** The architecture the filter is for. */
  readonly arch: SeccompProfileArch;
  /** The run's bounding set. */
  readonly capabilities: readonly Capability[];
  /** The running kernel's [major, minor]. */
  readonly kernel: readonly [number, number];
}

/**
 * The rules of `profile` that apply to `scope`, in order, as Docker selects them before it
 * hands the profile to runc (moby profiles/seccomp setupSeccomp): a rule is left out when its
 * `excludes` matches or its `includes` does not (SeccompRuleScope).
 */
export function applicableRules(profile: SeccompProfile, scope: SeccompScope): readonly SeccompRule[] {
  const held = new Set(scope.capabilities);
  const atLeast = ([major, minor]: readonly [number, number]): boolean =>
    scope.kernel[0] > major || (scope.kernel[0] === major && scope.kernel[1] >= minor);
  return profile.rules.filter(({ includes, excludes }) => {
    if (excludes !== undefined) {
      if (excludes.arches?.includes(scope.arch) === true) return false;
      if (excludes.capabilities?.some((capability) => held.has(capability)) === true) return false;
      if (excludes.minKernel !== undefined && atLeast(excludes.minKernel)) return false;
    }
    if (includes !== undefined) {
      if (includes.arches !== undefined && includes.arches.length > 0 && !includes.arches.includes(scope.arch)) return false;
      if (includes.capabilities?.every((capability) => held.has(capability)) === false) return false;
      if (includes.minKernel !== undefined && !atLeast(includes.minKernel)) return false;
    }
    return true;
  });
}
