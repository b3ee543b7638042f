import { compileShellPattern, type InvalidPattern } from './shell-pattern.ts';
import { isDigit, isLetter } from './unicode-class.ts';

const GREEDY_ANYWHERE = { greedy: true, anchored: false } as const;

/**
 * `${v/p/r}`: replaces the leftmost match of `pattern` (with `*` greedy) by `replacement`,
 * taken literally. An empty pattern matches at the start.
 */
export function replaceFirst(value: string, pattern: string, replacement: string): string | InvalidPattern {
  const matcher = compileShellPattern(pattern, GREEDY_ANYWHERE);
  if (!(matcher instanceof RegExp)) return matcher;
  matcher.lastIndex = 0;
  const match = matcher.exec(value);
  if (match === null) return value;
  return value.slice(0, match.index) + replacement + value.slice(match.index + match[0].length);
}

/**
 * `${v//p/r}`: replaces every match of `pattern`, scanning left to right as Go's
 * `Regexp.ReplaceAllString` does — which BuildKit uses, so its rules apply:
 *  - an empty match right after a previous match is not replaced (`*` over `abc` gives one
 *    replacement, where a global JavaScript `replace` gives two);
 *  - the replacement is a Go template: `$$` is `$`, `$0` or `${0}` is the matched text,
 *    any other `$name` or `${name}` is empty (patterns have no groups), and a `$` that
 *    starts no name is literal. {@link replaceFirst} has no such rule.
 */
export function replaceAll(value: string, pattern: string, replacement: string): string | InvalidPattern {
  const matcher = compileShellPattern(pattern, GREEDY_ANYWHERE);
  if (!(matcher instanceof RegExp)) return matcher;
  const literal = !replacement.includes('$');
  let out = '';
  let lastEnd = 0;
  let searchFrom = 0;
  while (searchFrom <= value.length) {
    matcher.lastIndex = searchFrom;
    const match = matcher.exec(value);
    if (match === null) break;
    const start = match.index;
    const end = start + match[0].length;
    out += value.slice(lastEnd, start);
    if (end > lastEnd || start === 0) out += literal ? replacement : expandTemplate(replacement, match[0]);
    lastEnd = end;
    // Always move forward by at least one character, as Go does after an empty match.
    const width = searchFrom < value.length ? codePointWidth(value, searchFrom) : 0;
    if (searchFrom + width > end) searchFrom += width;
    else if (searchFrom + 1 > end) searchFrom++;
    else searchFrom = end;
  }
  return out + value.slice(lastEnd);
}

function codePointWidth(text: string, index: number): number {
  return (text.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
}

// Go's regexp.Expand, reduced to what a group-less pattern can produce.
function expandTemplate(template: string, matched: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) return out + template.slice(i);
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template.charAt(i) === '$') {
      out += '$';
      i++;
      continue;
    }
    const ref = readTemplateName(template, i);
    if (ref === undefined) {
      out += '$';
      continue;
    }
    if (ref.name === '0') out += matched;
    i = ref.end;
  }
}

// The name after a `$` in a Go template: letters, digits and `_`, optionally in braces.
function readTemplateName(template: string, start: number): { name: string; end: number } | undefined {
  const braced = template.charAt(start) === '{';
  let i = braced ? start + 1 : start;
  const nameStart = i;
  while (i < template.length) {
    const cp = template.codePointAt(i) as number;
    if (cp !== 0x5f && !isLetter(cp) && !isDigit(cp)) break;
    i += cp > 0xffff ? 2 : 1;
  }
  if (i === nameStart) return undefined;
  const name = template.slice(nameStart, i);
  if (braced) {
    if (template.charAt(i) !== '}') return undefined;
    i++;
  }
  return { name, end: i };
}
