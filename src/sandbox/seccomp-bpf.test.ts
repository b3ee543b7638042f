import test from 'ava';
import fc from 'fast-check';
import { InternalError } from '../errors/index.ts';
import { AUDIT_ARCH, decide, decodeFilter, type Decision } from './bpf-test-kit.ts';
import { DEFAULT_CAPABILITIES, type Capability } from './capabilities.ts';
import { compileSeccompProfile, defaultSeccompFilter, type SeccompArchitecture } from './seccomp-bpf.ts';
import {
  applicableRules,
  DOCKER_DEFAULT_PROFILE,
  type SeccompAction,
  type SeccompArgument,
  type SeccompComparison,
  type SeccompProfile,
} from './seccomp-profile.ts';
import { AARCH64_SYSCALLS, X86_64_SYSCALLS } from './seccomp-syscalls.ts';

/*
 * The seccomp compiler, checked by running its filters in a BPF interpreter (bpf-test-kit.ts)
 * and comparing with a direct reading of the profile.
 */

const X86 = X86_64_SYSCALLS;
const KERNEL: readonly [number, number] = [6, 1];
const EPERM: Decision = { action: 'errno', errno: 1 };
const ENOSYS: Decision = { action: 'errno', errno: 38 };
const ALLOW: Decision = { action: 'allow' };
const KILL: Decision = { action: 'kill-process' };

function filterFor(capabilities: readonly Capability[], kernel = KERNEL, architecture: SeccompArchitecture = 'x86_64'): Uint8Array {
  return compileSeccompProfile(DOCKER_DEFAULT_PROFILE, { architecture, capabilities, kernel });
}

const dockerDefault = filterFor(DEFAULT_CAPABILITIES);
const withSysAdmin = filterFor([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);

/** The decision of `filter` on x86_64 for `name` with `args`. */
function on(filter: Uint8Array, name: string, ...args: bigint[]): Decision {
  const nr = X86[name];
  if (nr === undefined) throw new Error(`no x86_64 call ${name}`);
  return decide(filter, { nr, arch: AUDIT_ARCH.X86_64, args });
}

/** What the profile says for `name` with `args`, read directly: the reference for the compiler. */
function expected(profile: SeccompProfile, arch: 'amd64' | 'arm64', capabilities: readonly Capability[], name: string, args: readonly bigint[]): Decision {
  const rules = applicableRules(profile, { arch, capabilities, kernel: KERNEL }).filter((rule) => rule.names.includes(name));
  const toDecision = (action: SeccompAction): Decision => (action.kind === 'allow' ? ALLOW : { action: 'errno', errno: action.errno });
  const plain = rules.find((rule) => (rule.args ?? []).length === 0);
  if (plain !== undefined) return toDecision(plain.action);
  const matching = rules.find((rule) => (rule.args ?? []).every((arg) => compare(arg, args[arg.index] ?? 0n)));
  return toDecision(matching?.action ?? profile.defaultAction);
}

function compare(arg: SeccompArgument, value: bigint): boolean {
  switch (arg.op) {
    case 'eq':
      return value === arg.value;
    case 'ne':
      return value !== arg.value;
    case 'lt':
      return value < arg.value;
    case 'le':
      return value <= arg.value;
    case 'gt':
      return value > arg.value;
    case 'ge':
      return value >= arg.value;
    case 'masked-eq':
      return (value & arg.value) === (arg.valueTwo ?? 0n);
  }
}

test('the filter checks the architecture: i386 and aarch64 calls on x86_64 kill the process, as do x32 numbers', (t) => {
  t.deepEqual(decide(dockerDefault, { nr: X86.read!, arch: AUDIT_ARCH.I386 }), KILL);
  t.deepEqual(decide(dockerDefault, { nr: X86.read!, arch: AUDIT_ARCH.AARCH64 }), KILL);
  t.deepEqual(decide(dockerDefault, { nr: 0x40000000 | X86.getpid!, arch: AUDIT_ARCH.X86_64 }), KILL);
  t.deepEqual(decide(dockerDefault, { nr: X86.getpid!, arch: AUDIT_ARCH.X86_64 }), ALLOW);
});

test('ordinary calls are allowed, and calls Docker leaves out fail with EPERM under its default capabilities', (t) => {
  for (const name of ['read', 'write', 'openat', 'execve', 'wait4', 'rt_sigreturn', 'arch_prctl', 'setresuid', 'capset', 'chroot']) {
    t.deepEqual(on(dockerDefault, name), ALLOW, name);
  }
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'sethostname', 'pivot_root', 'keyctl', 'add_key', 'request_key', 'bpf', 'reboot', 'kexec_load', 'init_module', 'open_by_handle_at', 'uprobe']) {
    t.deepEqual(on(dockerDefault, name), EPERM, name);
  }
});

