import posix from 'node:path/posix';
import { parseDigest, type Digest } from '../../content/index.ts';
import type { FileAction, Vertex } from '../../graph/index.ts';
import { shellEnv } from '../env-list.ts';
import { applyChmod, parseChmod, type ChmodSpec } from '../file-mode.ts';
import { commitToHistory } from '../history.ts';
import type { AddCommand, CopyCommand } from '../instructions/command.ts';
import { fail } from '../located.ts';
import type { StageState } from '../stage-state.ts';
import { displayText, stepName } from '../vertex-name.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { expandHeredocBody, expandWord } from './expand.ts';
import { currentVertex, inputIndex, stageVertex } from './stage-vertex.ts';

/**
 * COPY and ADD (BuildKit's dispatchCopy): sources, destination, `--chown`, `--chmod` and
 * (ADD) `--checksum` expanded; the destination resolved against WORKDIR with a trailing `/`
 * kept; one file vertex with input 0 the stage's file system and, after it, the sources'
 * vertices: the build context, the `--from` stage's result or image. Local sources copy as
 * written (wildcards, `--parents`, `--exclude` are the copy engine's); ADD's http(s) sources
 * download; heredoc sources become files made in place. History: `COPY [--parents]
 * [--chown=…] [--chmod=…] src… dest # buildkit`, with a layer.
 * @throws DockerfileError at the instruction for a bad `--chmod` or `--checksum`, a URL or Git
 *   source where it is not allowed, or a `--from` stage defined after this one.
 */
export function dispatchCopy(ctx: DispatchContext, state: StageState, command: CopyCommand | AddCommand, sources: readonly StageState[]): void {
  const where = { file: ctx.file, range: command.range };
  const isAdd = command.kind === 'add';
  const name = isAdd ? 'ADD' : 'COPY';
  const expand = (word: string): string => expandWord(ctx, state, command, word);
  const chown = command.chown === undefined ? undefined : expand(command.chown);
  const chmod = command.chmod === undefined ? undefined : expand(command.chmod);
  const checksum = command.kind === 'add' && command.checksum !== undefined ? expand(command.checksum) : undefined;
  const paths = command.sources.map(expand);
  const destWritten = expand(command.dest);
  const dest = pathRelativeToWorkingDir(state.dir, destWritten);

  let chmodSpec: ChmodSpec | undefined;
  if (chmod !== undefined && chmod !== '') {
    try {
      chmodSpec = parseChmod(chmod);
    } catch (error) {
      fail(where, `${name}: ${(error as Error).message}`, 'use an octal mode such as 0755, or a symbolic one such as u+x', error);
    }
  }
  let checksumDigest: Digest | undefined;
  if (checksum !== undefined && checksum !== '') {
    const [only, extra] = paths;
    if (extra !== undefined || command.contents.length > 0) fail(where, "checksum can't be specified for multiple sources");
    if (only === undefined || !isHttpSource(only)) fail(where, 'checksum requires HTTP(S) or Git sources');
    try {
      checksumDigest = parseDigest(checksum, 'ADD --checksum');
    } catch (error) {
      fail(where, (error as Error).message, 'give the sha256 digest of the file: sha256:<64 hex digits>', error);
    }
  }

  let from: Vertex = ctx.contextVertex();
  if (command.kind === 'copy' && command.from !== undefined) {
    const source = sources[0];
    if (source === undefined || !source.dispatched || source.vertex === undefined) {
      fail(where, `cannot copy from stage ${JSON.stringify(command.from)}, it needs to be defined before current stage ${JSON.stringify(state.displayName)}`);
    }
    from = source.vertex;
  }

  const base = currentVertex(state);
  const inputs: Vertex[] = [];
  const actions: FileAction[] = [];
  const chownField = chown === undefined || chown === '' ? undefined : chown;
  const chmodField = chmodSpec === undefined ? undefined : chmod;
  for (const path of paths) {
    if (isGitSource(path)) {
      // TODO(#6): Git sources for ADD.
      if (isAdd) fail(where, `ADD ${path}: adding a Git repository is not supported by kiln yet`, 'clone it in a RUN step instead');
      fail(where, "source can't be a git ref for COPY");
    }
    if (isHttpSource(path)) {
      if (!isAdd) fail(where, "source can't be a URL for COPY", 'use ADD to download a file');
      if (command.kind === 'add' && command.unpack === true) {
        // TODO(#6): --unpack for downloaded archives.
        fail(where, 'ADD --unpack with a URL source is not supported by kiln yet', 'download it, then unpack it in a RUN step');
      }
      actions.push({ kind: 'http', url: path, dest, checksum: checksumDigest, chown: chownField, chmod: chmodField, filename: urlFileName(path) });
      continue;
    }
    const index = inputIndex(base, inputs, from);
    const previous = actions[actions.length - 1];
    if (previous?.kind === 'copy' && previous.from === index) {
      actions[actions.length - 1] = { ...previous, sources: [...previous.sources, path] };
      continue;
    }
    actions.push({
      kind: 'copy',
      from: index,
      sources: [path],
      dest,
      chown: chownField,
      chmod: chmodField,
      excludes: [...command.excludes],
      parents: command.kind === 'copy' && command.parents,
      link: command.link,
      unpack: command.kind === 'add' ? (command.unpack ?? true) : false,
      followSymlinks: true,
    });
  }
  const intoDirectory = dest.endsWith('/') || paths.length + command.contents.length > 1;
  for (const content of command.contents) {
    const data = content.expand ? expandHeredocBody(ctx, state, command, content.data) : content.data;
    actions.push({
      kind: 'mkfile',
      path: intoDirectory ? posix.join(dest, content.path) : dest,
      data,
      mode: chmodSpec === undefined ? 0o644 : applyChmod(chmodSpec, 0o644),
      chown: chownField,
    });
  }

  const stepText = stepName(state, displayText(ctx.lexer, command.code, shellEnv(state.env)));
  state.vertex = stageVertex(ctx, state, command, { kind: 'file', actions }, inputs, stepText);

  let createdBy = name;
  if (command.kind === 'copy' && command.parents) createdBy += ' --parents';
  if (chown !== undefined && chown !== '') createdBy += ` --chown=${chown}`;
  if (chmod !== undefined && chmod !== '') createdBy += ` --chmod=${chmod}`;
  for (const path of paths) createdBy += ` ${path}`;
  for (const content of command.contents) createdBy += ` <<${content.path}`;
  createdBy += ` ${destWritten}`;
  commitToHistory(state, createdBy, true, true);
}

