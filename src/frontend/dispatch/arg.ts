import { getEnv, setEnv } from '../env-list.ts';
import { commitToHistory } from '../history.ts';
import type { ArgCommand, ArgDefinition } from '../instructions/command.ts';
import type { StageState } from '../stage-state.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { expandWord } from './expand.ts';

/** ARGs BuildKit reads itself and never puts into a RUN's environment. */
const NON_ENV_ARGS = new Set(['BUILDKIT_SBOM_SCAN_CONTEXT', 'BUILDKIT_SBOM_SCAN_STAGE']);

/**
 * ARG in a stage (BuildKit's dispatchArg): a `--build-arg` value wins, taken as it is; else
 * the default, expanded with the stage so far; else the global ARG of that name. A value
 * enters the running environment (later instructions and RUN see it, the config's Env does
 * not). History: `ARG k=v …`, no layer.
 */
export function dispatchArg(ctx: DispatchContext, state: StageState, command: ArgCommand): void {
  const committed: string[] = [];
  for (const arg of command.args) {
    ctx.declareArg(arg.key);
    let value: string | undefined;
    const given = ctx.buildArgs.get(arg.key);
    if (given !== undefined) value = given;
    else if (arg.value !== undefined) value = expandWord(ctx, state, command, arg.value);
    else value = getEnv(ctx.globalArgs, arg.key);
    if (value !== undefined && !NON_ENV_ARGS.has(arg.key)) state.env = setEnv(state.env, arg.key, value);
    const definition: ArgDefinition = { key: arg.key, value };
    state.buildArgs = [...state.buildArgs, definition];
    committed.push(value === undefined ? arg.key : `${arg.key}=${value}`);
  }
  commitToHistory(state, `ARG ${committed.join(' ')}`, false);
}
