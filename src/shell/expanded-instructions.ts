/**
 * How BuildKit expands one part of an instruction:
 *  - `word`: `ShellLexer.processWord` with the Dockerfile's escape character; one
 *    word in, one word out, spaces kept;
 *  - `words`: `ShellLexer.processWords`; the result is split into several words;
 *  - `heredoc-body`: `processWord` over the whole body with a lexer whose escape is a
 *    backslash whatever the `# escape=` directive says and which treats quotes as ordinary
 *    characters (`skipProcessQuotes`) — and only when the heredoc's delimiter is unquoted.
 */
export type PartExpansion = 'word' | 'words' | 'heredoc-body';

/** One expanded part of an instruction, named as the Dockerfile reference names it. */
export interface ExpandedPart {
  readonly part: string;
  readonly how: PartExpansion;
}

/** What BuildKit does with variables in one instruction. */
export interface InstructionExpansion {
  /**
   * The variables the expansion sees: `stage` is the stage's environment so far (its
   * ENV values and the ARGs declared in it); `global-args` is the ARGs declared before
   * the first FROM, with `--build-arg` overrides; `none` means nothing is expanded.
   */
  readonly scope: 'stage' | 'global-args' | 'none';
  /** The parts expanded, each as one word unless stated. */
  readonly expanded: readonly ExpandedPart[];
  /** The parts BuildKit takes literally (a `$` in them is passed on as written). */
  readonly literal: readonly string[];
  /** What the table alone does not say. */
  readonly note: string;
}

/** The names {@link EXPANDED_INSTRUCTIONS} covers: every Dockerfile instruction. */
export type ExpansionInstruction =
  | 'FROM'
  | 'RUN'
  | 'CMD'
  | 'LABEL'
  | 'MAINTAINER'
  | 'EXPOSE'
  | 'ENV'
  | 'ADD'
  | 'COPY'
  | 'ENTRYPOINT'
  | 'VOLUME'
  | 'USER'
  | 'WORKDIR'
  | 'ARG'
  | 'ONBUILD'
  | 'STOPSIGNAL'
  | 'HEALTHCHECK'
  | 'SHELL';

const word = (part: string): ExpandedPart => ({ part, how: 'word' });
const heredocBodies: ExpandedPart = { part: 'heredoc bodies', how: 'heredoc-body' };
const NOTHING = { scope: 'none', expanded: [] } as const;

/**
 * Which instructions BuildKit expands variables in, which parts, and with which
 * variables in scope — the contract the frontend's dispatchers follow so a Dockerfile
 * means in kiln what it means in `docker build`. Learnt from BuildKit's instruction types
 * (those with an Expand or ExpandRaw method) and its dispatcher, which calls them for
 * every instruction except ARG (whose default it expands itself) and expands FROM and
 * EXPOSE on its own. An instruction not expanded here may still meet a shell later: the
 * shell form of RUN, CMD and ENTRYPOINT is run by `/bin/sh -c`, which expands variables
 * when the container runs, not at build time.
 */
export const EXPANDED_INSTRUCTIONS: Readonly<Record<ExpansionInstruction, InstructionExpansion>> = Object.freeze({
  FROM: {
    scope: 'global-args',
    expanded: [word('image'), word('--platform')],
    literal: ['AS name'],
    note: 'An image or platform that expands to the empty string is an error.',
  },
  RUN: {
    scope: 'stage',
    expanded: [word('--mount field values')],
    literal: ['command', 'heredoc bodies', '--network', '--security', '--device'],
    note:
      'The shell form goes to the shell unexpanded and the exec form is never expanded. ' +
      'Each key=value field of --mount has its value expanded after the CSV split; a ' +
      'variable in from= is rejected before that.',
  },
  CMD: { ...NOTHING, literal: ['command'], note: 'The shell form is expanded by the shell when the container starts.' },
  LABEL: {
    scope: 'stage',
    expanded: [word('key'), word('value')],
    literal: [],
    note: 'Labels given on the command line (--label) are not expanded.',
  },
  MAINTAINER: { ...NOTHING, literal: ['name'], note: 'Deprecated; recorded as written.' },
  EXPOSE: {
    scope: 'stage',
    expanded: [{ part: 'ports', how: 'words' }],
    literal: [],
    note: 'Each argument may expand to several ports, e.g. EXPOSE $PORTS.',
  },
  ENV: { scope: 'stage', expanded: [word('key'), word('value')], literal: [], note: 'Each pair sees the pairs before it.' },
  ADD: {
    scope: 'stage',
    expanded: [word('sources'), word('dest'), word('--chown'), word('--chmod'), word('--checksum'), heredocBodies],
    literal: ['--exclude', '--keep-git-dir', '--unpack', '--link'],
    note: 'Each source is one word: a source that expands to several paths is still one path.',
  },
  COPY: {
    scope: 'stage',
    expanded: [word('sources'), word('dest'), word('--chown'), word('--chmod'), heredocBodies],
    literal: ['--from', '--exclude', '--parents', '--link'],
    note: 'A --from that would change when expanded is an error: variables there are refused, not ignored.',
  },
  ENTRYPOINT: {
    ...NOTHING,
    literal: ['command'],
    note: 'The shell form is expanded by the shell when the container starts.',
  },
  VOLUME: { scope: 'stage', expanded: [word('paths')], literal: [], note: 'Each path, JSON form or not, is one word.' },
  USER: { scope: 'stage', expanded: [word('user')], literal: [], note: 'user[:group] is one word.' },
  WORKDIR: { scope: 'stage', expanded: [word('path')], literal: [], note: '' },
  ARG: {
    scope: 'stage',
    expanded: [word('default value')],
    literal: ['name', '--build-arg values'],
    note:
      'In a stage the default sees the stage so far; before the first FROM it sees the ' +
      'global ARGs declared before it. A value given with --build-arg replaces the ' +
      'default and is not expanded.',
  },
  ONBUILD: {
    ...NOTHING,
    literal: ['trigger'],
    note: 'The trigger is stored as written and expanded as its own instruction in the build that uses the image.',
  },
  STOPSIGNAL: { scope: 'stage', expanded: [word('signal')], literal: [], note: '' },
  HEALTHCHECK: {
    ...NOTHING,
    literal: ['options', 'command'],
    note: 'The shell form is expanded by the shell at each check.',
  },
  SHELL: { ...NOTHING, literal: ['shell'], note: '' },
} satisfies Record<ExpansionInstruction, InstructionExpansion>);
