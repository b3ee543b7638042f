import { InputError, type SourceRange } from '../errors/index.ts';
import { cleanPath } from './clean-path.ts';
import { compilePattern } from './pattern.ts';
import { leadingSpaceLength, trimSpace } from './trim-space.ts';

/** One pattern line of an ignore file. */
export interface IgnoreRule {
  /** The pattern as patternmatcher's `ignorefile.ReadAll` returns it, e.g. `!src/keep.ts`. */
  readonly pattern: string;
  /** Where the pattern is written: the line without its surrounding white space. */
  readonly range: SourceRange;
}

/** A parsed ignore file: where it came from and its patterns in order. */
export interface IgnoreFile {
  /** The path it was read from (or the name the caller gave). */
  readonly path: string;
  readonly rules: readonly IgnoreRule[];
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Reads the patterns of an ignore file with the rules of patternmatcher's
 * `ignorefile.ReadAll`, without checking them (see {@link parseIgnoreFile}):
 *
 * - a UTF-8 byte-order mark opening the file is dropped; lines end at `\n`, and one `\r`
 *   before it is dropped;
 * - a line whose first character is `#` is a comment (an indented `#` is not: it is a
 *   pattern);
 * - other lines are trimmed (Go's white space), and blank ones skipped;
 * - a leading `!` marks an exception, and space after it is trimmed too;
 * - the rest is cleaned as a path (`a//b/../c` is `a/c`, a trailing `/` goes) and one
 *   leading `/` is dropped, so `/a` means `a`.
 */
export function readIgnorePatterns(content: string | Uint8Array): IgnoreRule[] {
  const text = typeof content === 'string' ? content.replace(/^\uFEFF/, '') : decodeUtf8(content);
  const lines = text.split('\n');
  // A final newline ends the last line rather than starting an empty one.
  if (lines[lines.length - 1] === '') lines.pop();
  const rules: IgnoreRule[] = [];
  lines.forEach((written, index) => {
    const line = written.endsWith('\r') ? written.slice(0, -1) : written;
    if (line.startsWith('#')) return;
    let pattern = trimSpace(line);
    if (pattern === '') return;
    const start = leadingSpaceLength(line);
    const range: SourceRange = {
      start: { line: index + 1, column: start + 1 },
      end: { line: index + 1, column: start + pattern.length + 1 },
    };
    const invert = pattern.startsWith('!');
    if (invert) pattern = trimSpace(pattern.slice(1));
    if (pattern !== '') {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    rules.push({ pattern: invert ? `!${pattern}` : pattern, range });
  });
  return rules;
}

/**
 * Reads an ignore file as {@link readIgnorePatterns} does and compiles every pattern, so
 * that a bad one (a lone `!`, an unclosed `[`, …) throws {@link InputError} naming `path`
 * and the line. patternmatcher's `ReadAll` leaves those errors to the matcher, where they
 * lose the line.
 */
export function parseIgnoreFile(content: string | Uint8Array, path: string): IgnoreFile {
  const rules = readIgnorePatterns(content);
  for (const rule of rules) {
    try {
      compilePattern(rule.pattern);
    } catch (cause) {
      if (!(cause instanceof InputError)) throw cause;
      throw new InputError(`${path}:${rule.range.start.line}: ${cause.message}`, {
        cause,
        file: path,
        range: rule.range,
        hint: cause.hint,
      });
    }
  }
  return { path, rules };
}

function decodeUtf8(bytes: Uint8Array): string {
  const marked = UTF8_BOM.every((byte, index) => bytes[index] === byte);
  // ignoreBOM keeps a second mark, which Go would keep too, as part of the first pattern.
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(marked ? bytes.subarray(UTF8_BOM.length) : bytes);
}