test('CAP_SYS_ADMIN brings mount, unshare, setns and namespaced clone back, but not the keyring', (t) => {
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'sethostname', 'clone3']) t.deepEqual(on(withSysAdmin, name), ALLOW, name);
  t.deepEqual(on(withSysAdmin, 'clone', 0x10000000n), ALLOW);
  t.deepEqual(on(withSysAdmin, 'keyctl'), EPERM);
  t.deepEqual(on(withSysAdmin, 'reboot'), EPERM);
});

test('other capabilities bring their calls: CAP_SYS_PTRACE kcmp, CAP_SYS_MODULE init_module, CAP_SYSLOG syslog, CAP_SYS_TIME settimeofday', (t) => {
  const cases: [Capability, string][] = [
    ['CAP_SYS_PTRACE', 'kcmp'],
    ['CAP_SYS_MODULE', 'init_module'],
    ['CAP_SYSLOG', 'syslog'],
    ['CAP_SYS_TIME', 'settimeofday'],
    ['CAP_DAC_READ_SEARCH', 'open_by_handle_at'],
    ['CAP_SYS_BOOT', 'reboot'],
  ];
  for (const [capability, name] of cases) {
    t.deepEqual(on(dockerDefault, name), EPERM, `${name} without ${capability}`);
    t.deepEqual(on(filterFor([capability]), name), ALLOW, `${name} with ${capability}`);
  }
  // chroot is in Docker's default set; without CAP_SYS_CHROOT the filter refuses it too.
  t.deepEqual(on(filterFor([]), 'chroot'), EPERM);
});

test('clone without namespace flags is allowed, with any of them refused; clone3 fails with ENOSYS', (t) => {
  // glibc's fork: SIGCHLD | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID; pthread_create's flags.
  t.deepEqual(on(dockerDefault, 'clone', 0x01200011n), ALLOW);
  t.deepEqual(on(dockerDefault, 'clone', 0x003d0f00n), ALLOW);
  for (const flag of [0x20000n, 0x02000000n, 0x04000000n, 0x08000000n, 0x10000000n, 0x20000000n, 0x40000000n]) {
    t.deepEqual(on(dockerDefault, 'clone', flag | 0x11n), EPERM, `flag 0x${flag.toString(16)}`);
  }
  // Bits above 32 are not namespace flags: the mask's high word is 0.
  t.deepEqual(on(dockerDefault, 'clone', (1n << 40n) | 0x11n), ALLOW);
  t.deepEqual(on(dockerDefault, 'clone3'), ENOSYS);
});

test('socket is refused for AF_ALG and AF_VSOCK only, compared on all 64 bits', (t) => {
  const family = (value: bigint): Decision => on(dockerDefault, 'socket', value, 1n, 0n);
  t.deepEqual([1n, 2n, 10n, 16n, 17n, 37n].map(family), Array(6).fill(ALLOW));
  t.deepEqual(family(38n), EPERM);
  t.deepEqual(family(39n), ALLOW);
  t.deepEqual(family(40n), EPERM);
  t.deepEqual(family(41n), ALLOW);
  // A high word makes the value greater than 40, unsigned, as libseccomp compares.
  t.deepEqual(family((1n << 32n) | 40n), ALLOW);
  t.deepEqual(family(2n ** 64n - 1n), ALLOW);
});

test('personality allows Linux personas and the query only', (t) => {
  for (const persona of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) t.deepEqual(on(dockerDefault, 'personality', persona), ALLOW);
  // ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, and -1 as a 64-bit value.
  for (const persona of [0x40000n, 0x400000n, 2n ** 64n - 1n, (1n << 32n) | 8n]) t.deepEqual(on(dockerDefault, 'personality', persona), EPERM);
});

test('ptrace is allowed from Linux 4.8 on, before only with CAP_SYS_PTRACE', (t) => {
  t.deepEqual(on(filterFor(DEFAULT_CAPABILITIES, [4, 8]), 'ptrace'), ALLOW);
  t.deepEqual(on(filterFor(DEFAULT_CAPABILITIES, [4, 7]), 'ptrace'), EPERM);
  t.deepEqual(on(filterFor(['CAP_SYS_PTRACE'], [3, 10]), 'ptrace'), ALLOW);
});

