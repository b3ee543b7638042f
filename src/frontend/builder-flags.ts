import { fail, type Located } from './located.ts';
import { didYouMean } from './suggest.ts';

/** How a builder flag takes its value (BuildKit's BFlags types). */
export type FlagKind = 'bool' | 'string' | 'strings';

/** The flags an instruction accepts, by name without the dashes. */
export type FlagSpec = Readonly<Record<string, FlagKind>>;

/** The flags of one instruction after {@link parseBuilderFlags}. */
export interface BuilderFlags {
  /** A bool flag: `--link` and `--link=true` are true; absent is false. */
  bool(name: string): boolean;
  /** A string flag's value, or undefined when it was not given. */
  string(name: string): string | undefined;
  /** Every value of a repeatable flag, in order. */
  strings(name: string): readonly string[];
  /** Whether the flag was given at all. */
  has(name: string): boolean;
}

/**
 * Checks an instruction's `--flag[=value]` words against what it accepts, with BuildKit's
 * rules and messages (instructions/bflag.go): unknown flags, a flag given twice (but for
 * repeatable ones), a string flag without `=value`, a bool flag with a value other than
 * true/false.
 * @param where the instruction, for the error.
 * @param name the instruction's name, which starts each message.
 * @throws DockerfileError naming the flag.
 */
export function parseBuilderFlags(where: Located, name: string, words: readonly string[], spec: FlagSpec): BuilderFlags {
  const bools = new Map<string, boolean>();
  const strings = new Map<string, string>();
  const lists = new Map<string, string[]>();
  for (const word of words) {
    if (!word.startsWith('--')) fail(where, `${name}: arg should start with -- : ${word}`);
    const eq = word.indexOf('=');
    const flag = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? undefined : word.slice(eq + 1);
    const key = flag.slice(2);
    const kind = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (kind === undefined) {
      const names = Object.keys(spec);
      const hint =
        names.length === 0
          ? `${name} takes no flags`
          : (didYouMean(key, names, false) ?? `${name} accepts ${names.map((n) => `--${n}`).join(', ')}`);
      fail(where, `${name}: unknown flag: ${flag}`, hint);
    }
    if (kind !== 'strings' && (bools.has(key) || strings.has(key))) fail(where, `${name}: duplicate flag specified: ${flag}`);
    switch (kind) {
      case 'bool': {
        if (value === '') fail(where, `${name}: missing a value on flag: ${flag}`);
        const lower = value?.toLowerCase();
        if (lower === undefined || lower === 'true') bools.set(key, true);
        else if (lower === 'false') bools.set(key, false);
        else fail(where, `${name}: expecting boolean value for flag ${flag}, not: ${value}`);
        break;
      }
      case 'string':
        if (value === undefined) fail(where, `${name}: missing a value on flag: ${flag}`);
        strings.set(key, value);
        break;
      case 'strings': {
        if (value === undefined) fail(where, `${name}: missing a value on flag: ${flag}`);
        const list = lists.get(key) ?? [];
        list.push(value);
        lists.set(key, list);
        break;
      }
    }
  }
  return {
    bool: (flag) => bools.get(flag) ?? false,
    string: (flag) => strings.get(flag),
    strings: (flag) => lists.get(flag) ?? [],
    has: (flag) => bools.has(flag) || strings.has(flag) || lists.has(flag),
  };
}
