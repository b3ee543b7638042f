import type { Dockerfile } from '../syntax/index.ts';
import type { ArgCommand, Command, FromCommand } from './instructions/command.ts';
import { parseInstruction } from './instructions/parse-instruction.ts';
import { fail } from './located.ts';

/** A FROM and the commands up to the next one. */
export interface Stage {
  /** Position among the stages, from 0: what `COPY --from=0` names. */
  readonly index: number;
  readonly from: FromCommand;
  readonly commands: readonly Command[];
}

/** A Dockerfile split into stages (BuildKit's instructions.Parse). */
export interface StagedDockerfile {
  /** The ARGs before the first FROM: the global scope. */
  readonly metaArgs: readonly ArgCommand[];
  readonly stages: readonly Stage[];
}

/**
 * Validates every instruction (in every stage, needed or not, as BuildKit does) and groups
 * them into stages.
 * @throws DockerfileError at the first invalid instruction, at an instruction other than ARG
 *   before the first FROM, or when there is no FROM at all.
 */
export function splitStages(ast: Dockerfile, file: string): StagedDockerfile {
  const metaArgs: ArgCommand[] = [];
  const stages: { index: number; from: FromCommand; commands: Command[] }[] = [];
  for (const instruction of ast.instructions) {
    const command = parseInstruction({ instruction, where: { file, range: instruction.range }, onBuild: false });
    if (command.kind === 'from') {
      stages.push({ index: stages.length, from: command, commands: [] });
      continue;
    }
    const current = stages[stages.length - 1];
    if (current !== undefined) {
      current.commands.push(command);
    } else if (command.kind === 'arg') {
      metaArgs.push(command);
    } else {
      fail(
        { file, range: instruction.range },
        `${instruction.name}: no build stage in current context`,
        'a Dockerfile starts with FROM; only ARG may come before it',
      );
    }
  }
  if (stages.length === 0) {
    const first = ast.instructions[0]?.range ?? { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } };
    fail({ file, range: first }, 'dockerfile contains no stages to build', 'add a FROM instruction');
  }
  return { metaArgs, stages };
}
