import { DockerfileError } from '../errors/index.ts';
import type { ShellLexerOptions } from './lexer.ts';
import type { ShellEnv } from './shell-env.ts';
import { isDigit, isLetter } from './unicode-class.ts';

/** What {@link peek} returns at the end of the word; also "no closing character". */
export const END = -1;

/**
 * The state of one expansion: the word, a cursor into it (in UTF-16 units, always on a
 * code point boundary), and the variables looked up so far. Made per call, so a lexer
 * keeps no state between words.
 */
export interface Scan {
  readonly src: string;
  pos: number;
  readonly env: ShellEnv;
  readonly options: Required<ShellLexerOptions>;
  /** The escape character's code. */
  readonly escape: number;
  matched: Set<string> | undefined;
  unmatched: Set<string> | undefined;
}

/** Starts a scan of `src` at its first character. */
export function startScan(src: string, env: ShellEnv, options: Required<ShellLexerOptions>): Scan {
  return {
    src,
    // BuildKit reads words with Go's text/scanner, which skips a leading byte-order mark.
    pos: src.charCodeAt(0) === 0xfeff ? 1 : 0,
    env,
    options,
    escape: options.escape.charCodeAt(0),
    matched: undefined,
    unmatched: undefined,
  };
}

/** The code point at the cursor, or {@link END}. */
export function peek(scan: Scan): number {
  return scan.pos < scan.src.length ? (scan.src.codePointAt(scan.pos) as number) : END;
}

/** Moves the cursor past `codePoint`, which {@link peek} just returned. */
export function advance(scan: Scan, codePoint: number): void {
  scan.pos += codePoint > 0xffff ? 2 : 1;
}

/** An error about the word being scanned; the message quotes it (shortened when long). */
export function fail(scan: Scan, detail: string, hint?: string): DockerfileError {
  const shown = scan.src.length > 120 ? `${scan.src.slice(0, 117)}...` : scan.src;
  return new DockerfileError(`failed to expand ${JSON.stringify(shown)}: ${detail}`, hint === undefined ? {} : { hint });
}

/** Looks `name` up, records it in `matched` or `unmatched`, and returns its value. */
export function lookup(scan: Scan, name: string): string | undefined {
  const value = scan.env.get(name);
  if (value !== undefined) (scan.matched ??= new Set()).add(name);
  else (scan.unmatched ??= new Set()).add(name);
  return value;
}

/**
 * Reads a variable name after `$` or `${`: a run of digits (positional parameters, never
 * set in a Dockerfile), one special parameter character (`@ * # ? - $ !`), or letters,
 * digits and `_` in any script. Returns '' when no name starts at the cursor.
 */
export function readName(scan: Scan): string {
  const start = scan.pos;
  const first = peek(scan);
  if (first === END) return '';
  if (isDigit(first)) {
    for (let c = first; c !== END && isDigit(c); c = peek(scan)) advance(scan, c);
    return scan.src.slice(start, scan.pos);
  }
  if (SPECIAL_PARAMETERS.includes(String.fromCodePoint(first))) {
    scan.pos++;
    return String.fromCharCode(first);
  }
  for (let c = first; c !== END && (isLetter(c) || isDigit(c) || c === 0x5f); c = peek(scan)) advance(scan, c);
  return scan.src.slice(start, scan.pos);
}

// POSIX special parameters (XCU 2.5.2); `0` is one too but is read as a digit run first.
const SPECIAL_PARAMETERS = '@*#?-$!';
