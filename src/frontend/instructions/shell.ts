import { fail } from '../located.ts';
import type { ShellCommand } from './command.ts';
import { commandBase, instructionFlags, type InstructionInput } from './instruction-input.ts';

/** `SHELL ["executable", "param"…]`: the exec form only, not empty. */
export function parseShell(input: InstructionInput): ShellCommand {
  instructionFlags(input, {});
  if (input.instruction.args.length === 0) fail(input.where, 'SHELL requires at least one argument');
  if (!input.instruction.json) {
    fail(input.where, 'SHELL requires the arguments to be in JSON form', 'write SHELL ["/bin/bash", "-c"]');
  }
  return { kind: 'shell', ...commandBase(input), shell: [...input.instruction.args] };
}
