import { skipSpace } from './whitespace.ts';

/** What the arguments of a RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME or HEALTHCHECK are. */
export type ExecForm =
  /** Not a JSON array: the caller falls back to the shell (or word) form. */
  | { readonly kind: 'not-json' }
  /** A JSON array of strings: the exec form. */
  | { readonly kind: 'exec'; readonly elements: readonly string[] }
  /** A JSON array holding something else than a string: an error. */
  | { readonly kind: 'non-string'; readonly offset: number; readonly found: string };

/** Go's encoding/json refuses deeper nesting as a syntax error (scanner.go, maxNestingDepth). */
const MAX_NESTING = 10_000;

/**
 * Decides the exec form as BuildKit does (parser.parseJSON with Go's encoding/json): text
 * that, after leading whitespace, starts with `[` and is one valid JSON array is the exec
 * form when every element is a string, and an error otherwise; anything else, including
 * invalid JSON, is not JSON at all. Two quirks of Go's decoder are kept on purpose, since
 * BuildKit falls back to the shell form on any decoding error but the not-a-string one: a
 * number too large for a float64 is a type error there (so `CMD [1e999]` runs
 * `/bin/sh -c '[1e999]'`), and nesting deeper than 10,000 is a syntax error.
 */
export function parseExecForm(text: string): ExecForm {
  const start = skipSpace(text);
  if (text.charCodeAt(start) !== 0x5b /* [ */) return { kind: 'not-json' };
  const json = text.slice(start);
  /*
   * ECMAScript's JSON.parse accepts exactly RFC 8259 JSON (ECMA-262 §25.5.1): the language of
   * Go's encoding/json, and the one grammar/'s exec-form grammar describes. It is used here
   * instead of that Chevrotain parser because it is native and does not recurse: loading and
   * building the parser cost a `kiln parse` some 30 ms of start-up (bench/parse), and the
   * parser overflowed the stack on arrays nested a few hundred deep. Text starting with `[`
   * parses to an array or not at all.
   */
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { kind: 'not-json' };
  }
  const elements = value as readonly unknown[];
  // Go decodes every number, even one a duplicate key later replaces; JSON.parse's value
  // keeps only the last, so overflow is looked for in the text.
  if (overflowsFloat64(json)) return { kind: 'not-json' };
  if (elements.every((e) => typeof e === 'string')) {
    return { kind: 'exec', elements: (elements as readonly string[]).map(wellFormed) };
  }
  if (!decodesInGo(elements)) return { kind: 'not-json' };
  const index = elements.findIndex((e) => typeof e !== 'string');
  const offset = elementOffset(json, index);
  return { kind: 'non-string', offset: start + offset, found: describe(elements[index], json, offset) };
}

/**
 * Whether Go's json.Unmarshal into []interface{} succeeds: no nesting deeper than its limit,
 * no number that overflows a float64 (JSON.parse makes those infinite). Walked with a stack
 * of its own, since the value may be nested ten thousand deep.
 */
function decodesInGo(array: readonly unknown[]): boolean {
  const pending: { readonly value: unknown; readonly depth: number }[] = [{ value: array, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth } = next;
    if (typeof value === 'number' && !Number.isFinite(value)) return false;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_NESTING) return false;
    for (const child of Object.values(value)) pending.push({ value: child, depth: depth + 1 });
  }
  return true;
}

/** Whether a number written in `json` (valid JSON) is too large for a float64. */
function overflowsFloat64(json: string): boolean {
  if (!/[eE]|\d{309}/.test(json)) return false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; json.charCodeAt(i) !== 0x22; i++) if (json.charCodeAt(i) === 0x5c /* backslash */) i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const number = NUMBER.exec(json)?.[0] ?? '';
      if (!Number.isFinite(Number(number))) return true;
      i += Math.max(number.length - 1, 0);
    }
  }
  return false;
}

/**
 * Go's decoder turns an escaped lone surrogate (`"\ud800"`) into U+FFFD; JSON.parse keeps
 * it. Strings from a Dockerfile decoded as UTF-8 hold no other lone surrogates.
 */
function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** Where the `index`th element of `json`, a valid JSON array, starts. */
function elementOffset(json: string, index: number): number {
  let depth = 0;
  let element = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (depth === 1 && c === 0x2c /* , */) {
      element++;
      continue;
    }
    if (depth === 1 && element === index) return i;
    if (c === 0x22 /* " */) {
      // To the closing quote; the text is valid JSON, so there is one.
      for (i++; json.charCodeAt(i) !== 0x22; i++) if (json.charCodeAt(i) === 0x5c /* backslash */) i++;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth++;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return 0;
}

/** RFC 8259 §6, sticky: the number as written at an offset. */
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** What the element that is not a string is, for the diagnostic: `the number 1.0`, `an object`. */
function describe(value: unknown, json: string, offset: number): string {
  if (typeof value === 'number') {
    NUMBER.lastIndex = offset;
    return `the number ${NUMBER.exec(json)?.[0] ?? String(value)}`;
  }
  if (typeof value === 'boolean') return `the boolean ${String(value)}`;
  if (value === null) return 'null';
  return Array.isArray(value) ? 'a nested array' : 'an object';
}
