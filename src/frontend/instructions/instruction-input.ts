import type { Instruction } from '../../syntax/index.ts';
import { parseBuilderFlags, type BuilderFlags, type FlagSpec } from '../builder-flags.ts';
import { fail, type Located } from '../located.ts';
import type { CommandBase } from './command.ts';

/** One instruction to validate, and where errors about it point. */
export interface InstructionInput {
  readonly instruction: Instruction;
  /** The file and range errors name (a base image's trigger points at the FROM). */
  readonly where: Located;
  readonly onBuild: boolean;
}

/** The fields every command has, from its instruction. */
export function commandBase(input: InstructionInput): CommandBase {
  return { range: input.where.range, code: input.instruction.original.trim(), onBuild: input.onBuild };
}

/** The instruction's flags checked against `spec`. */
export function instructionFlags(input: InstructionInput, spec: FlagSpec): BuilderFlags {
  return parseBuilderFlags(input.where, input.instruction.name, input.instruction.flags, spec);
}

/** BuildKit's handleJSONArgs: the exec form as it is, the shell form joined into one string. */
export function commandLine(input: InstructionInput, args: readonly string[] = input.instruction.args): string[] {
  if (args.length === 0) return [];
  return input.instruction.json ? [...args] : [args.join(' ')];
}

/** `NAME requires exactly one argument` unless there is one. */
export function exactlyOneArgument(input: InstructionInput): string {
  const [only, extra] = input.instruction.args;
  if (only === undefined || extra !== undefined) fail(input.where, `${input.instruction.name} requires exactly one argument`);
  return only;
}

/** `NAME requires at least one argument` when there is none. */
export function atLeastOneArgument(input: InstructionInput): void {
  if (input.instruction.args.length === 0) fail(input.where, `${input.instruction.name} requires at least one argument`);
}
