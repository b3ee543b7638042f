import { fail } from '../located.ts';
import type { FromCommand } from './command.ts';
import { instructionFlags, type InstructionInput } from './instruction-input.ts';

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** `FROM [--platform=p] image [AS name]`: one or three arguments; the name lower-cased and checked. */
export function parseFrom(input: InstructionInput): FromCommand {
  const flags = instructionFlags(input, { platform: 'string' });
  const { args } = input.instruction;
  let stageName: string | undefined;
  if (args.length === 3 && (args[1] ?? '').toLowerCase() === 'as') {
    stageName = (args[2] ?? '').toLowerCase();
    if (!STAGE_NAME.test(stageName)) {
      fail(
        input.where,
        `invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`,
        'a stage name is a letter followed by letters, digits, -, _ or .',
      );
    }
  } else if (args.length !== 1) {
    fail(input.where, 'FROM requires either one or three arguments', 'FROM image, or FROM image AS name');
  }
  return {
    kind: 'from',
    range: input.where.range,
    code: input.instruction.original.trim(),
    baseName: args[0] ?? '',
    stageName,
    platform: flags.string('platform'),
  };
}
