import type { MaintainerCommand } from './command.ts';
import { commandBase, exactlyOneArgument, instructionFlags, type InstructionInput } from './instruction-input.ts';

/** `MAINTAINER name` (deprecated): sets the image's author. */
export function parseMaintainer(input: InstructionInput): MaintainerCommand {
  const maintainer = exactlyOneArgument(input);
  instructionFlags(input, {});
  return { kind: 'maintainer', ...commandBase(input), maintainer };
}
