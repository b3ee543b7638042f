import test from 'ava';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, lchown, link, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError } from '../../errors/index.ts';
import { copyFiles, type CopyRequest } from './copy-files.ts';
import { listTree, type Workspace, workspace } from './copy-fixture.ts';

/*
 * Copies of many files, which copy-match runs several at a time: the result must be the one a
 * copy of one file after another gives, whatever order the copies finish in.
 */

function copy(ws: Workspace, request: Partial<CopyRequest> & Pick<CopyRequest, 'sources' | 'dest'>): Promise<void> {
  return copyFiles({
    source: { kind: 'context', dir: ws.context },
    destRoot: ws.root,
    excludes: [],
    parents: false,
    followSymlinks: true,
    unpack: false,
    ...request,
  });
}

const MODES = [0o644, 0o600, 0o755, 0o4755, 0o2755, 0o1644, 0o000, 0o444];

/**
 * Writes `tree/` into the context: `dirs` directories of `perDir` files of varied sizes,
 * modes, owners and times, one file of 2 MiB, and each directory with its own times.
 * Returns every path written, relative to `tree/`.
 */
async function manyFiles(ws: Workspace, dirs: number, perDir: number): Promise<string[]> {
  const paths: string[] = [];
  for (let d = 0; d < dirs; d++) {
    const dir = join(ws.context, 'tree', `d${d}`, 'inner');
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < perDir; f++) {
      const rel = `d${d}/inner/f${f}`;
      const at = join(ws.context, 'tree', rel);
      const size = d === 0 && f === 0 ? 2 * 1024 * 1024 + 3 : (d * 131 + f * 17) % 5000;
      await writeFile(at, Buffer.alloc(size, `${rel}|`));
      await lchown(at, 1000 + (f % 3), 2000 + (d % 2));
      await chmod(at, MODES[(d + f) % MODES.length] as number);
      await utimes(at, 1_500_000_000 + f, 1_600_000_000 + d * 1000 + f);
      paths.push(rel);
    }
    await utimes(dir, 1_400_000_000 + d, 1_450_000_000 + d);
    await utimes(join(ws.context, 'tree', `d${d}`), 1_300_000_000 + d, 1_350_000_000 + d);
  }
  return paths;
}

/** Every entry below `dir` with mode, owner, size and mtime (ms), sorted. */
function describe(dir: string): string[] {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const stats = lstatSync(join(dir, path));
      const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
      lines.push(`${path} ${stats.isDirectory() ? 'dir' : stats.size} ${mode} ${stats.uid}:${stats.gid} ${stats.mtimeMs}`);
      if (stats.isDirectory()) walk(path);
    }
  };
  walk('');
  return lines;
}

test('a tree of many files into new directories keeps every content, mode, time and owner, the directories\' times too', async (t) => {
  const ws = await workspace(t);
  const paths = await manyFiles(ws, 6, 40);
  await copy(ws, { source: { kind: 'rootfs', dir: ws.context }, sources: ['tree'], dest: '/stage/' });
  await copy(ws, { sources: ['tree'], dest: '/context/' });
  // From a stage the source's owners are kept (set-user-ID bits survive the chown); from the
  // context every entry is 0:0.
  const source = describe(join(ws.context, 'tree'));
  t.deepEqual(describe(join(ws.root, 'stage')), source);
  t.deepEqual(
    describe(join(ws.root, 'context')),
    source.map((line) => line.replace(/ \d+:\d+ /, ' 0:0 ')),
  );
  for (const path of paths) {
    const content = readFileSync(join(ws.context, 'tree', path));
    t.true(readFileSync(join(ws.root, 'stage', path)).equals(content), path);
    t.true(readFileSync(join(ws.root, 'context', path)).equals(content), path);
  }
});

test('hard links in different directories of a copied tree are linked to one copy', async (t) => {
  const ws = await workspace(t);
  await manyFiles(ws, 3, 30);
  await link(join(ws.context, 'tree/d0/inner/f0'), join(ws.context, 'tree/d2/inner/big-again'));
  await link(join(ws.context, 'tree/d1/inner/f5'), join(ws.context, 'tree/d0/inner/z-last'));
  await copy(ws, { sources: ['tree'], dest: '/o/' });
  const ino = (path: string): number => lstatSync(join(ws.root, 'o', path)).ino;
  t.is(ino('d2/inner/big-again'), ino('d0/inner/f0'));
  t.is(ino('d0/inner/z-last'), ino('d1/inner/f5'));
  t.is(lstatSync(join(ws.root, 'o/d0/inner/f0')).nlink, 2);
  t.not(ino('d0/inner/f1'), ino('d0/inner/f0'));
  t.true(readFileSync(join(ws.root, 'o/d2/inner/big-again')).equals(readFileSync(join(ws.context, 'tree/d0/inner/f0'))));
});

