import { parseDockerfile } from '../syntax/index.ts';
import type { ShellLexer } from '../shell/index.ts';
import { DockerfileError } from '../errors/index.ts';
import type { Command, FromCommand } from './instructions/command.ts';
import { parseInstruction } from './instructions/parse-instruction.ts';
import { fail } from './located.ts';
import { commandSources } from './stage-graph.ts';
import type { StageRegistry, StageState } from './stage-state.ts';

/**
 * Runs a base's ONBUILD triggers in `state` (BuildKit's initOnBuildTriggers): the base
 * image's config OnBuild, or the base stage's ONBUILD instructions, each parsed as one
 * instruction, put before the stage's own commands and numbered with them; errors point at
 * the FROM. The image's triggers are consumed (the new image does not inherit them).
 * @returns whether a trigger names a stage or image the build did not depend on before.
 * @throws DockerfileError at the FROM for a trigger that does not parse or is not allowed.
 */
export function initOnBuildTriggers(state: StageState, registry: StageRegistry, lexer: ShellLexer, file: string): boolean {
  const triggers = [...(state.image.config?.OnBuild ?? [])];
  if (state.base !== undefined && !state.onBuildInit) {
    for (const entry of state.base.commands) if (entry.command.kind === 'onbuild') triggers.push(entry.command.expression);
    state.onBuildInit = true;
  }
  if (triggers.length === 0) return false;
  const where = { file, range: state.range };
  let newDeps = false;
  const entries = triggers.map((trigger) => {
    const { ast, diagnostics } = parseDockerfile(trigger, { file });
    const error = diagnostics.find((d) => d.severity === 'error');
    if (error !== undefined) fail(where, `ONBUILD trigger ${JSON.stringify(trigger)}: ${error.message}`);
    const [instruction, extra] = ast.instructions;
    if (instruction === undefined || extra !== undefined) fail(where, 'onbuild trigger should be a single expression');
    let command: Command | FromCommand;
    try {
      command = parseInstruction({ instruction, where, onBuild: true });
    } catch (error) {
      if (!(error instanceof DockerfileError)) throw error;
      return fail(where, `ONBUILD trigger ${JSON.stringify(trigger)}: ${error.message}`, error.hint, error);
    }
    if (command.kind === 'from') fail(where, `ONBUILD trigger ${JSON.stringify(trigger)}: FROM isn't allowed as an ONBUILD trigger`);
    const sources = commandSources(command, registry, lexer, file);
    if (sources.length > 0) newDeps = true;
    for (const source of sources) state.deps.set(source, command);
    return { command, sources };
  });
  state.commands = [...entries, ...state.commands];
  state.cmdTotal += entries.length;
  if (state.image.config?.OnBuild !== undefined) {
    const { OnBuild: _consumed, ...config } = state.image.config;
    state.image = { ...state.image, config };
  }
  return newDeps;
}
