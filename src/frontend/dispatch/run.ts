import posix from 'node:path/posix';
import type { ExecOp, InlineFile } from '../../graph/index.ts';
import { envFromPairs } from '../../shell/index.ts';
import { envStrings, getEnv } from '../env-list.ts';
import { commitToHistory } from '../history.ts';
import type { ArgDefinition, RunCommand } from '../instructions/command.ts';
import { heredocName } from '../instructions/heredoc-word.ts';
import { fail } from '../located.ts';
import type { StageState } from '../stage-state.ts';
import { displayText, stepName } from '../vertex-name.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { execMounts } from './exec-mounts.ts';
import { stageVertex } from './stage-vertex.ts';
import { withShell } from './image-config.ts';

/** Where a shebang heredoc's script is put in the sandbox (BuildKit mounts it there too). */
const PIPES_DIR = '/dev/pipes/';

/**
 * RUN (BuildKit's dispatchRun): the command through SHELL for the shell form; a lone heredoc
 * (`RUN <<EOF`) runs its body (a body starting with `#!` as a script file under /dev/pipes,
 * any other as the shell's command string), a heredoc inside a longer command is given back
 * to the shell as written. The exec vertex gets the running environment (config Env and the
 * ARGs in scope), the proxies from the build args, WORKDIR, USER, the mounts, network and
 * security mode, and the VOLUMEs so far. History: `RUN [|N K=V …] argv # buildkit`.
 * @throws DockerfileError at the RUN for a bad mount or a heredoc in an exec form.
 */
export function dispatchRun(ctx: DispatchContext, state: StageState, command: RunCommand, sources: readonly StageState[]): void {
  let args: string[] = [...command.cmdLine];
  let displayed = command.code;
  const files: InlineFile[] = [];
  const first = command.files[0];
  if (first !== undefined) {
    const [only, extra] = args;
    if (only === undefined || extra !== undefined || !command.prependShell) {
      fail({ file: ctx.file, range: command.range }, `parsing produced an invalid run command: [${args.join(' ')}]`);
    }
    if (heredocName(only) !== undefined) {
      if (first.data.startsWith('#!')) {
        const path = posix.join(PIPES_DIR, first.name);
        files.push({ path, data: first.data, mode: 0o755 });
        args = [path];
      } else {
        args = [first.data];
      }
      displayed += ` (${summarizeHeredoc(first.data)})`;
    } else {
      args = [only + command.files.map((f) => `\n${f.data}${f.name}`).join('')];
    }
  }
  if (command.prependShell) args = withShell(state, args);

  const { mounts, inputs, secretEnv } = execMounts(ctx, state, command, sources);
  const env = envStrings(state.env);
  const sshTarget = mounts.find((m) => m.kind === 'ssh')?.target;
  if (sshTarget !== undefined && getEnv(state.env, 'SSH_AUTH_SOCK') === undefined) env.push(`SSH_AUTH_SOCK=${sshTarget}`);

  const op: ExecOp = {
    kind: 'exec',
    argv: args,
    env,
    ...(ctx.proxyEnv.length === 0 ? {} : { proxyEnv: [...ctx.proxyEnv] }),
    cwd: state.dir,
    user: state.user,
    network: command.network,
    security: command.security,
    mounts,
    files,
    volumes: Object.keys(state.image.config?.Volumes ?? {}),
  };
  // Secrets given as variables show as **** in the name, as in BuildKit.
  const nameEnv = envFromPairs([...state.env, ...secretEnv.map((name) => [name, '****'] as const)]);
  const name = stepName(state, displayText(ctx.rawLexer, displayed, nameEnv));
  state.vertex = stageVertex(ctx, state, command, op, inputs, name);
  commitToHistory(state, `RUN ${runCommandString(args, state.buildArgs, state)}`, true, true);
}

/**
 * BuildKit's runCommandString: the ARGs in scope (each once, with its current value) as
 * `|N K=V …` before the command, so a different build arg makes a different history.
 */
function runCommandString(args: readonly string[], buildArgs: readonly ArgDefinition[], state: StageState): string {
  const entries: string[] = [];
  const at = new Map<string, number>();
  for (const arg of buildArgs) {
    const value = getEnv(state.env, arg.key) ?? arg.value ?? '';
    const index = at.get(arg.key);
    if (index === undefined) {
      at.set(arg.key, entries.length);
      entries.push(`${arg.key}=${value}`);
    } else {
      entries[index] = `${arg.key}=${value}`;
    }
  }
  return [...(entries.length > 0 ? [`|${entries.length}`, ...entries] : []), ...args].join(' ');
}

/** The heredoc's first line, with `...` when it has more (BuildKit's summarizeHeredoc). */
function summarizeHeredoc(doc: string): string {
  const lines = doc.trim().replaceAll('\r\n', '\n').split('\n');
  return lines.length > 1 ? `${lines[0]}...` : (lines[0] ?? '');
}
