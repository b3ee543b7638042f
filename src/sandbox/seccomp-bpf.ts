import { release } from 'node:os';
import { InternalError } from '../errors/index.ts';
import { assembleBpf, BpfLabels, type BpfInstruction, type BpfLabel, type BpfTest } from './bpf-program.ts';
import type { Capability } from './capabilities.ts';
import {
  applicableRules,
  DOCKER_DEFAULT_PROFILE,
  type SeccompAction,
  type SeccompArgument,
  type SeccompProfile,
  type SeccompProfileArch,
} from './seccomp-profile.ts';
import { AARCH64_SYSCALLS, X86_64_SYSCALLS } from './seccomp-syscalls.ts';

/*
 * The seccomp compiler: a profile (seccomp-profile.ts) for one capability set and architecture
 * into a classic BPF filter (bpf-program.ts) the sandbox installs with seccomp(2). It does what
 * libseccomp and runc do for Docker's profiles, in the same terms:
 *
 * - a call of another architecture (seccomp_data.arch) kills the process, as libseccomp's
 *   default for an architecture a filter does not name; on x86_64 so does an x32 call (number
 *   with bit 30 set), whose numbers the filter does not know;
 * - a number above every call the profile names on the architecture fails with ENOSYS, as runc
 *   answers calls newer than its profile, so that a program falls back to an older call instead
 *   of giving up on EPERM;
 * - the number -1 is allowed: the kernel runs nothing for it (ptrace(2) sets it to skip a call,
 *   and the tracer's result stands);
 * - every other number is found by a binary search over ranges of numbers that share a
 *   decision, then its argument rules are checked, each 64-bit comparison on both halves.
 *
 * TODO(#5): Docker's profile also lets i386 and x32 programs run on x86_64 (and 32-bit ARM ones
 * on aarch64) through libseccomp's sub-architectures; kiln has no tables for those ABIs yet, so
 * their calls kill the process.
 */

/** The architectures kiln has system call tables for, as the kernel names them. */
export type SeccompArchitecture = 'x86_64' | 'aarch64';

interface ArchitectureFacts {
  /** AUDIT_ARCH_* (linux/audit.h): the machine, 64-bit and little-endian flags. */
  readonly audit: number;
  readonly profileArch: SeccompProfileArch;
  readonly syscalls: Readonly<Record<string, number>>;
  /** Numbers from here on (up to -1) belong to another ABI under the same audit arch: x32. */
  readonly foreignFrom?: number;
}

const ARCHITECTURES: Readonly<Record<SeccompArchitecture, ArchitectureFacts>> = {
  x86_64: { audit: 0xc000003e, profileArch: 'amd64', syscalls: X86_64_SYSCALLS, foreignFrom: 0x40000000 },
  aarch64: { audit: 0xc00000b7, profileArch: 'arm64', syscalls: AARCH64_SYSCALLS },
};

/** SECCOMP_RET_* (linux/seccomp.h). */
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
/** Linux's largest errno (MAX_ERRNO): the kernel clamps a larger SECCOMP_RET_ERRNO datum to it. */
const MAX_ERRNO = 4095;
const ENOSYS = 38;
const NUMBER_MINUS_ONE = 0xffffffff;

/** Offsets in struct seccomp_data (linux/seccomp.h): nr, arch, then args[6] of 64 bits each. */
const NR_OFFSET = 0;
const ARCH_OFFSET = 4;
const ARGS_OFFSET = 16;
const UINT64_MAX = (1n << 64n) - 1n;

/** What a filter is compiled for. */
export interface SeccompTarget {
  readonly architecture: SeccompArchitecture;
  /** The run's bounding set: the profile's capability conditions look at it, as Docker's do. */
  readonly capabilities: readonly Capability[];
  /** The kernel's [major, minor], for the profile's `minKernel` conditions. */
  readonly kernel: readonly [number, number];
}

type Verdict = SeccompAction | { readonly kind: 'kill-process' };

