import { EMPTY_ENV, type ShellLexer } from '../shell/index.ts';
import type { Command } from './instructions/command.ts';
import { fail, type Located } from './located.ts';
import { newStageState, type StageRegistry, type StageState } from './stage-state.ts';

/**
 * The states a command reads from (BuildKit's toCommand and detectRunMount): COPY --from
 * names a stage (by name, case-insensitive, or by index) or else an image; each RUN mount
 * names its `from=` or, without one, scratch. A name that is no stage becomes an image state
 * of its own, added to the registry.
 * @throws DockerfileError at the command for a variable in `--from` or a bad stage index.
 */
export function commandSources(command: Command, registry: StageRegistry, lexer: ShellLexer, file: string): StageState[] {
  const where: Located = { file, range: command.range };
  if (command.kind === 'copy' && command.from !== undefined) {
    const from = command.from;
    let expanded: string;
    try {
      expanded = lexer.processWord(from, EMPTY_ENV).word;
    } catch (error) {
      return fail(where, `COPY --from: ${(error as Error).message}`, undefined, error);
    }
    if (expanded !== from) {
      fail(
        where,
        'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround',
        'ARG NAME=value before the first FROM, FROM ${NAME} AS alias, then COPY --from=alias',
      );
    }
    if (/^[+-]?\d+$/.test(from)) {
      const index = Number(from);
      const stage = registry.states.find((s) => s.stage?.index === index);
      if (stage === undefined) fail(where, `invalid stage index ${index}`, 'stages are numbered from 0 in the order of their FROM');
      return [stage];
    }
    return [registry.byName(from) ?? unregistered(registry, from, where)];
  }
  if (command.kind === 'run') {
    return command.mountFroms.map((from) => registry.byName(from ?? 'scratch') ?? unregistered(registry, from ?? 'scratch', where));
  }
  return [];
}

function unregistered(registry: StageRegistry, baseName: string, where: Located): StageState {
  const state = newStageState({
    stage: undefined,
    baseName,
    range: where.range,
    displayName: '',
    platform: undefined,
    noCache: false,
    unregistered: true,
  });
  registry.add(state);
  return state;
}

/**
 * Refuses a stage that depends on itself through its commands' sources, directly or not
 * (BuildKit's validateCircularDependency).
 * @throws DockerfileError at the first command on the cycle.
 */
export function checkCircularDependency(states: readonly StageState[], file: string): void {
  const visited = new Set<StageState>();
  const onPath = new Set<StageState>();
  const visit = (state: StageState, chain: readonly Command[]): readonly Command[] | undefined => {
    if (visited.has(state)) return undefined;
    visited.add(state);
    onPath.add(state);
    for (const [dep, command] of state.deps) {
      const next = [...chain, command];
      if (onPath.has(dep)) return next;
      const cycle = visit(dep, next);
      if (cycle !== undefined) return cycle;
    }
    onPath.delete(state);
    return undefined;
  };
  for (const state of states) {
    const cycle = visit(state, []);
    const first = cycle?.[0];
    if (first !== undefined) {
      fail({ file, range: first.range }, `circular dependency detected on stage: ${state.displayName}`, 'a stage cannot copy or mount from itself or from a stage built from it');
    }
  }
}

/** `target` and every state it needs: its base stage and its commands' sources, recursively. */
export function reachableStates(target: StageState): Set<StageState> {
  const reachable = new Set<StageState>();
  const stack = [target];
  for (let state = stack.pop(); state !== undefined; state = stack.pop()) {
    if (reachable.has(state)) continue;
    reachable.add(state);
    if (state.base !== undefined) stack.push(state.base);
    for (const dep of state.deps.keys()) stack.push(dep);
  }
  return reachable;
}
