import test from 'ava';
import { InternalError } from '../errors/index.ts';
import { assembleBpf, BpfLabels, type BpfInstruction } from './bpf-program.ts';
import { decodeFilter, runFilter } from './bpf-test-kit.ts';

/*
 * The assembler: labels resolved into forward offsets, far conditional jumps through
 * trampolines, and what the kernel would refuse refused here first.
 */

/** `count` instructions that do nothing (A & all ones). */
function padding(count: number): BpfInstruction[] {
  return Array.from({ length: count }, () => ({ op: 'and', k: 0xffffffff }) as const);
}

test('jumps resolve to the instruction after their label', (t) => {
  const labels = new BpfLabels();
  const [yes, no] = [labels.next(), labels.next()];
  const bytes = assembleBpf([
    { op: 'load', offset: 0 },
    { op: 'jeq', k: 7, onTrue: yes, onFalse: no },
    { op: 'label', label: no },
    { op: 'return', k: 1 },
    { op: 'label', label: yes },
    { op: 'return', k: 2 },
  ]);
  t.deepEqual(decodeFilter(bytes), [
    { code: 0x20, jt: 0, jf: 0, k: 0 },
    { code: 0x15, jt: 1, jf: 0, k: 7 },
    { code: 0x06, jt: 0, jf: 0, k: 1 },
    { code: 0x06, jt: 0, jf: 0, k: 2 },
  ]);
  t.is(runFilter(bytes, { nr: 7, arch: 0 }), 2);
  t.is(runFilter(bytes, { nr: 8, arch: 0 }), 1);
});

test('a conditional jump past 255 instructions goes through a goto, both ways', (t) => {
  const labels = new BpfLabels();
  const [far, farther, near] = [labels.next(), labels.next(), labels.next()];
  const bytes = assembleBpf([
    { op: 'load', offset: 0 },
    { op: 'jge', k: 100, onTrue: far, onFalse: near },
    { op: 'label', label: near },
    { op: 'jeq', k: 5, onTrue: farther, onFalse: far },
    ...padding(300),
    { op: 'return', k: 0 },
    { op: 'label', label: far },
    ...padding(400),
    { op: 'return', k: 11 },
    { op: 'label', label: farther },
    { op: 'return', k: 22 },
  ]);
  const program = decodeFilter(bytes);
  t.true(program.filter(({ code }) => code === 0x05).length >= 3, 'expected a trampoline per far target');
  t.is(runFilter(bytes, { nr: 100, arch: 0 }), 11);
  t.is(runFilter(bytes, { nr: 5, arch: 0 }), 22);
  t.is(runFilter(bytes, { nr: 6, arch: 0 }), 11);
});

test('what the kernel would refuse is an InternalError: a backward jump, a missing label, a load outside seccomp_data, no final return, too many instructions', (t) => {
  const labels = new BpfLabels();
  const back = labels.next();
  t.throws(() => assembleBpf([{ op: 'label', label: back }, { op: 'load', offset: 0 }, { op: 'goto', target: back }, { op: 'return', k: 0 }]), {
    instanceOf: InternalError,
    message: /jumps backward/,
  });
  t.throws(() => assembleBpf([{ op: 'goto', target: 99 }, { op: 'return', k: 0 }]), { instanceOf: InternalError, message: 'BPF program: label 99 is never placed' });
  t.throws(() => assembleBpf([{ op: 'load', offset: 64 }, { op: 'return', k: 0 }]), { instanceOf: InternalError, message: /outside struct seccomp_data/ });
  t.throws(() => assembleBpf([{ op: 'return', k: 0 }, { op: 'load', offset: 0 }]), { instanceOf: InternalError, message: 'BPF program: it does not end in a return' });
  t.throws(() => assembleBpf([...padding(4096), { op: 'return', k: 0 }]), { instanceOf: InternalError, message: /4097 instructions/ });
  t.is(assembleBpf([...padding(4095), { op: 'return', k: 0 }]).length, 4096 * 8);
});