/** What the filter does for one system call number. */
type Handler =
  | { readonly kind: 'verdict'; readonly verdict: Verdict }
  | { readonly kind: 'conditional'; readonly alternatives: readonly Alternative[]; readonly otherwise: Verdict };

interface Alternative {
  readonly args: readonly SeccompArgument[];
  readonly action: SeccompAction;
}

/** A range of numbers, from `from` up to the next range's start, and what they get. */
interface Range {
  readonly from: number;
  readonly handler: Handler;
}

/**
 * Compiles `profile` for `target` into a seccomp filter: struct sock_filter entries (8 bytes
 * each, little-endian) for seccomp(SECCOMP_SET_MODE_FILTER). A rule's names that the
 * architecture lacks are skipped; for one call, a rule without arguments decides over rules
 * with some, and rules with arguments are tried in the profile's order.
 *
 * @throws InternalError when the profile is malformed (two different unconditional actions for
 * one call, an argument index or value out of range, an errno past 4095) or its filter would
 * exceed the kernel's 4096 instructions.
 */
export function compileSeccompProfile(profile: SeccompProfile, target: SeccompTarget): Uint8Array {
  const facts = ARCHITECTURES[target.architecture];
  const numberOf = (name: string): number | undefined => (Object.hasOwn(facts.syscalls, name) ? facts.syscalls[name] : undefined);
  const fallback = checkedAction(profile.defaultAction, 'defaultAction');

  const unconditional = new Map<number, SeccompAction>();
  const conditional = new Map<number, Alternative[]>();
  const rules = applicableRules(profile, { arch: facts.profileArch, capabilities: target.capabilities, kernel: target.kernel });
  for (const rule of rules) {
    for (const name of rule.names) {
      const number = numberOf(name);
      if (number === undefined) continue;
      const action = checkedAction(rule.action, name);
      const args = rule.args ?? [];
      for (const arg of args) checkArgument(arg, name);
      if (args.length > 0) {
        conditional.set(number, [...(conditional.get(number) ?? []), { args, action }]);
        continue;
      }
      const earlier = unconditional.get(number);
      if (earlier !== undefined && !sameVerdict(earlier, action)) {
        throw new InternalError(`seccomp profile: ${name} has two unconditional actions, ${describe(earlier)} and ${describe(action)}`);
      }
      unconditional.set(number, action);
    }
  }
  const handlerOf = (number: number): Handler => {
    const action = unconditional.get(number);
    if (action !== undefined) return { kind: 'verdict', verdict: action };
    const alternatives = conditional.get(number);
    if (alternatives !== undefined) return { kind: 'conditional', alternatives, otherwise: fallback };
    return { kind: 'verdict', verdict: fallback };
  };

  // The newest call the profile knows of on this architecture, whether or not this run gets it.
  let newest = -1;
  for (const rule of profile.rules) for (const name of rule.names) newest = Math.max(newest, numberOf(name) ?? -1);
  const ranges: Range[] = [];
  const add = (from: number, handler: Handler): void => {
    const last = ranges.at(-1);
    if (last?.handler.kind === 'verdict' && handler.kind === 'verdict' && sameVerdict(last.handler.verdict, handler.verdict)) return;
    ranges.push({ from, handler });
  };
  for (let number = 0; number <= newest; number++) add(number, handlerOf(number));
  add(newest + 1, { kind: 'verdict', verdict: { kind: 'errno', errno: ENOSYS } });
  if (facts.foreignFrom !== undefined) add(facts.foreignFrom, { kind: 'verdict', verdict: { kind: 'kill-process' } });
  add(NUMBER_MINUS_ONE, { kind: 'verdict', verdict: { kind: 'allow' } });

  const labels = new BpfLabels();
  const program: BpfInstruction[] = [];
  const native = labels.next();
  const foreign = labels.next();
  program.push(
    { op: 'load', offset: ARCH_OFFSET },
    { op: 'jeq', k: facts.audit, onTrue: native, onFalse: foreign },
    { op: 'label', label: foreign },
    { op: 'return', k: encodeVerdict({ kind: 'kill-process' }) },
    { op: 'label', label: native },
    { op: 'load', offset: NR_OFFSET },
  );
  emitSearch(ranges, 0, ranges.length - 1, labels, program);
  return assembleBpf(program);
}