test('numbers above every call the profile names fail with ENOSYS; -1 is let through', (t) => {
  // removexattrat (466) is the newest call of the profile on x86_64.
  t.deepEqual(on(dockerDefault, 'removexattrat'), ALLOW);
  t.deepEqual(on(dockerDefault, 'open_tree_attr'), ENOSYS);
  t.deepEqual(decide(dockerDefault, { nr: 4000, arch: AUDIT_ARCH.X86_64 }), ENOSYS);
  t.deepEqual(decide(dockerDefault, { nr: 0x3fffffff, arch: AUDIT_ARCH.X86_64 }), ENOSYS);
  t.deepEqual(decide(dockerDefault, { nr: -1, arch: AUDIT_ARCH.X86_64 }), ALLOW);
  // A number below the newest the table lacks is the profile's default.
  t.deepEqual(decide(dockerDefault, { nr: 387, arch: AUDIT_ARCH.X86_64 }), EPERM);
});

test('what the sandbox calls after installing the filter, and kiln-init, are allowed even without capabilities', (t) => {
  // sandbox-child.cc after InstallSeccomp, kiln-init.c and its static glibc's start-up.
  const none = filterFor([]);
  const calls = [
    'prctl', 'setgroups', 'setresgid', 'setresuid', 'capset', 'capget', 'chdir', 'umask', 'newfstatat', 'statx', 'access',
    'faccessat', 'faccessat2', 'poll', 'ppoll', 'execveat', 'execve', 'write', 'exit_group', 'rt_sigprocmask', 'rt_sigaction',
    'pipe2', 'read', 'close', 'fcntl', 'rt_sigtimedwait', 'kill', 'wait4', 'brk', 'arch_prctl', 'set_tid_address',
    'set_robust_list', 'rseq', 'prlimit64', 'mprotect', 'readlinkat', 'getrandom', 'uname',
  ];
  for (const name of calls) t.deepEqual(on(none, name), ALLOW, name);
  // fork() in glibc: clone(SIGCHLD | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID).
  t.deepEqual(on(none, 'clone', 0x01200011n), ALLOW);
});