test('directories made below a set-group-ID directory still get the owner the copy gives', async (t) => {
  const ws = await workspace(t);
  await manyFiles(ws, 2, 5);
  // mkdir(2) below a set-group-ID directory takes its group (and the bit): what the copy makes there is chowned.
  await mkdir(join(ws.root, 'shared'));
  await lchown(join(ws.root, 'shared'), 0, 4321);
  await chmod(join(ws.root, 'shared'), 0o2775);
  await copy(ws, { sources: ['tree'], dest: '/shared/' });
  const owners = new Set(describe(join(ws.root, 'shared')).map((line) => line.split(' ')[3]));
  t.deepEqual([...owners], ['0:0']);
  await copy(ws, { sources: ['tree'], dest: '/shared/owned/', owner: { uid: 0, gid: 4321 } });
  t.deepEqual(new Set(describe(join(ws.root, 'shared/owned')).map((line) => line.split(' ')[3])), new Set(['0:4321']));
});

test('a conflict met while copies are in flight fails the copy, and every file written by then is whole', async (t) => {
  const ws = await workspace(t);
  const paths = await manyFiles(ws, 1, 120);
  // The destination directory exists, with a directory where the 100th file goes.
  await mkdir(join(ws.root, 'o/d0/inner/f99'), { recursive: true });
  const error = await t.throwsAsync(copy(ws, { sources: ['tree'], dest: '/o/' }), { instanceOf: ConflictError });
  t.regex(error.message, /\/o\/d0\/inner\/f99/);
  // Nothing still in flight: what is there now stays, and each file is complete with its times.
  const written = describe(join(ws.root, 'o'));
  const source = new Map(describe(join(ws.context, 'tree')).map((line) => [line.split(' ')[0], line]));
  let files = 0;
  for (const line of written) {
    const path = line.split(' ')[0] as string;
    if (!paths.includes(path) || path === 'd0/inner/f99') continue;
    files += 1;
    t.is(line.replace(/ \d+:\d+ /, ' '), (source.get(path) as string).replace(/ \d+:\d+ /, ' '), path);
  }
  t.true(files > 0 && files < paths.length, `${files} files written`);
  await new Promise<void>((resolve) => setTimeout(resolve, 50));
  t.deepEqual(describe(join(ws.root, 'o')), written);
});

test('an abort while copies are in flight stops the copy with its reason, leaving only whole files', async (t) => {
  const ws = await workspace(t);
  const paths = await manyFiles(ws, 4, 300);
  const controller = new AbortController();
  const copying = copy(ws, { sources: ['tree'], dest: '/o/', signal: controller.signal });
  // Abort once some files are there (the copy hands the event loop a turn every few ms).
  const deadline = Date.now() + 30_000;
  const target = join(ws.root, 'o/d0/inner');
  while (Date.now() < deadline) {
    const there = (() => {
      try {
        return readdirSync(target).length;
      } catch {
        return 0;
      }
    })();
    if (there >= 10) break;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  controller.abort(new Error('stopped by the test'));
  await t.throwsAsync(copying, { message: 'stopped by the test' });
  const source = new Map(describe(join(ws.context, 'tree')).map((line) => [line.split(' ')[0], line]));
  const written = describe(join(ws.root, 'o')).filter((line) => paths.includes(line.split(' ')[0] as string));
  t.true(written.length > 0 && written.length < paths.length, `${written.length} files written`);
  for (const line of written) {
    const path = line.split(' ')[0] as string;
    t.is(line.replace(/ \d+:\d+ /, ' '), (source.get(path) as string).replace(/ \d+:\d+ /, ' '), path);
  }
});

test('a copy into new directories lists as the fixture lister sees it (symlinks, empty files, names)', async (t) => {
  const ws = await workspace(t);
  await mkdir(join(ws.context, 'tree/sub/deeper'), { recursive: true });
  await writeFile(join(ws.context, 'tree/sub/empty'), '');
  await writeFile(join(ws.context, 'tree/sub/deeper/ünïcode name'), 'u');
  const { symlink } = await import('node:fs/promises');
  await symlink('deeper/ünïcode name', join(ws.context, 'tree/sub/link'));
  await copy(ws, { sources: ['tree'], dest: '/o/' });
  t.deepEqual(listTree(join(ws.root, 'o')), [
    'sub/ 0755 0:0',
    'sub/deeper/ 0755 0:0',
    'sub/deeper/ünïcode name 0644 0:0 "u"',
    'sub/empty 0644 0:0 ""',
    'sub/link -> deeper/ünïcode name 0:0',
  ]);
});
