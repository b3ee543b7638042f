import posix from 'node:path/posix';
import type { MkdirAction } from '../../graph/index.ts';
import { shellEnv } from '../env-list.ts';
import { commitToHistory } from '../history.ts';
import type { WorkdirCommand } from '../instructions/command.ts';
import type { StageState } from '../stage-state.ts';
import { displayText, stepName } from '../vertex-name.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { expandWord } from './expand.ts';
import { stageVertex } from './stage-vertex.ts';

/**
 * The new working directory for `path` after `current` (BuildKit's NormalizeWorkdir): an
 * absolute path as written, a relative one joined to the current one (cleaned).
 */
export function normalizeWorkdir(current: string | undefined, path: string): string {
  let parent = current === undefined || current === '' ? '/' : current;
  if (!parent.startsWith('/')) parent = posix.join('/', parent);
  if (path === '') return parent;
  return path.startsWith('/') ? path : posix.join(parent, path);
}

/**
 * WORKDIR (BuildKit's dispatchWorkdir): the path expanded and resolved against the previous
 * one; the config's WorkingDir and the running directory set; unless the result is `/`, a
 * file vertex makes the directory (with parents, mode 0755, owned by the config's USER) and
 * the history entry `WORKDIR /path` has a layer.
 */
export function dispatchWorkdir(ctx: DispatchContext, state: StageState, command: WorkdirCommand): void {
  const path = expandWord(ctx, state, command, command.path);
  const wd = normalizeWorkdir(state.image.config?.WorkingDir, path);
  state.image = { ...state.image, config: { ...state.image.config, WorkingDir: wd } };
  state.dir = wd;
  const withLayer = wd !== '/';
  if (withLayer) {
    const mkdir: MkdirAction = { kind: 'mkdir', path: wd, mode: 0o755, chown: state.image.config?.User ?? '' };
    const name = stepName(state, displayText(ctx.lexer, command.code, shellEnv(state.env)));
    state.vertex = stageVertex(ctx, state, command, { kind: 'file', actions: [mkdir] }, [], name);
  }
  commitToHistory(state, `WORKDIR ${wd}`, withLayer);
}
