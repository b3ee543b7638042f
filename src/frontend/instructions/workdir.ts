import type { WorkdirCommand } from './command.ts';
import { commandBase, exactlyOneArgument, instructionFlags, type InstructionInput } from './instruction-input.ts';

/** `WORKDIR path`: exactly one argument. */
export function parseWorkdir(input: InstructionInput): WorkdirCommand {
  const path = exactlyOneArgument(input);
  instructionFlags(input, {});
  return { kind: 'workdir', ...commandBase(input), path };
}
