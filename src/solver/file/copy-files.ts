import { lstatSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { type CopySelection, selectSources, type SelectedSource, type SourceMatch, SourceTree } from '../../cache/index.ts';
import { cleanPath } from '../../context/index.ts';
import { InputError, UsageError } from '../../errors/index.ts';
import { resolveInRoot } from '../../image/apply/index.ts';
import { copyMatch, type CopyTarget } from './copy-match.ts';
import { type ModeChange, parseChmod } from './file-mode-change.ts';
import { makeDirectories, type Owner } from './make-directories.ts';
import { isArchive, unpackArchive } from './unpack-archive.ts';

/** One COPY or ADD of local files (a `CopyAction`), with its owner resolved. */
export interface CopyRequest extends CopySelection {
  /** A real directory showing the step's root file system, writable: the container's `/`. */
  readonly destRoot: string;
  /** Absolute in the container; a trailing `/` means a directory. */
  readonly dest: string;
  /** `--chown`, resolved ({@link resolveChown}); without it: 0:0 from the context, the source's owners from a stage. */
  readonly owner?: Owner;
  /** `--chmod`: octal (`0755`) or symbolic (`u+x,g-w`). */
  readonly chmod?: string;
  /** ADD: a source that is a tar archive (plain or compressed, by content) is extracted into `dest`. */
  readonly unpack: boolean;
  readonly signal?: AbortSignal;
}

interface Planned {
  readonly source: SelectedSource;
  readonly match: SourceMatch;
  readonly archive: boolean;
}

/**
 * Runs a COPY (or ADD of local files) as BuildKit's file op does (solver/llbsolver/file
 * docopy with fsutil's copy): every source is selected as {@link selectSources} says (the
 * same code hashes it for the cache key, so what is copied is what was hashed), then each
 * selected path is copied by copyMatch's rules, or, for ADD, extracted when it is an archive.
 *
 * Several sources (after wildcard expansion) that would write a file at `dest` itself need
 * a directory there: `dest` ending in `/`, or an existing directory (the classic builder's
 * rule; BuildKit would let the last one win). A wildcard matching nothing copies nothing.
 *
 * Writes only below `destRoot` and reads only below `source.dir`. A failed copy leaves the
 * destination partly written; the caller (an overlay upper directory) discards it.
 *
 * @throws UsageError for a bad `--chmod` or the rule above; NotFoundError naming a missing
 * or ignored source; ConflictError when the destination has a file where a directory goes
 * (or the reverse); InputError for a hostile archive; the abort reason when `signal` aborts
 */
export async function copyFiles(request: CopyRequest): Promise<void> {
  const signal = request.signal;
  signal?.throwIfAborted();
  const mode = request.chmod === undefined ? undefined : parseChmod(request.chmod);
  const tree = await SourceTree.open(request.source);
  try {
    await copyTree(tree, request, mode);
  } finally {
    tree.close();
  }
}

async function copyTree(tree: SourceTree, request: CopyRequest, mode: ModeChange | undefined): Promise<void> {
  const signal = request.signal;
  const destRoot = await realpath(request.destRoot).catch((cause: NodeJS.ErrnoException) => {
    throw new InputError(`copy destination root ${request.destRoot}: ${cause.code ?? cause.message}`, { cause });
  });
  const dest = cleanDestination(request.dest);
  const selection = selectSources(tree, request);
  const plan: Planned[] = [];
  for (const source of selection.sources) {
    for (const match of source.matches) {
      const archive = request.unpack && match.stats.isFile() && (await isArchive(tree.abs(match.real), signal));
      plan.push({ source, match, archive });
    }
  }
  await checkSeveralSources(plan, destRoot, dest, request.dest);
  const target: CopyTarget = {
    tree,
    destRoot,
    dest,
    owner: request.owner,
    mode,
    exclude: selection.exclude,
    signal,
  };
  for (const { source, match, archive } of plan) {
    signal?.throwIfAborted();
    if (!archive) {
      await copyMatch(target, source, match);
      continue;
    }
    // BuildKit's unpack: the destination is a directory, whatever its trailing slash says.
    const destDir = await resolveInRoot(destRoot, dest);
    makeDirectories(destRoot, destDir, 0o755, request.owner);
    await unpackArchive(tree.abs(match.real), destDir, request.owner, `ADD archive ${JSON.stringify(source.spec)}`, signal);
  }
}

/**
 * BuildKit's cleanPath for a copy destination: joined to `/` and cleaned, keeping a
 * trailing `/` (a directory) or `/.`.
 */
function cleanDestination(dest: string): string {
  const clean = cleanPath(`/${dest}`);
  if (dest.endsWith('/.')) return clean === '/' ? '/.' : `${clean}/.`;
  if (dest.endsWith('/') && clean !== '/') return `${clean}/`;
  return clean;
}

async function checkSeveralSources(plan: readonly Planned[], destRoot: string, dest: string, written: string): Promise<void> {
  if (plan.length < 2 || dest.endsWith('/') || dest.endsWith('/.')) return;
  const files = plan.filter((planned) => !planned.archive && !planned.match.stats.isDirectory());
  if (files.length === 0) return;
  if (lstatSync(await resolveInRoot(destRoot, dest), { throwIfNoEntry: false })?.isDirectory() === true) return;
  const names = plan.slice(0, 5).map((planned) => planned.match.path || '.');
  const more = plan.length > names.length ? `, … (${plan.length} in all)` : '';
  throw new UsageError(
    `When using COPY with more than one source file, the destination must be a directory and end with a /: ` +
      `${JSON.stringify(written)} receives ${names.map((name) => JSON.stringify(name)).join(', ')}${more}`,
    { hint: `write the destination as ${JSON.stringify(`${written}/`)}` },
  );
}
