import { InternalError } from '../errors/index.ts';

/*
 * Classic BPF as seccomp runs it (linux/filter.h, linux/bpf_common.h, seccomp(2)): programs of
 * struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}, run over struct seccomp_data, jumping
 * forward only. A program is written here with labels; assembleBpf lays it out and encodes it.
 */

/** A jump target, made by {@link BpfLabels.next} and placed once with `{op: 'label'}`. */
export type BpfLabel = number;

/** Hands out fresh labels for one program. */
export class BpfLabels {
  #next = 0;

  /** A label no earlier call returned. */
  next(): BpfLabel {
    return this.#next++;
  }
}

/** A conditional jump's test of the accumulator A against `k` (unsigned 32-bit). */
export type BpfTest = 'jeq' | 'jgt' | 'jge' | 'jset';

/**
 * One step of a program before assembly. `load` reads the 32-bit word at `offset` of
 * struct seccomp_data into A; `and` masks A; a test jumps to `onTrue` or `onFalse`; `goto`
 * jumps always; `return` ends the program with a SECCOMP_RET_* value; `label` marks where the
 * next step is, for jumps, and is no instruction itself.
 */
export type BpfInstruction =
  | { readonly op: 'load'; readonly offset: number }
  | { readonly op: 'and'; readonly k: number }
  | { readonly op: BpfTest; readonly k: number; readonly onTrue: BpfLabel; readonly onFalse: BpfLabel }
  | { readonly op: 'goto'; readonly target: BpfLabel }
  | { readonly op: 'return'; readonly k: number }
  | { readonly op: 'label'; readonly label: BpfLabel };

/** The longest program the kernel accepts (BPF_MAXINSNS). */
export const BPF_MAX_INSTRUCTIONS = 4096;

/** Bytes of one struct sock_filter. */
export const BPF_INSTRUCTION_SIZE = 8;

/** The size of struct seccomp_data: nr, arch, instruction_pointer, args[6]. */
const SECCOMP_DATA_SIZE = 64;

/** Instruction codes: class | size/operation | source (linux/bpf_common.h). */
const CODES = {
  load: 0x00 | 0x00 | 0x20, // BPF_LD | BPF_W | BPF_ABS
  and: 0x04 | 0x50 | 0x00, // BPF_ALU | BPF_AND | BPF_K
  goto: 0x05 | 0x00, // BPF_JMP | BPF_JA
  jeq: 0x05 | 0x10 | 0x00, // BPF_JMP | BPF_JEQ | BPF_K
  jgt: 0x05 | 0x20 | 0x00,
  jge: 0x05 | 0x30 | 0x00,
  jset: 0x05 | 0x40 | 0x00,
  return: 0x06 | 0x00, // BPF_RET | BPF_K
} as const;

/** A conditional jump's offsets are 8 bits: farther targets are reached through a `goto`. */
const MAX_CONDITIONAL_JUMP = 255;

type Test = Extract<BpfInstruction, { op: BpfTest }>;

function isTest(instruction: BpfInstruction): instruction is Test {
  return instruction.op === 'jeq' || instruction.op === 'jgt' || instruction.op === 'jge' || instruction.op === 'jset';
}

/**
 * Lays `program` out and encodes it as struct sock_filter entries in this machine's byte order
 * (little-endian: the only order kiln's architectures use), ready for
 * seccomp(SECCOMP_SET_MODE_FILTER). A conditional jump farther than 255 instructions goes
 * through a `goto` placed right after it (a trampoline; `goto` takes a 32-bit offset), as often
 * as needed until every jump fits.
 *
 * @throws InternalError when the program is malformed (a label missing or placed twice, a
 * backward jump, a load outside struct seccomp_data, a program that can run off its end) or
 * longer than {@link BPF_MAX_INSTRUCTIONS}: the compiler's fault, never the user's.
 */
