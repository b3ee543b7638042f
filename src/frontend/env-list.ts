import { envFromPairs, type ShellEnv } from '../shell/index.ts';

/** `[name, value]` pairs in order: a stage's environment while it is compiled. */
export type EnvPairs = readonly (readonly [string, string])[];

/**
 * Sets `name` in a stage's running environment as BuildKit's LLB state does (AddEnv on an
 * EnvList): a name set again moves to the end, so a RUN sees the variables in the order they
 * were last set. The image config's Env keeps its order instead ({@link setConfigEnv}).
 */
export function setEnv(env: EnvPairs, name: string, value: string): EnvPairs {
  return [...env.filter(([key]) => key !== name), [name, value]];
}

/** The value of `name`, or undefined. */
export function getEnv(env: EnvPairs, name: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) {
    const pair = env[i];
    if (pair !== undefined && pair[0] === name) return pair[1];
  }
  return undefined;
}

/** The pairs as `NAME=value` strings. */
export function envStrings(env: EnvPairs): string[] {
  return env.map(([key, value]) => `${key}=${value}`);
}

/** The pairs as the shell lexer's variable lookup. */
export function shellEnv(env: EnvPairs): ShellEnv {
  return envFromPairs(env);
}

/** `NAME=value` split at the first `=` (a string without one is a name with an empty value). */
export function splitEnvString(entry: string): readonly [string, string] {
  const eq = entry.indexOf('=');
  return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
}

/**
 * Sets `name` in an image config's Env as BuildKit's dispatcher does (addEnv): in place when
 * present, appended otherwise.
 */
export function setConfigEnv(env: readonly string[], name: string, value: string): string[] {
  const entry = `${name}=${value}`;
  const at = env.findIndex((e) => splitEnvString(e)[0] === name);
  return at < 0 ? [...env, entry] : env.map((e, i) => (i === at ? entry : e));
}
