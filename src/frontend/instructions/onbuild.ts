import { fail } from '../located.ts';
import type { OnbuildCommand } from './command.ts';
import { commandBase, instructionFlags, type InstructionInput } from './instruction-input.ts';

/**
 * `ONBUILD instruction`: stored as written (without `ONBUILD`, heredoc bodies appended) for
 * images built on this one. ONBUILD, FROM and MAINTAINER cannot be triggers.
 */
export function parseOnbuild(input: InstructionInput): OnbuildCommand {
  const { instruction } = input;
  if (instruction.args.length === 0) fail(input.where, 'ONBUILD requires at least one argument');
  instructionFlags(input, {});
  const trigger = (instruction.trigger?.name ?? instruction.args[0] ?? '').trim().toUpperCase();
  if (trigger === 'ONBUILD') fail(input.where, 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (trigger === 'MAINTAINER' || trigger === 'FROM') fail(input.where, `${trigger} isn't allowed as an ONBUILD trigger`);
  let expression = instruction.original.replace(/^\s*ONBUILD\s*/i, '');
  for (const heredoc of instruction.heredocs) expression += `\n${heredoc.content}${heredoc.name}`;
  return { kind: 'onbuild', ...commandBase(input), expression };
}
