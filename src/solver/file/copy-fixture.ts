import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, lchown, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

/*
 * Test fixtures of the file op (imported by its *.test.ts only): trees written from a
 * compact description, listed back as one line per entry, and tar archives built entry by
 * entry with tar-stream.
 */

/** How a fixture entry is written: a string is a file with that content. */
export type FixtureNode =
  | string
  | { readonly dir: true; readonly mode?: number; readonly uid?: number; readonly gid?: number }
  | { readonly file: string; readonly mode?: number; readonly uid?: number; readonly gid?: number; readonly mtime?: number }
  | { readonly symlink: string }
  | { readonly hardlink: string };

/** A scratch area: `context` (a source), `root` (a destination), both below `parent`. */
export interface Workspace {
  readonly parent: string;
  readonly context: string;
  readonly root: string;
}

/** A fresh workspace removed when the test ends. */
export async function workspace(t: { teardown(fn: () => Promise<void>): void }): Promise<Workspace> {
  const parent = await mkdtemp(join(tmpdir(), 'kiln-file-'));
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  const context = join(parent, 'context');
  const root = join(parent, 'root');
  await mkdir(context);
  await mkdir(root);
  return { parent, context, root };
}

/** Writes `entries` (relative paths, parents made as needed) below `dir`, in key order. */
export async function writeTree(dir: string, entries: Readonly<Record<string, FixtureNode>>): Promise<void> {
  for (const [path, node] of Object.entries(entries)) {
    const at = join(dir, path);
    await mkdir(dirname(at), { recursive: true });
    if (typeof node === 'string') {
      await writeFile(at, node);
    } else if ('dir' in node) {
      await mkdir(at, { recursive: true });
      if (node.mode !== undefined) await chmod(at, node.mode);
      if (node.uid !== undefined) await lchown(at, node.uid, node.gid ?? node.uid);
    } else if ('file' in node) {
      await writeFile(at, node.file);
      if (node.mode !== undefined) await chmod(at, node.mode);
      if (node.uid !== undefined) await lchown(at, node.uid, node.gid ?? node.uid);
      if (node.mtime !== undefined) await utimes(at, node.mtime, node.mtime);
    } else if ('symlink' in node) {
      await symlink(node.symlink, at);
    } else {
      await link(join(dir, node.hardlink), at);
    }
  }
}

/**
 * Every entry below `dir`, sorted, one line each: `path type mode uid:gid` then a file's
 * content or a symlink's target. Directories end in `/`.
 */
export function listTree(dir: string, options: { readonly owners?: boolean } = {}): string[] {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const abs = join(dir, path);
      const stats = lstatSync(abs);
      const owner = options.owners === false ? '' : ` ${stats.uid}:${stats.gid}`;
      const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
      if (stats.isDirectory()) {
        lines.push(`${path}/ ${mode}${owner}`);
        walk(path);
      } else if (stats.isSymbolicLink()) {
        lines.push(`${path} -> ${readlinkSync(abs)}${owner}`);
      } else if (stats.isFile()) {
        lines.push(`${path} ${mode}${owner} ${JSON.stringify(readFileSync(abs, 'utf8'))}`);
      } else {
        lines.push(`${path} special ${mode}${owner}`);
      }
    }
  };
  walk('');
  return lines;
}

/** One entry of a fixture tar (tar-stream's header, with a body for files). */
export interface TarEntry {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  readonly content?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
}

/** The bytes of an uncompressed tar holding `entries`, in order. */
export async function tarBytes(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of Readable.from(pack)) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const header = {
      name: entry.name,
      type,
      mode: entry.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: entry.uid ?? 0,
      gid: entry.gid ?? 0,
      mtime: new Date(1_700_000_000_000),
      ...(entry.linkname === undefined ? {} : { linkname: entry.linkname }),
      ...(entry.devmajor === undefined ? {} : { devmajor: entry.devmajor, devminor: entry.devminor ?? 0 }),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (type === 'file') pack.entry(header, entry.content ?? '', done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}