export function assembleBpf(program: readonly BpfInstruction[]): Uint8Array {
  let code = [...program];
  let nextLabel = Math.max(-1, ...code.map(labelOf)) + 1;
  for (;;) {
    const { positions, length } = placeLabels(code);
    const far = new Map<number, { onTrue: boolean; onFalse: boolean }>();
    let index = 0;
    for (const [at, instruction] of code.entries()) {
      if (instruction.op === 'label') continue;
      const distance = (label: BpfLabel): number => {
        const target = positions.get(label);
        if (target === undefined) throw new InternalError(`BPF program: label ${label} is never placed`);
        if (target <= index) throw new InternalError(`BPF program: instruction ${index} jumps backward to label ${label}`);
        if (target >= length) throw new InternalError(`BPF program: instruction ${index} jumps past the end`);
        return target - index - 1;
      };
      if (instruction.op === 'goto') distance(instruction.target);
      if (isTest(instruction)) {
        const onTrue = distance(instruction.onTrue) > MAX_CONDITIONAL_JUMP;
        const onFalse = distance(instruction.onFalse) > MAX_CONDITIONAL_JUMP;
        if (onTrue || onFalse) far.set(at, { onTrue, onFalse });
      }
      index++;
    }
    if (length > BPF_MAX_INSTRUCTIONS) {
      throw new InternalError(`BPF program: ${length} instructions, more than the kernel's ${BPF_MAX_INSTRUCTIONS}`);
    }
    if (far.size === 0) return encode(code, positions, length);
    // Each far target gets a goto right after its jump; that moves other code, so lay out again.
    const rewritten: BpfInstruction[] = [];
    for (const [at, instruction] of code.entries()) {
      const fix = far.get(at);
      if (fix === undefined || !isTest(instruction)) {
        rewritten.push(instruction);
        continue;
      }
      const trampolines: BpfInstruction[] = [];
      const via = (target: BpfLabel): BpfLabel => {
        const label = nextLabel++;
        trampolines.push({ op: 'label', label }, { op: 'goto', target });
        return label;
      };
      const onTrue = fix.onTrue ? via(instruction.onTrue) : instruction.onTrue;
      const onFalse = fix.onFalse ? via(instruction.onFalse) : instruction.onFalse;
      rewritten.push({ ...instruction, onTrue, onFalse }, ...trampolines);
    }
    code = rewritten;
  }
}

function labelOf(instruction: BpfInstruction): number {
  return instruction.op === 'label' ? instruction.label : -1;
}

/** Each label's instruction index (of the instruction after it), and how many instructions there are. */
function placeLabels(code: readonly BpfInstruction[]): { positions: Map<BpfLabel, number>; length: number } {
  const positions = new Map<BpfLabel, number>();
  let index = 0;
  for (const instruction of code) {
    if (instruction.op !== 'label') {
      index++;
      continue;
    }
    if (positions.has(instruction.label)) throw new InternalError(`BPF program: label ${instruction.label} is placed twice`);
    positions.set(instruction.label, index);
  }
  return { positions, length: index };
}

function encode(code: readonly BpfInstruction[], positions: ReadonlyMap<BpfLabel, number>, length: number): Uint8Array {
  const bytes = new Uint8Array(length * BPF_INSTRUCTION_SIZE);
  const view = new DataView(bytes.buffer);
  let index = 0;
  let last: BpfInstruction | undefined;
  for (const instruction of code) {
    if (instruction.op === 'label') continue;
    // positions hold every label: checked by the layout pass before.
    const offset = (label: BpfLabel): number => (positions.get(label) ?? 0) - index - 1;
    let [jt, jf, k] = [0, 0, 0];
    switch (instruction.op) {
      case 'load':
        if (instruction.offset < 0 || instruction.offset > SECCOMP_DATA_SIZE - 4 || instruction.offset % 4 !== 0) {
          throw new InternalError(`BPF program: load of offset ${instruction.offset}, outside struct seccomp_data`);
        }
        k = instruction.offset;
        break;
      case 'and':
      case 'return':
        k = instruction.k;
        break;
      case 'goto':
        k = offset(instruction.target);
        break;
      case 'jeq':
      case 'jgt':
      case 'jge':
      case 'jset':
        [jt, jf, k] = [offset(instruction.onTrue), offset(instruction.onFalse), instruction.k];
        break;
      default:
        return assertNever(instruction);
    }
    if (!Number.isInteger(k) || k < 0 || k > 0xffffffff) throw new InternalError(`BPF program: constant ${k} is not a 32-bit value`);
    const at = index * BPF_INSTRUCTION_SIZE;
    view.setUint16(at, CODES[instruction.op], true);
    view.setUint8(at + 2, jt);
    view.setUint8(at + 3, jf);
    view.setUint32(at + 4, k, true);
    last = instruction;
    index++;
  }
  // The kernel refuses a program whose last instruction is no return (bpf_check_classic).
  if (last === undefined || last.op !== 'return') {
    throw new InternalError('BPF program: it does not end in a return');
  }
  return bytes;
}

function assertNever(value: never): never {
  throw new InternalError(`BPF program: unknown instruction ${JSON.stringify(value)}`);
}
