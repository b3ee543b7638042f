import { INSTRUCTION_NAMES } from '../../syntax/index.ts';
import { fail } from '../located.ts';
import { didYouMean } from '../suggest.ts';
import { parseArg } from './arg.ts';
import { parseCmd } from './cmd.ts';
import type { Command, FromCommand } from './command.ts';
import { parseAdd, parseCopy } from './copy.ts';
import { parseEntrypoint } from './entrypoint.ts';
import { parseExpose } from './expose.ts';
import { parseFrom } from './from.ts';
import { parseHealthcheck } from './healthcheck.ts';
import type { InstructionInput } from './instruction-input.ts';
import { parseEnv, parseLabel } from './key-values.ts';
import { parseMaintainer } from './maintainer.ts';
import { parseOnbuild } from './onbuild.ts';
import { parseRun } from './run.ts';
import { parseShell } from './shell.ts';
import { parseStopSignal } from './stop-signal.ts';
import { parseUser } from './user.ts';
import { parseVolume } from './volume.ts';
import { parseWorkdir } from './workdir.ts';

/**
 * Validates one instruction into its command (BuildKit's ParseInstruction): FROM starts a
 * stage, everything else is a command of the current one.
 * @throws DockerfileError at the instruction for an unknown instruction, an unknown or
 *   malformed flag, or a wrong number of arguments.
 */
export function parseInstruction(input: InstructionInput): Command | FromCommand {
  const name = input.instruction.name.toUpperCase();
  switch (name) {
    case 'FROM':
      return parseFrom(input);
    case 'ADD':
      return parseAdd(input);
    case 'ARG':
      return parseArg(input);
    case 'CMD':
      return parseCmd(input);
    case 'COPY':
      return parseCopy(input);
    case 'ENTRYPOINT':
      return parseEntrypoint(input);
    case 'ENV':
      return parseEnv(input);
    case 'EXPOSE':
      return parseExpose(input);
    case 'HEALTHCHECK':
      return parseHealthcheck(input);
    case 'LABEL':
      return parseLabel(input);
    case 'MAINTAINER':
      return parseMaintainer(input);
    case 'ONBUILD':
      return parseOnbuild(input);
    case 'RUN':
      return parseRun(input);
    case 'SHELL':
      return parseShell(input);
    case 'STOPSIGNAL':
      return parseStopSignal(input);
    case 'USER':
      return parseUser(input);
    case 'VOLUME':
      return parseVolume(input);
    case 'WORKDIR':
      return parseWorkdir(input);
    default:
      return fail(input.where, `unknown instruction: ${input.instruction.keyword}`, didYouMean(name, INSTRUCTION_NAMES));
  }
}
