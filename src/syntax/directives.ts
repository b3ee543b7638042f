import type { EscapeChar } from './ast.ts';
import { skipSpace } from './whitespace.ts';

/** The directives BuildKit knows; a comment naming any other ends the directive block. */
const KNOWN = new Set(['syntax', 'escape', 'check']);

/**
 * The head of BuildKit's directive expression (DirectiveParser's
 * `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`), Go RE2 semantics: `\s` is [\t\n\f\r ] (no
 * \v). The value part is taken by {@link directiveValue}, not by the regular expression:
 * `(.+?)\s*$` backtracks in time quadratic in a run of blanks inside the value.
 */
const DIRECTIVE_NAME = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=/;

/** What {@link DirectiveScanner.scan} found on one line. */
export type DirectiveScan =
  | { readonly kind: 'none' }
  | { readonly kind: 'directive'; readonly name: string; readonly value: string; readonly column: number }
  | { readonly kind: 'duplicate'; readonly name: string }
  | { readonly kind: 'bad-escape'; readonly value: string };

/**
 * Recognises parser directives, with BuildKit's rules: they are comments of the form
 * `# name=value` at the very top; the block ends at the first line that is not one (an
 * instruction, a plain comment, an empty line, or a directive kiln does not know); names are
 * case-insensitive and each may appear once; `escape` takes only a backslash or a backtick.
 * One scanner serves one file, fed every line in order.
 */
export class DirectiveScanner {
  #done = false;
  readonly #seen = new Set<string>();

  /** True once the directive block has ended. */
  get done(): boolean {
    return this.#done;
  }

  /** Examines one line (line ending removed). */
  scan(line: string): DirectiveScan {
    if (this.#done) return { kind: 'none' };
    if (!line.startsWith('#')) {
      this.#done = true;
      return { kind: 'none' };
    }
    const start = skipSpace(line, 1);
    const match = DIRECTIVE_NAME.exec(line.slice(start));
    const name = match?.[1]?.toLowerCase();
    const value = match === null ? undefined : directiveValue(line.slice(start + match[0].length));
    if (name === undefined || value === undefined || !KNOWN.has(name)) {
      this.#done = true;
      return { kind: 'none' };
    }
    if (this.#seen.has(name)) return { kind: 'duplicate', name };
    this.#seen.add(name);
    if (name === 'escape' && !isEscapeChar(value)) return { kind: 'bad-escape', value };
    return { kind: 'directive', name, value, column: start + 1 };
  }
}

/**
 * What `\s*(.+?)\s*$` captures of `rest` (the text after `=`; a line holds no \n), in linear
 * time: `rest` without its leading and trailing blanks; when `rest` is nothing but blanks,
 * its last blank (the leading `\s*` gives one back so that `.+?` can match); and nothing
 * when `rest` is empty.
 */
function directiveValue(rest: string): string | undefined {
  let begin = 0;
  let end = rest.length;
  while (begin < end && isRegexpSpace(rest.charCodeAt(begin))) begin++;
  while (end > begin && isRegexpSpace(rest.charCodeAt(end - 1))) end--;
  if (begin < end) return rest.slice(begin, end);
  return rest === '' ? undefined : rest.slice(-1);
}

/** RE2's `\s`: tab, LF, FF, CR and space (not VT). */
function isRegexpSpace(ch: number): boolean {
  return ch === 0x20 || ch === 0x09 || ch === 0x0a || ch === 0x0c || ch === 0x0d;
}

export function isEscapeChar(value: string): value is EscapeChar {
  return value === '\\' || value === '`';
}
