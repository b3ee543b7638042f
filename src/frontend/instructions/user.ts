import type { UserCommand } from './command.ts';
import { commandBase, exactlyOneArgument, instructionFlags, type InstructionInput } from './instruction-input.ts';

/** `USER user[:group]`: exactly one argument. */
export function parseUser(input: InstructionInput): UserCommand {
  const user = exactlyOneArgument(input);
  instructionFlags(input, {});
  return { kind: 'user', ...commandBase(input), user };
}
