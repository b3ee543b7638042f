import { InternalError } from '../../errors/index.ts';
import type { CommandEntry, StageState } from '../stage-state.ts';
import { dispatchArg } from './arg.ts';
import { dispatchCopy } from './copy.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { dispatchEnv } from './env.ts';
import { dispatchConfigCommand } from './image-config.ts';
import { dispatchRun } from './run.ts';
import { dispatchWorkdir } from './workdir.ts';

/**
 * Dispatches one command of a stage: expands what BuildKit expands in it (see
 * EXPANDED_INSTRUCTIONS in src/shell) with the stage's environment at that point, then
 * changes the stage's file system (RUN, COPY, ADD, WORKDIR), its environment (ENV, ARG) or
 * its image config.
 * @throws DockerfileError at the command.
 */
export function dispatchCommand(ctx: DispatchContext, state: StageState, entry: CommandEntry): void {
  const { command, sources } = entry;
  state.cmdIsOnBuild = command.onBuild;
  switch (command.kind) {
    case 'run':
      return dispatchRun(ctx, state, command, sources);
    case 'copy':
    case 'add':
      return dispatchCopy(ctx, state, command, sources);
    case 'workdir':
      return dispatchWorkdir(ctx, state, command);
    case 'env':
      return dispatchEnv(ctx, state, command);
    case 'arg':
      return dispatchArg(ctx, state, command);
    case 'cmd':
    case 'entrypoint':
    case 'expose':
    case 'healthcheck':
    case 'label':
    case 'maintainer':
    case 'onbuild':
    case 'shell':
    case 'stopsignal':
    case 'user':
    case 'volume':
      return dispatchConfigCommand(ctx, state, command);
    default:
      return assertNever(command);
  }
}

function assertNever(value: never): never {
  throw new InternalError(`unhandled command ${JSON.stringify(value)}`);
}
