import type { ExposeCommand } from './command.ts';
import { atLeastOneArgument, commandBase, instructionFlags, type InstructionInput } from './instruction-input.ts';

/** `EXPOSE port[/proto]…`: at least one; kept as written and sorted, as BuildKit keeps them. */
export function parseExpose(input: InstructionInput): ExposeCommand {
  atLeastOneArgument(input);
  instructionFlags(input, {});
  // Sorted by code unit, as Go's slices.Sort sorts the raw arguments.
  const ports = [...input.instruction.args].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { kind: 'expose', ...commandBase(input), ports };
}
