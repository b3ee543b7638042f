import { fail } from '../located.ts';
import type { EnvCommand, KeyValue, LabelCommand } from './command.ts';
import { commandBase, instructionFlags, type InstructionInput } from './instruction-input.ts';

/** `ENV k=v …` and `ENV k v`: no flags, at least one pair, no blank name. */
export function parseEnv(input: InstructionInput): EnvCommand {
  instructionFlags(input, {});
  return { kind: 'env', ...commandBase(input), pairs: keyValues(input) };
}

/** `LABEL k=v …`: no flags, at least one pair, no blank name. */
export function parseLabel(input: InstructionInput): LabelCommand {
  instructionFlags(input, {});
  return { kind: 'label', ...commandBase(input), pairs: keyValues(input) };
}

function keyValues(input: InstructionInput): KeyValue[] {
  const { name, args } = input.instruction;
  if (args.length === 0) fail(input.where, `${name} requires at least one argument`);
  if (args.length % 2 !== 0) fail(input.where, `Bad input to ${name}, too many arguments`);
  const pairs: KeyValue[] = [];
  for (let k = 0; k + 1 < args.length; k += 2) {
    const key = args[k] ?? '';
    if (key === '') fail(input.where, `${name} names can not be blank`);
    pairs.push({ key, value: args[k + 1] ?? '' });
  }
  return pairs;
}
