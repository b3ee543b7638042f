import posix from 'node:path/posix';
import type { ExecMount, Vertex } from '../../graph/index.ts';
import type { RunCommand } from '../instructions/command.ts';
import { fail } from '../located.ts';
import { parseRunMount, type RunMount } from '../run-mounts.ts';
import type { StageState } from '../stage-state.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { expandWord } from './expand.ts';
import { currentVertex, inputIndex } from './stage-vertex.ts';

/** A RUN's mounts and the inputs they add to its vertex. */
export interface ExecMounts {
  readonly mounts: readonly ExecMount[];
  /** Inputs after input 0, in the order the mounts' `from` indices count them. */
  readonly inputs: readonly Vertex[];
  /** Secret mounts' `env=` names, shown masked in the step's name. */
  readonly secretEnv: readonly string[];
}

/**
 * Turns a RUN's `--mount` values into exec mounts (BuildKit's dispatchRunMounts,
 * dispatchSecret, dispatchSSH): fields expanded with the stage's environment, targets
 * resolved against WORKDIR, sources cleaned, BuildKit's defaults filled in (cache id = the
 * target, sharing shared, mode 0755; secret at /run/secrets/<id>, mode 0400; ssh id
 * `default`, socket /run/buildkit/ssh_agent.N, mode 0600). A bind's or a seeded cache's
 * `from` is an input of the vertex: the build context, a stage's result or an image.
 * @throws DockerfileError at the RUN naming the mount and what is wrong with it.
 */
export function execMounts(ctx: DispatchContext, state: StageState, command: RunCommand, sources: readonly StageState[]): ExecMounts {
  const where = { file: ctx.file, range: command.range };
  const base = currentVertex(state);
  const inputs: Vertex[] = [];
  const mounts: ExecMount[] = [];
  const secretEnv: string[] = [];
  let sshCount = 0;
  command.mounts.forEach((value, i) => {
    let m: RunMount;
    try {
      m = parseRunMount(value, (word) => expandWord(ctx, state, command, word));
    } catch (error) {
      return fail(where, `RUN --mount=${value}: ${(error as Error).message}`, undefined, error);
    }
    const rawTarget = m.target;
    const from = m.from === '' && m.type === 'cache' ? 'scratch' : m.from;
    let fromVertex: Vertex = ctx.contextVertex();
    if (from !== '' && (m.type === 'bind' || m.type === 'cache')) {
      const source = sources[i];
      if (source === undefined || !source.dispatched || source.vertex === undefined) {
        fail(where, `cannot mount from stage ${JSON.stringify(from)} to ${JSON.stringify(rawTarget)}, stage needs to be defined before current command`);
      }
      fromVertex = source.vertex;
    }
    if (m.type === 'secret') {
      if (m.env !== undefined) secretEnv.push(m.env);
      let id = m.source !== '' ? m.source : m.id;
      if (id === '') id = posix.basename(m.target);
      const target = m.target !== '' ? m.target : m.env === undefined ? `/run/secrets/${posix.basename(id)}` : undefined;
      mounts.push({ kind: 'secret', id, target, env: m.env, required: m.required, mode: m.mode ?? 0o400, uid: m.uid ?? 0, gid: m.gid ?? 0 });
      return;
    }
    if (m.type === 'ssh') {
      if (m.source !== '') fail(where, `RUN --mount=${value}: ssh does not support source`);
      const target = m.target !== '' ? m.target : `/run/buildkit/ssh_agent.${sshCount}`;
      sshCount++;
      mounts.push({ kind: 'ssh', id: m.id === '' ? 'default' : m.id, target, required: m.required, mode: m.mode ?? 0o600, uid: m.uid ?? 0, gid: m.gid ?? 0 });
      return;
    }
    let target = m.target;
    if (!posix.isAbsolute(posix.normalize(target === '' ? '.' : target))) target = posix.join('/', state.dir, target);
    if (target === '/') fail(where, `RUN --mount=${value}: invalid mount target ${JSON.stringify(target)}`, 'mount somewhere below /');
    const source = cleanRelative(m.source);
    switch (m.type) {
      case 'tmpfs':
        mounts.push({ kind: 'tmpfs', target, size: m.sizeLimit });
        return;
      case 'bind':
        mounts.push({ kind: 'bind', target, from: inputIndex(base, inputs, fromVertex), source, readwrite: !m.readOnly });
        return;
      case 'cache':
        mounts.push({
          kind: 'cache',
          target,
          id: m.id !== '' ? m.id : posix.normalize(rawTarget === '' ? '.' : rawTarget).replace(/(.)\/$/, '$1'),
          sharing: m.sharing ?? 'shared',
          from: m.from === '' ? undefined : inputIndex(base, inputs, fromVertex),
          source,
          mode: m.mode ?? 0o755,
          uid: m.uid ?? 0,
          gid: m.gid ?? 0,
          readonly: m.readOnly,
        });
        return;
    }
  });
  return { mounts, inputs, secretEnv };
}

/** A path inside a mount's source, clean and relative to its root (`.` for the root). */
function cleanRelative(path: string): string {
  const clean = posix.join('/', path).slice(1);
  return clean === '' ? '.' : clean.replace(/\/$/, '');
}
