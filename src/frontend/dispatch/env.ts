import { setConfigEnv, setEnv } from '../env-list.ts';
import { commitToHistory } from '../history.ts';
import type { EnvCommand } from '../instructions/command.ts';
import type { StageState } from '../stage-state.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { expandWord } from './expand.ts';

/**
 * ENV: every key and value expanded with the environment before the instruction (so
 * `ENV A=1 B=$A` sees the old A), then set in the running environment and the config's Env.
 * History: `ENV k=v …`, no layer.
 */
export function dispatchEnv(ctx: DispatchContext, state: StageState, command: EnvCommand): void {
  const pairs = command.pairs.map((p) => ({ key: expandWord(ctx, state, command, p.key), value: expandWord(ctx, state, command, p.value) }));
  let env = state.env;
  let configEnv = state.image.config?.Env ?? [];
  for (const { key, value } of pairs) {
    env = setEnv(env, key, value);
    configEnv = setConfigEnv(configEnv, key, value);
  }
  state.env = env;
  state.image = { ...state.image, config: { ...state.image.config, Env: configEnv } };
  commitToHistory(state, `ENV${pairs.map((p) => ` ${p.key}=${p.value}`).join('')}`, false);
}