test('every x86_64 and aarch64 call gets what the profile says, for several capability sets', (t) => {
  const argumentSets: bigint[][] = [[], [0n], [8n], [38n], [40n], [41n], [0x10000000n], [0x01200011n], [0xffffffffn], [2n ** 64n - 1n]];
  const sets: Capability[][] = [[], [...DEFAULT_CAPABILITIES], [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_BPF']];
  for (const [architecture, table, arch, audit] of [
    ['x86_64', X86_64_SYSCALLS, 'amd64', AUDIT_ARCH.X86_64],
    ['aarch64', AARCH64_SYSCALLS, 'arm64', AUDIT_ARCH.AARCH64],
  ] as const) {
    const newest = Math.max(...DOCKER_DEFAULT_PROFILE.rules.flatMap((rule) => rule.names.map((name) => table[name] ?? -1)));
    for (const capabilities of sets) {
      const filter = filterFor(capabilities, KERNEL, architecture);
      let mismatches = 0;
      for (const [name, nr] of Object.entries(table)) {
        for (const args of argumentSets) {
          const want = nr > newest ? ENOSYS : expected(DOCKER_DEFAULT_PROFILE, arch, capabilities, name, args);
          const got = decide(filter, { nr, arch: audit, args });
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            mismatches++;
            t.log(`${architecture} ${name}(${args.join(', ')}) with [${capabilities.join(' ')}]: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
          }
        }
      }
      t.is(mismatches, 0);
    }
  }
});

test('64-bit argument comparisons match unsigned arithmetic on both halves', (t) => {
  const ops: SeccompComparison[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked-eq'];
  const u64 = fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.constantFrom(0n, 1n, 0xffffffffn, 0x100000000n, 2n ** 64n - 1n, 0x7e020000n),
  );
  // The argument near the value: equal, one off, the other half changed, or anything.
  const near = (value: bigint): fc.Arbitrary<bigint> =>
    fc.oneof(
      fc.constant(value),
      fc.constantFrom(1n, -1n, 1n << 32n, -(1n << 32n)).map((delta) => BigInt.asUintN(64, value + delta)),
      fc.bigInt({ min: 0n, max: 0xffffffffn }).map((low) => (value & ~0xffffffffn) | low),
      u64,
    );
  t.notThrows(
    () =>
    fc.assert(
        fc.property(
          fc.constantFrom(...ops),
          fc.integer({ min: 0, max: 5 }),
          u64,
          u64,
          u64.chain((value) => near(value)),
          (op, index, value, valueTwo, argument) => {
            const profile: SeccompProfile = {
              defaultAction: { kind: 'errno', errno: 1 },
              rules: [{ names: ['ioctl'], action: { kind: 'allow' }, args: [{ index, op, value, valueTwo }] }],
            };
            const filter = compileSeccompProfile(profile, { architecture: 'x86_64', capabilities: [], kernel: KERNEL });
            const args = Array.from({ length: 6 }, (_, i) => (i === index ? argument : 0n));
            const got = decide(filter, { nr: X86.ioctl!, arch: AUDIT_ARCH.X86_64, args });
            return JSON.stringify(got) === JSON.stringify(compare({ index, op, value, valueTwo }, argument) ? ALLOW : EPERM);
          },
        ),
        { numRuns: 2000 },
      ),
    '2000 comparisons agree with bigint arithmetic',
  );
});

test('a long filter reaches far targets through trampolines and still decides right', (t) => {
  // Every call of the table gets rules on two arguments: thousands of instructions, so the
  // search's first jumps span far more than 255 of them.
  const names = Object.keys(X86_64_SYSCALLS).slice(0, 150);
  const profile: SeccompProfile = {
    defaultAction: { kind: 'errno', errno: 13 },
    rules: names.flatMap((name, i) => [
      { names: [name], action: { kind: 'allow' }, args: [{ index: 0, op: 'eq', value: BigInt(i) }, { index: 1, op: 'ge', value: 1n << 33n }] },
      { names: [name], action: { kind: 'errno', errno: 100 + (i % 50) }, args: [{ index: 2, op: 'masked-eq', value: 0xf0n, valueTwo: 0x30n }] },
    ]),
  };
  const filter = compileSeccompProfile(profile, { architecture: 'x86_64', capabilities: [], kernel: KERNEL });
  const program = decodeFilter(filter);
  t.true(program.length > 2000, `only ${program.length} instructions`);
  t.true(program.some(({ code }) => code === 0x05), 'no trampoline (ja) in a program this long');
  for (const [i, name] of names.entries()) {
    const nr = X86[name]!;
    t.deepEqual(decide(filter, { nr, arch: AUDIT_ARCH.X86_64, args: [BigInt(i), 1n << 33n] }), ALLOW, name);
    t.deepEqual(decide(filter, { nr, arch: AUDIT_ARCH.X86_64, args: [BigInt(i), (1n << 33n) - 1n] }), { action: 'errno', errno: 13 }, name);
    t.deepEqual(decide(filter, { nr, arch: AUDIT_ARCH.X86_64, args: [BigInt(i + 1), 0n, 0x3fn] }), { action: 'errno', errno: 100 + (i % 50) }, name);
  }
});

test('Docker’s profile compiles to a short filter, cached per capability set', (t) => {
  t.true(dockerDefault.length / 8 < 256, `${dockerDefault.length / 8} instructions`);
  const first = defaultSeccompFilter(DEFAULT_CAPABILITIES);
  t.is(defaultSeccompFilter([...DEFAULT_CAPABILITIES].reverse()), first);
  t.not(defaultSeccompFilter([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']), first);
});

test('a malformed profile is an InternalError naming the call', (t) => {
  const compile = (rules: SeccompProfile['rules']) => () =>
    compileSeccompProfile({ defaultAction: { kind: 'errno', errno: 1 }, rules }, { architecture: 'x86_64', capabilities: [], kernel: KERNEL });
  t.throws(compile([{ names: ['read'], action: { kind: 'allow' } }, { names: ['read'], action: { kind: 'errno', errno: 1 } }]), {
    instanceOf: InternalError,
    message: 'seccomp profile: read has two unconditional actions, allow and errno 1',
  });
  t.throws(compile([{ names: ['read'], action: { kind: 'allow' }, args: [{ index: 6, op: 'eq', value: 0n }] }]), {
    instanceOf: InternalError,
    message: 'seccomp profile: read: an argument index must be from 0 to 5, got 6',
  });
  t.throws(compile([{ names: ['read'], action: { kind: 'allow' }, args: [{ index: 0, op: 'eq', value: 2n ** 64n }] }]), {
    instanceOf: InternalError,
    message: /read: args\[0\]\.value must be from 0 to 2\^64 - 1/,
  });
  t.throws(compile([{ names: ['read'], action: { kind: 'errno', errno: 5000 } }]), { instanceOf: InternalError, message: /errno must be from 0 to 4095/ });
  // Names the architecture lacks are skipped, not errors.
  t.notThrows(compile([{ names: ['chown32', 'read'], action: { kind: 'allow' } }]));
});