/**
 * The search over `ranges[low..high]`, with the number in A: `jge` on the middle range's start,
 * the lower half next, then the upper one; a single range is its handler.
 */
function emitSearch(ranges: readonly Range[], low: number, high: number, labels: BpfLabels, program: BpfInstruction[]): void {
  if (low === high) {
    emitHandler(ranges[low]!.handler, labels, program);
    return;
  }
  const middle = (low + high + 1) >> 1;
  const lower = labels.next();
  const upper = labels.next();
  program.push({ op: 'jge', k: ranges[middle]!.from, onTrue: upper, onFalse: lower }, { op: 'label', label: lower });
  emitSearch(ranges, low, middle - 1, labels, program);
  program.push({ op: 'label', label: upper });
  emitSearch(ranges, middle, high, labels, program);
}

function emitHandler(handler: Handler, labels: BpfLabels, program: BpfInstruction[]): void {
  switch (handler.kind) {
    case 'verdict':
      program.push({ op: 'return', k: encodeVerdict(handler.verdict) });
      return;
    case 'conditional':
      for (const alternative of handler.alternatives) {
        const next = labels.next();
        for (const arg of alternative.args) emitComparison(arg, next, labels, program);
        program.push({ op: 'return', k: encodeVerdict(alternative.action) }, { op: 'label', label: next });
      }
      program.push({ op: 'return', k: encodeVerdict(handler.otherwise) });
      return;
    default:
      assertNever(handler);
  }
}

/**
 * Code that goes on (falls through) when argument `arg.index` meets `arg`, and jumps to `fail`
 * otherwise. The 64-bit argument is two 32-bit words (little-endian: the low one first); an
 * ordering compares the high words and, only when they are equal, the low ones.
 */
function emitComparison(arg: SeccompArgument, fail: BpfLabel, labels: BpfLabels, program: BpfInstruction[]): void {
  const lowOffset = ARGS_OFFSET + 8 * arg.index;
  const highOffset = lowOffset + 4;
  const high = (value: bigint): number => Number(value >> 32n);
  const low = (value: bigint): number => Number(value & 0xffffffffn);
  const pass = labels.next();
  const lowWords = labels.next();
  const jump = (op: BpfTest, k: number, onTrue: BpfLabel, onFalse: BpfLabel): BpfInstruction => ({ op, k, onTrue, onFalse });
  const v = arg.value;
  // An ordering: `greater` decides when the high words differ upward, `lower` downward, and
  // the low words' test `test` (jgt or jge) passes to `onTrue`, else `onFalse`.
  const ordering = (test: 'jgt' | 'jge', greater: BpfLabel, lower: BpfLabel, onTrue: BpfLabel, onFalse: BpfLabel): void => {
    const equalHigh = labels.next();
    program.push(
      { op: 'load', offset: highOffset },
      jump('jgt', high(v), greater, equalHigh),
      { op: 'label', label: equalHigh },
      jump('jeq', high(v), lowWords, lower),
      { op: 'label', label: lowWords },
      { op: 'load', offset: lowOffset },
      jump(test, low(v), onTrue, onFalse),
    );
  };
  switch (arg.op) {
    case 'eq':
      program.push(
        { op: 'load', offset: highOffset },
        jump('jeq', high(v), lowWords, fail),
        { op: 'label', label: lowWords },
        { op: 'load', offset: lowOffset },
        jump('jeq', low(v), pass, fail),
      );
      break;
    case 'ne':
      program.push(
        { op: 'load', offset: highOffset },
        jump('jeq', high(v), lowWords, pass),
        { op: 'label', label: lowWords },
        { op: 'load', offset: lowOffset },
        jump('jeq', low(v), fail, pass),
      );
      break;
    case 'gt':
      ordering('jgt', pass, fail, pass, fail);
      break;
    case 'ge':
      ordering('jge', pass, fail, pass, fail);
      break;
    case 'lt':
      ordering('jge', fail, pass, fail, pass);
      break;
    case 'le':
      ordering('jgt', fail, pass, fail, pass);
      break;
    case 'masked-eq': {
      const expected = arg.valueTwo ?? 0n;
      program.push(
        { op: 'load', offset: highOffset },
        { op: 'and', k: high(v) },
        jump('jeq', high(expected), lowWords, fail),
        { op: 'label', label: lowWords },
        { op: 'load', offset: lowOffset },
        { op: 'and', k: low(v) },
        jump('jeq', low(expected), pass, fail),
      );
      break;
    }
    default:
      assertNever(arg.op);
  }
  program.push({ op: 'label', label: pass });
}