/**
 * A COPY/ADD destination against WORKDIR (BuildKit's pathRelativeToWorkingDir): absolute
 * as written; relative joined to the working directory (cleaned), a trailing `/` or `/.`
 * kept; `.` and the empty path are the working directory itself, as a directory.
 */
export function pathRelativeToWorkingDir(dir: string, path: string): string {
  if (path.startsWith('/')) return path;
  const p = path === '.' || path === '' ? './' : path;
  let joined = posix.join(dir.startsWith('/') ? dir : posix.join('/', dir), p);
  if (p.endsWith('/') && !joined.endsWith('/')) joined += '/';
  else if (p.endsWith('/.')) joined = `${joined === '/' ? '' : joined.replace(/\/$/, '')}/.`;
  return joined;
}

/** http:// and https:// URLs that are not Git repositories. */
function isHttpSource(src: string): boolean {
  return (src.startsWith('http://') || src.startsWith('https://')) && !isGitSource(src);
}

/**
 * What BuildKit takes for a Git source (dfgitutil.ParseGitRef): git:// and ssh:// URLs,
 * `user@host:path`, and http(s) URLs whose path ends in `.git`.
 */
function isGitSource(src: string): boolean {
  if (src.startsWith('./') || src.startsWith('../')) return false;
  if (/^(git|ssh):\/\//.test(src)) return true;
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/.test(src)) return true;
  if (/^https?:\/\//.test(src)) {
    try {
      return new URL(src).pathname.endsWith('.git');
    } catch {
      return false;
    }
  }
  return false;
}

/** The downloaded file's name: the URL path's last element, or `__unnamed__`. */
function urlFileName(url: string): string {
  try {
    const base = posix.basename(new URL(url).pathname);
    return base === '' || base === '.' || base === '/' ? '__unnamed__' : decodeURIComponent(base);
  } catch {
    return '__unnamed__';
  }
}
