import type { EscapeChar } from './ast.ts';
import { skipSpace } from './whitespace.ts';

/** The directives BuildKit knows; a comment naming any other ends the directive block. */
const KNOWN = new Set(['syntax', 'escape', 'check']);

/**
 * `name = value`, Go RE2 semantics: `\s` is [\t\n\f\r ] (no \v), and `.` stops at \n.
 * BuildKit's DirectiveParser uses the same expression.
 */
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+?)[\t\n\f\r ]*$/;

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
    const match = DIRECTIVE.exec(line.slice(start));
    const name = match?.[1]?.toLowerCase();
    const value = match?.[2];
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

export function isEscapeChar(value: string): value is EscapeChar {
  return value === '\\' || value === '`';
}
