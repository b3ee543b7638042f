import type { ShellLexer } from '../shell/index.ts';
import type { ArgCommand } from './instructions/command.ts';
import { setEnv, shellEnv, type EnvPairs } from './env-list.ts';
import { fail } from './located.ts';
import { formatPlatform, type TargetPlatform } from './platform.ts';

/**
 * The proxy variables a RUN gets from `--build-arg` without an ARG declaring them (BuildKit's
 * ProxyEnv), in the order BuildKit appends them; never in the image config or history.
 */
export const PROXY_ARGS = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
] as const;

/** The automatic platform ARGs BuildKit defines in the global scope. */
export const PLATFORM_ARGS = [
  'BUILDPLATFORM', 'BUILDOS', 'BUILDOSVERSION', 'BUILDARCH', 'BUILDVARIANT',
  'TARGETPLATFORM', 'TARGETOS', 'TARGETOSVERSION', 'TARGETARCH', 'TARGETVARIANT', 'TARGETSTAGE',
] as const;

/**
 * The global scope before any ARG (BuildKit's defaultArgs): the build and target platform
 * (the same, for now) and the target stage's name, each overridable with `--build-arg`.
 */
export function defaultArgs(platform: TargetPlatform, buildArgs: ReadonlyMap<string, string>, target: string | undefined): EnvPairs {
  const values: [string, string][] = [
    ['BUILDPLATFORM', formatPlatform(platform)],
    ['BUILDOS', platform.os],
    ['BUILDOSVERSION', ''],
    ['BUILDARCH', platform.architecture],
    ['BUILDVARIANT', platform.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(platform)],
    ['TARGETOS', platform.os],
    ['TARGETOSVERSION', ''],
    ['TARGETARCH', platform.architecture],
    ['TARGETVARIANT', platform.variant ?? ''],
    ['TARGETSTAGE', target === undefined || target === '' ? 'default' : target],
  ];
  return values.map(([key, value]) => [key, buildArgs.get(key) ?? value] as const);
}

/**
 * Adds the ARGs declared before the first FROM to the global scope (BuildKit's
 * buildMetaArgs): a `--build-arg` value wins and is taken as it is; otherwise a default is
 * expanded with the global scope so far; an ARG with neither stays unset.
 * @throws DockerfileError at the ARG when a default does not expand.
 */
export function globalArgs(
  defaults: EnvPairs,
  metaArgs: readonly ArgCommand[],
  buildArgs: ReadonlyMap<string, string>,
  lexer: ShellLexer,
  file: string,
): EnvPairs {
  let scope = defaults;
  for (const command of metaArgs) {
    for (const arg of command.args) {
      let value = buildArgs.get(arg.key);
      if (value === undefined && arg.value !== undefined) {
        try {
          value = lexer.processWord(arg.value, shellEnv(scope)).word;
        } catch (error) {
          fail({ file, range: command.range }, `ARG: ${(error as Error).message}`, undefined, error);
        }
      }
      if (value !== undefined) scope = setEnv(scope, arg.key, value);
    }
  }
  return scope;
}

/**
 * The proxy variables a RUN gets from the build args (BuildKit's proxyEnvFromBuildArgs and
 * the executor's proxyEnvList): each of http, https, ftp, no and all proxy given in either
 * case becomes both the upper and lower case variable; empty values are left out.
 */
export function proxyEnv(buildArgs: ReadonlyMap<string, string>): string[] {
  const found = new Map<string, string>();
  for (const key of [...buildArgs.keys()].sort()) {
    const lower = key.toLowerCase();
    if (['http_proxy', 'https_proxy', 'ftp_proxy', 'no_proxy', 'all_proxy'].includes(lower)) found.set(lower, buildArgs.get(key) ?? '');
  }
  const env: string[] = [];
  for (const lower of ['http_proxy', 'https_proxy', 'ftp_proxy', 'no_proxy', 'all_proxy']) {
    const value = found.get(lower);
    if (value !== undefined && value !== '') env.push(`${lower.toUpperCase()}=${value}`, `${lower}=${value}`);
  }
  return env;
}

/**
 * The build args no ARG of the build declared, sorted: what the unused-build-args warning
 * lists. The predefined ones (proxies, platform, SOURCE_DATE_EPOCH, BUILDKIT_*) never count.
 */
export function unusedBuildArgs(buildArgs: ReadonlyMap<string, string>, declared: ReadonlySet<string>): string[] {
  const predefined = new Set<string>([...PROXY_ARGS, ...PLATFORM_ARGS, 'SOURCE_DATE_EPOCH']);
  return [...buildArgs.keys()].filter((k) => !declared.has(k) && !predefined.has(k) && !k.startsWith('BUILDKIT_')).sort();
}
