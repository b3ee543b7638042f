import { DockerfileError, UsageError } from '../errors/index.ts';
import type { ContainerConfig, ImageConfig } from '../image/index.ts';
import { createShellLexer, envFromPairs, type ShellLexer } from '../shell/index.ts';
import { parseDockerfile, type Instruction } from '../syntax/index.ts';
import { normalizeWorkdir } from './dispatch/workdir.ts';
import { splitEnvString } from './env-list.ts';
import { parsePortSpecs } from './port-specs.ts';

/** The instructions `docker import --change` and `docker commit --change` accept. */
const CHANGEABLE = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL']);

/**
 * Applies `--change` instructions (`CMD ["sh"]`, `ENV A=1`, …) to an image config, in order,
 * with the meaning BuildKit's dispatchers give them: shell-form CMD and ENTRYPOINT go
 * through the image's SHELL (default `/bin/sh -c`), ENTRYPOINT resets CMD unless a CMD came
 * after it, ENV replaces a variable in place, EXPOSE without a protocol means tcp and a range
 * means each port, WORKDIR is relative to the previous one. Arguments are expanded with the
 * config's environment as it stands.
 * @throws UsageError naming the change when it is not one instruction or not allowed.
 */
export function applyConfigChanges(config: ImageConfig, changes: readonly string[]): ImageConfig {
  let result = config;
  let cmdSet = false;
  for (const change of changes) {
    const { ast, diagnostics } = parseDockerfile(change, { file: '--change' });
    const error = diagnostics.find((d) => d.severity === 'error');
    if (error !== undefined) throw new UsageError(`--change ${JSON.stringify(change)}: ${error.message}`);
    const [instruction, extra] = ast.instructions;
    if (instruction === undefined || extra !== undefined) {
      throw new UsageError(`--change ${JSON.stringify(change)}: expected exactly one instruction`);
    }
    if (!CHANGEABLE.has(instruction.name)) {
      throw new UsageError(`--change ${JSON.stringify(change)}: ${instruction.name} cannot be changed here`, {
        hint: `allowed: ${[...CHANGEABLE].join(', ')}`,
      });
    }
    if (instruction.name === 'CMD') cmdSet = true;
    result = { ...result, config: applyOne(result.config ?? {}, instruction, ast.escape, cmdSet) };
  }
  return result;
}

function applyOne(c: ContainerConfig, i: Instruction, escape: '\\' | '`', cmdSet: boolean): ContainerConfig {
  const lexer = createShellLexer({ escape });
  const expand = (word: string): string => expandWord(lexer, word, c.Env ?? [], i);
  switch (i.name) {
    case 'CMD':
      return { ...c, Cmd: command(c, i) };
    case 'ENTRYPOINT':
      return { ...c, Entrypoint: command(c, i), ...(cmdSet ? {} : { Cmd: null }) };
    case 'ENV': {
      // Every word is expanded with the environment before the instruction, as BuildKit
      // expands a whole instruction before dispatching it: `ENV A=1 B=$A` sees the old A.
      let env = [...(c.Env ?? [])];
      for (let k = 0; k + 1 < i.args.length; k += 2) {
        const key = expand(i.args[k] ?? '');
        const value = expand(i.args[k + 1] ?? '');
        const at = env.findIndex((e) => e.split('=', 1)[0] === key);
        env = at < 0 ? [...env, `${key}=${value}`] : env.map((e, n) => (n === at ? `${key}=${value}` : e));
      }
      return { ...c, Env: env };
    }
    case 'LABEL': {
      const labels: Record<string, string> = { ...(c.Labels ?? {}) };
      for (let k = 0; k + 1 < i.args.length; k += 2) labels[expand(i.args[k] ?? '')] = expand(i.args[k + 1] ?? '');
      return { ...c, Labels: labels };
    }
    case 'EXPOSE': {
      const ports: Record<string, Record<string, never>> = { ...(c.ExposedPorts ?? {}) };
      for (const port of exposedPorts(i.args.flatMap((arg) => expandWords(lexer, arg, c.Env ?? [], i)), i)) ports[port] = {};
      return { ...c, ExposedPorts: ports };
    }
    case 'VOLUME': {
      const volumes: Record<string, Record<string, never>> = { ...(c.Volumes ?? {}) };
      for (const arg of i.args) {
        const v = expand(arg);
        if (v === '') throw new UsageError('VOLUME specified can not be an empty string');
        volumes[v] = {};
      }
      return { ...c, Volumes: volumes };
    }
    case 'USER':
      return { ...c, User: expand(i.args[0] ?? '') };
    case 'WORKDIR':
      return { ...c, WorkingDir: normalizeWorkdir(c.WorkingDir, expand(i.args[0] ?? '')) };
    case 'STOPSIGNAL':
      return { ...c, StopSignal: expand(i.args[0] ?? '') };
    case 'ONBUILD':
      return { ...c, OnBuild: [...(c.OnBuild ?? []), i.original.replace(/^\s*ONBUILD\s*/i, '')] };
    default:
      throw new UsageError(`${i.name} cannot be changed here`);
  }
}

function command(c: ContainerConfig, i: Instruction): readonly string[] {
  if (i.json) return i.args;
  const shell = c.Shell !== undefined && c.Shell.length > 0 ? c.Shell : ['/bin/sh', '-c'];
  return [...shell, i.args.join(' ')];
}

function expandWord(lexer: ShellLexer, word: string, env: readonly string[], i: Instruction): string {
  try {
    return lexer.processWord(word, envFromPairs(env.map(splitEnvString))).word;
  } catch (cause) {
    throw new DockerfileError(`${i.name}: ${(cause as Error).message}`, { cause });
  }
}

/** EXPOSE's words: each argument may expand to several ports. */
function expandWords(lexer: ShellLexer, word: string, env: readonly string[], i: Instruction): readonly string[] {
  try {
    return lexer.processWords(word, envFromPairs(env.map(splitEnvString)));
  } catch (cause) {
    throw new DockerfileError(`${i.name}: ${(cause as Error).message}`, { cause });
  }
}

/** Docker's port specs (`80`, `53/udp`, `8000-8002`) as BuildKit's EXPOSE reads them. */
function exposedPorts(specs: readonly string[], i: Instruction): string[] {
  try {
    return parsePortSpecs(specs);
  } catch (cause) {
    throw new UsageError(`${i.name}: ${(cause as Error).message}`, { cause });
  }
}
