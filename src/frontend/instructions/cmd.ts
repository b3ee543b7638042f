import type { CmdCommand } from './command.ts';
import { commandBase, commandLine, instructionFlags, type InstructionInput } from './instruction-input.ts';

/** `CMD command` or `CMD ["exec", "form"]`; no flags. */
export function parseCmd(input: InstructionInput): CmdCommand {
  instructionFlags(input, {});
  return { kind: 'cmd', ...commandBase(input), cmdLine: commandLine(input), prependShell: !input.instruction.json };
}
