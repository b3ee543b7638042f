import { fail } from '../located.ts';
import type { AddCommand, CopyCommand, SourceContent, SourcesAndDest } from './command.ts';
import { heredocName } from './heredoc-word.ts';
import { commandBase, instructionFlags, type InstructionInput } from './instruction-input.ts';

/** `COPY [--from=…] [--chown=…] [--chmod=…] [--link] [--parents] [--exclude=…]… src… dest`. */
export function parseCopy(input: InstructionInput): CopyCommand {
  const flags = instructionFlags(input, {
    chown: 'string',
    from: 'string',
    chmod: 'string',
    link: 'bool',
    exclude: 'strings',
    parents: 'bool',
  });
  return {
    kind: 'copy',
    ...commandBase(input),
    ...sourcesAndDest(input, flags.string('chown'), flags.string('chmod'), flags.bool('link'), flags.strings('exclude')),
    // BuildKit reads an empty --from as none: the build context.
    from: flags.string('from') === '' ? undefined : flags.string('from'),
    parents: flags.bool('parents'),
  };
}

/**
 * `ADD [--chown=…] [--chmod=…] [--link] [--checksum=…] [--unpack] [--exclude=…]… src… dest`.
 * `--keep-git-dir` is refused: kiln does not fetch Git sources yet.
 */
export function parseAdd(input: InstructionInput): AddCommand {
  const flags = instructionFlags(input, {
    chown: 'string',
    chmod: 'string',
    link: 'bool',
    'keep-git-dir': 'bool',
    checksum: 'string',
    unpack: 'bool',
    exclude: 'strings',
  });
  if (flags.has('keep-git-dir')) {
    // TODO(#6): Git sources for ADD, and with them --keep-git-dir.
    fail(input.where, 'ADD --keep-git-dir is not supported: kiln cannot add Git repositories yet', 'clone the repository in a RUN step instead');
  }
  return {
    kind: 'add',
    ...commandBase(input),
    ...sourcesAndDest(input, flags.string('chown'), flags.string('chmod'), flags.bool('link'), flags.strings('exclude')),
    checksum: flags.string('checksum'),
    unpack: flags.has('unpack') ? flags.bool('unpack') : undefined,
  };
}

/** BuildKit's parseSourcesAndDest: the last argument is the destination; heredoc words are contents. */
function sourcesAndDest(
  input: InstructionInput,
  chown: string | undefined,
  chmod: string | undefined,
  link: boolean,
  excludes: readonly string[],
): SourcesAndDest {
  const { name, args, heredocs } = input.instruction;
  if (args.length < 2) {
    fail(input.where, `${name} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
  const dest = args[args.length - 1] ?? '';
  if (heredocName(dest) !== undefined) fail(input.where, `${name} cannot accept a heredoc as a destination`);
  const sources: string[] = [];
  const contents: SourceContent[] = [];
  for (const source of args.slice(0, -1)) {
    const heredoc = input.instruction.json ? undefined : heredocName(source);
    if (heredoc === undefined) {
      sources.push(source);
      continue;
    }
    const body = heredocs.findLast((h) => h.name === heredoc);
    contents.push({ path: heredoc, data: body?.content ?? '', expand: body?.expand ?? true });
  }
  return { sources, contents, dest, chown, chmod, link, excludes };
}
