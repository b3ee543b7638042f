import { fail } from '../located.ts';
import type { VolumeCommand } from './command.ts';
import { atLeastOneArgument, commandBase, instructionFlags, type InstructionInput } from './instruction-input.ts';

/** `VOLUME path…` or `VOLUME ["path", …]`: each path trimmed and non-empty. */
export function parseVolume(input: InstructionInput): VolumeCommand {
  atLeastOneArgument(input);
  instructionFlags(input, {});
  const volumes = input.instruction.args.map((v) => {
    const path = v.trim();
    if (path === '') fail(input.where, 'VOLUME specified can not be an empty string');
    return path;
  });
  return { kind: 'volume', ...commandBase(input), volumes };
}