function encodeVerdict(verdict: Verdict): number {
  switch (verdict.kind) {
    case 'allow':
      return RET_ALLOW;
    case 'errno':
      return RET_ERRNO | verdict.errno;
    case 'kill-process':
      return RET_KILL_PROCESS;
    default:
      return assertNever(verdict);
  }
}

function sameVerdict(a: Verdict, b: Verdict): boolean {
  return a.kind === b.kind && (a.kind !== 'errno' || a.errno === (b as typeof a).errno);
}

function describe(action: Verdict): string {
  return action.kind === 'errno' ? `errno ${action.errno}` : action.kind;
}

function checkedAction(action: SeccompAction, where: string): SeccompAction {
  if (action.kind === 'errno' && (!Number.isInteger(action.errno) || action.errno < 0 || action.errno > MAX_ERRNO)) {
    throw new InternalError(`seccomp profile: ${where}: errno must be from 0 to ${MAX_ERRNO}, got ${action.errno}`);
  }
  return action;
}

function checkArgument(arg: SeccompArgument, name: string): void {
  if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) {
    throw new InternalError(`seccomp profile: ${name}: an argument index must be from 0 to 5, got ${arg.index}`);
  }
  for (const [field, value] of [['value', arg.value], ['valueTwo', arg.valueTwo ?? 0n]] as const) {
    if (value < 0n || value > UINT64_MAX) {
      throw new InternalError(`seccomp profile: ${name}: args[${arg.index}].${field} must be from 0 to 2^64 - 1, got ${value}`);
    }
  }
}

function assertNever(value: never): never {
  throw new InternalError(`seccomp compiler: unexpected ${JSON.stringify(value)}`);
}

/** The architecture kiln runs on, as a filter names it. @throws InternalError on one kiln has no table for. */
export function hostSeccompArchitecture(): SeccompArchitecture {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new InternalError(`kiln has no system call table for ${process.arch}, so it cannot build a seccomp filter here`, {
    hint: "run with seccomp 'unconfined'",
  });
}

/** The running kernel's [major, minor] (uname(2) release). */
export function hostKernelVersion(): readonly [number, number] {
  const match = /^(\d+)\.(\d+)/.exec(release());
  if (match === null) throw new InternalError(`cannot read the kernel version from its release "${release()}"`);
  return [Number(match[1]), Number(match[2])];
}

const defaultFilters = new Map<string, Uint8Array>();

/**
 * Docker's default profile compiled for a run whose bounding set is `capabilities`, on this
 * machine's architecture and kernel: compiled once per capability set and process, then the
 * same bytes for every run (callers pass them on and never modify them).
 *
 * @throws InternalError on an architecture kiln has no system call table for.
 */
export function defaultSeccompFilter(capabilities: readonly Capability[]): Uint8Array {
  const key = [...new Set(capabilities)].sort().join(' ');
  let filter = defaultFilters.get(key);
  if (filter === undefined) {
    filter = compileSeccompProfile(DOCKER_DEFAULT_PROFILE, {
      architecture: hostSeccompArchitecture(),
      capabilities,
      kernel: hostKernelVersion(),
    });
    defaultFilters.set(key, filter);
  }
  return filter;
}
