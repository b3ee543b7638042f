import { InternalError } from '../../errors/index.ts';
import { createVertex, type Op, type Vertex } from '../../graph/index.ts';
import type { Command } from '../instructions/command.ts';
import type { StageState } from '../stage-state.ts';
import type { DispatchContext } from './dispatch-context.ts';

/**
 * A vertex of the stage for `command`, named `name`: on the stage's file system (input 0)
 * and `extra` inputs, with the command's range, and the stage's no-cache mark.
 */
export function stageVertex(ctx: DispatchContext, state: StageState, command: Command, op: Op, extra: readonly Vertex[], name: string): Vertex {
  const base = currentVertex(state);
  return createVertex(op, [base, ...extra], {
    name,
    range: command.range,
    file: ctx.file,
    ...(state.noCache && command.kind !== 'workdir' ? { noCache: true } : {}),
  });
}

/** The stage's file system so far. */
export function currentVertex(state: StageState): Vertex {
  if (state.vertex === undefined) throw new InternalError(`stage ${state.displayName} is dispatched before its base is resolved`);
  return state.vertex;
}

/**
 * The index of `vertex` among a step's inputs: 0 when it is the stage's own file system
 * `base`, else its place in `extra` + 1, added when it is not there yet, so each source is
 * one input however many actions use it.
 */
export function inputIndex(base: Vertex, extra: Vertex[], vertex: Vertex): number {
  if (vertex.digest === base.digest) return 0;
  const at = extra.findIndex((v) => v.digest === vertex.digest);
  if (at >= 0) return at + 1;
  extra.push(vertex);
  return extra.length;
}
