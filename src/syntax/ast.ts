import type { SourceRange } from '../errors/index.ts';

/** The escape characters a Dockerfile may choose with `# escape=`. */
export type EscapeChar = '\\' | '`';

/** Every instruction name kiln knows, upper case, as the Dockerfile reference lists them. */
export const INSTRUCTION_NAMES = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
] as const;

export type InstructionName = (typeof INSTRUCTION_NAMES)[number];

/** A parser directive from the top of the file (`# syntax=…`, `# escape=…`, `# check=…`). */
export interface Directive {
  readonly kind: 'directive';
  /** Lower case: `syntax`, `escape` or `check`. */
  readonly name: string;
  readonly value: string;
  readonly range: SourceRange;
}

/** A here-document attached to a RUN, COPY or ADD (or an ONBUILD of one). */
export interface Heredoc {
  readonly kind: 'heredoc';
  /** The delimiter word with its quotes removed: `EOF` for `<<"EOF"`. */
  readonly name: string;
  /**
   * The body: every line between the instruction and the delimiter line, line endings
   * kept; for `<<-` leading tabs are already removed from each line.
   */
  readonly content: string;
  /** False when any part of the delimiter was quoted: the body is then taken literally. */
  readonly expand: boolean;
  /** True for `<<-`. */
  readonly chomp: boolean;
  /** The file descriptor for `3<<EOF`; 0 when none was written. */
  readonly fd: number;
  /** From the delimiter word in the instruction line through the terminating line. */
  readonly range: SourceRange;
}

/**
 * One instruction as BuildKit's parser sees it (frontend/dockerfile/parser): a name,
 * builder flags, and arguments split the way that instruction splits them. No meaning is
 * attached yet: flag names, argument counts and instruction order are the frontend's.
 */
export interface Instruction {
  readonly kind: 'instruction';
  /** Upper case, e.g. `RUN`. For an unknown instruction, its word upper-cased. */
  readonly name: string;
  /** The name as written (`run`, `Run`). */
  readonly keyword: string;
  /** Builder flags in order, quotes processed: `--mount=type=cache,target=/x`. */
  readonly flags: readonly string[];
  /**
   * The arguments, as BuildKit's node chain holds them: shell form → one string; exec form
   * → the array's elements; ENV/LABEL → [k1, v1, k2, v2…] with values raw; FROM, EXPOSE,
   * COPY/ADD shell form and plain VOLUME → whitespace-separated words; ARG → its words;
   * HEALTHCHECK → ['CMD', …] or ['NONE']; ONBUILD → the nested instruction's name, flags and
   * arguments.
   */
  readonly args: readonly string[];
  /** True for the exec (JSON array) form. */
  readonly json: boolean;
  /** For ENV and LABEL: the legacy `ENV key value` form (no `=`). */
  readonly legacyKeyValue: boolean;
  readonly heredocs: readonly Heredoc[];
  /** The nested instruction of an ONBUILD. */
  readonly trigger: Instruction | undefined;
  /** The instruction's text with continuation lines joined, as BuildKit's `Original`. */
  readonly original: string;
  /** Comment lines directly above the instruction, `#` and surrounding blanks removed. */
  readonly comments: readonly string[];
  /**
   * From the keyword to the end of the last line the instruction covers (continuations
   * and heredoc bodies included). Lines and columns are 1-based.
   */
  readonly range: SourceRange;
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  readonly kind: 'dockerfile';
  readonly file: string;
  readonly directives: readonly Directive[];
  readonly escape: EscapeChar;
  readonly instructions: readonly Instruction[];
}
