/*
 * A classic BPF interpreter for the seccomp tests: it runs an assembled filter over one
 * struct seccomp_data as the kernel would, and first checks the program as the kernel's
 * bpf_check_classic and seccomp_check_filter do for the instructions kiln emits (anything
 * else is refused, so a test can never pass on code the kernel would reject). Test code only.
 */

/** SECCOMP_RET_* action values (linux/seccomp.h), the high 16 bits of a filter's result. */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  ERRNO: 0x00050000,
  ALLOW: 0x7fff0000,
} as const;

/** AUDIT_ARCH_* values (linux/audit.h). */
export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
} as const;

/** One system call as the filter sees it. Arguments are unsigned 64-bit; absent ones are 0. */
export interface SeccompCall {
  readonly nr: number;
  readonly arch: number;
  readonly args?: readonly bigint[];
}

/** A filter's decision, decoded. */
export type Decision = { readonly action: 'allow' } | { readonly action: 'errno'; readonly errno: number } | { readonly action: 'kill-process' };

/** One decoded struct sock_filter. */
export interface Instruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

/** The program's instructions; throws what the kernel would refuse. */
export function decodeFilter(bytes: Uint8Array): Instruction[] {
  if (bytes.length === 0 || bytes.length % 8 !== 0 || bytes.length / 8 > 4096) {
    throw new Error(`a filter of ${bytes.length} bytes is no whole program of 1 to 4096 instructions`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const program: Instruction[] = [];
  for (let at = 0; at < bytes.length; at += 8) {
    program.push({ code: view.getUint16(at, true), jt: view.getUint8(at + 2), jf: view.getUint8(at + 3), k: view.getUint32(at + 4, true) });
  }
  for (const [pc, { code, jt, jf, k }] of program.entries()) {
    const inRange = (offset: number): boolean => pc + 1 + offset < program.length;
    switch (code) {
      case 0x20: // ld [k]
        if (k % 4 !== 0 || k > 60) throw new Error(`instruction ${pc} loads offset ${k}, outside struct seccomp_data`);
        break;
      case 0x54: // and #k
      case 0x06: // ret #k
        break;
      case 0x05: // ja
        if (!inRange(k)) throw new Error(`instruction ${pc} jumps past the end`);
        break;
      case 0x15: // jeq
      case 0x25: // jgt
      case 0x35: // jge
      case 0x45: // jset
        if (!inRange(jt) || !inRange(jf)) throw new Error(`instruction ${pc} jumps past the end`);
        break;
      default:
        throw new Error(`instruction ${pc} has code 0x${code.toString(16)}, which these tests do not expect`);
    }
  }
  if (program.at(-1)?.code !== 0x06) throw new Error('the program does not end in a return');
  return program;
}

/** Runs `bytes` over `call`: the raw 32-bit result of the filter. */
export function runFilter(bytes: Uint8Array, call: SeccompCall): number {
  const program = decodeFilter(bytes);
  const data = new DataView(new ArrayBuffer(64));
  data.setInt32(0, call.nr | 0, true);
  data.setUint32(4, call.arch, true);
  for (const [i, arg] of (call.args ?? []).entries()) data.setBigUint64(16 + 8 * i, BigInt.asUintN(64, arg), true);
  let a = 0;
  // Every jump is forward, so the program ends within its length.
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    switch (code) {
      case 0x20:
        a = data.getUint32(k, true);
        break;
      case 0x54:
        a = (a & k) >>> 0;
        break;
      case 0x06:
        return k;
      case 0x05:
        pc += k;
        break;
      case 0x15:
        pc += a === k ? jt : jf;
        break;
      case 0x25:
        pc += a > k ? jt : jf;
        break;
      case 0x35:
        pc += a >= k ? jt : jf;
        break;
      case 0x45:
        pc += (a & k) !== 0 ? jt : jf;
        break;
      default:
        throw new Error(`unexpected code ${code}`);
    }
  }
  throw new Error('the program ran off its end');
}

/** Runs `bytes` over `call` and decodes the result. */
export function decide(bytes: Uint8Array, call: SeccompCall): Decision {
  const result = runFilter(bytes, call);
  const action = (result & 0xffff0000) >>> 0;
  if (action === SECCOMP_RET.ALLOW) return { action: 'allow' };
  if (action === SECCOMP_RET.ERRNO) return { action: 'errno', errno: result & 0xffff };
  if (result === SECCOMP_RET.KILL_PROCESS) return { action: 'kill-process' };
  throw new Error(`unexpected filter result 0x${result.toString(16)}`);
}
