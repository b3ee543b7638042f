import { compileShellPattern, reverseCodePoints, reverseShellPattern, type InvalidPattern } from './shell-pattern.ts';

/**
 * `${v#p}` and `${v##p}`: removes the shortest (`longest` false) or longest prefix of
 * `value` that `pattern` matches; returns `value` unchanged when none does.
 */
export function removePrefix(value: string, pattern: string, longest: boolean): string | InvalidPattern {
  const matcher = compileShellPattern(pattern, { greedy: longest, anchored: true });
  if (!(matcher instanceof RegExp)) return matcher;
  const match = matcher.exec(value);
  return match === null ? value : value.slice(match[0].length);
}

/**
 * `${v%p}` and `${v%%p}`: removes the shortest or longest suffix of `value` that
 * `pattern` matches. Like BuildKit, it reverses the pattern and the value and removes a
 * prefix, since a regular expression finds the leftmost match, not the rightmost; this is
 * also why a pattern that ends in a lone backslash is accepted here but not by
 * {@link removePrefix}.
 */
export function removeSuffix(value: string, pattern: string, longest: boolean): string | InvalidPattern {
  const trimmed = removePrefix(reverseCodePoints(value), reverseShellPattern(pattern), longest);
  return typeof trimmed === 'string' ? reverseCodePoints(trimmed) : trimmed;
}
