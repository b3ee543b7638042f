import { fail } from '../located.ts';
import type { ArgCommand, ArgDefinition } from './command.ts';
import { commandBase, instructionFlags, type InstructionInput } from './instruction-input.ts';

/** `ARG name[=default] …`: each word a name, or a name and a default split at the first `=`. */
export function parseArg(input: InstructionInput): ArgCommand {
  instructionFlags(input, {});
  if (input.instruction.args.length === 0) fail(input.where, 'ARG requires at least one argument');
  const args = input.instruction.args.map((word): ArgDefinition => {
    const eq = word.indexOf('=');
    if (eq < 0) return { key: word, value: undefined };
    if (eq === 0) fail(input.where, 'ARG names can not be blank');
    return { key: word.slice(0, eq), value: word.slice(eq + 1) };
  });
  return { kind: 'arg', ...commandBase(input), args };
}
