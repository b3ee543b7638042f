import type { StopSignalCommand } from './command.ts';
import { commandBase, exactlyOneArgument, instructionFlags, type InstructionInput } from './instruction-input.ts';

/** `STOPSIGNAL signal`: exactly one argument; checked once expanded. */
export function parseStopSignal(input: InstructionInput): StopSignalCommand {
  const signal = exactlyOneArgument(input);
  instructionFlags(input, {});
  return { kind: 'stopsignal', ...commandBase(input), signal };
}
