import type { EntrypointCommand } from './command.ts';
import { commandBase, commandLine, instructionFlags, type InstructionInput } from './instruction-input.ts';

/** `ENTRYPOINT command` or `ENTRYPOINT ["exec", "form"]`; `ENTRYPOINT []` clears it. No flags. */
export function parseEntrypoint(input: InstructionInput): EntrypointCommand {
  instructionFlags(input, {});
  return { kind: 'entrypoint', ...commandBase(input), cmdLine: commandLine(input), prependShell: !input.instruction.json };
}
