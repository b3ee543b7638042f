import test from 'ava';
import { execFile } from 'node:child_process';
import { chmod, link, lstat, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { deviceMajor, deviceMinor, entriesFromDirectory, readLayerTar, writeLayerTar, type LayerEntry } from './index.ts';

const run = promisify(execFile);

async function tree(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'kiln-walk-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

async function collect(dir: string): Promise<LayerEntry[]> {
  const out: LayerEntry[] = [];
  for await (const entry of entriesFromDirectory(dir)) out.push(entry);
  return out;
}

test('a directory walk yields layer order: a directory, then its children, then a-b', async (t) => {
  const root = await tree(t);
  for (const dir of ['a', 'a/c', 'a-b', 'B', 'é']) await mkdir(join(root, dir));
  for (const file of ['a/b', 'a/c/d', 'a.txt', 'Z', '_', 'é/x', '日本']) await writeFile(join(root, file), file);
  const paths = (await collect(root)).map((e) => e.path);
  // Byte order: uppercase before '_' before lowercase, ASCII before UTF-8 multibyte.
  t.deepEqual(paths, ['B', 'Z', '_', 'a', 'a/b', 'a/c', 'a/c/d', 'a-b', 'a.txt', 'é', 'é/x', '日本']);
});

test('the second path to an inode becomes a hardlink to the first', async (t) => {
  const root = await tree(t);
  await mkdir(join(root, 'd'));
  await writeFile(join(root, 'd', 'original'), 'shared');
  await link(join(root, 'd', 'original'), join(root, 'a-link'));
  await link(join(root, 'd', 'original'), join(root, 'z-link'));
  const entries = await collect(root);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  t.is(byPath.get('a-link')?.type, 'file');
  t.is(byPath.get('a-link')?.size, 6);
  t.deepEqual([byPath.get('d/original')?.type, byPath.get('d/original')?.linkname], ['hardlink', 'a-link']);
  t.deepEqual([byPath.get('z-link')?.type, byPath.get('z-link')?.linkname], ['hardlink', 'a-link']);
});

test('symlinks, FIFOs and devices come with their targets and numbers; sockets are left out', async (t) => {
  const root = await tree(t);
  await symlink('../somewhere/else', join(root, 'link'));
  await run('mkfifo', ['-m', '0640', join(root, 'fifo')]);
  await run('mknod', ['-m', '0600', join(root, 'null'), 'c', '1', '3']);
  // A major over 255 and a minor over 255 exercise the split fields of dev_t.
  await run('mknod', ['-m', '0660', join(root, 'big'), 'b', '300', '70000']);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(root, 'socket'), resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const byPath = new Map((await collect(root)).map((e) => [e.path, e]));
  t.deepEqual([byPath.get('link')?.type, byPath.get('link')?.linkname], ['symlink', '../somewhere/else']);
  t.deepEqual([byPath.get('fifo')?.type, byPath.get('fifo')?.mode], ['fifo', 0o640]);
  t.deepEqual([byPath.get('null')?.type, byPath.get('null')?.devmajor, byPath.get('null')?.devminor], ['char', 1, 3]);
  t.deepEqual([byPath.get('big')?.type, byPath.get('big')?.devmajor, byPath.get('big')?.devminor], ['block', 300, 70000]);
  t.false(byPath.has('socket'));
});

test('device numbers agree with stat(1) %Hr %Lr', async (t) => {
  const root = await tree(t);
  // Linux keeps 12 bits of major and 20 of minor (kdev_t.h); both split across dev_t.
  const cases = [[1, 3], [8, 1], [259, 0], [300, 70_000], [4095, 1_048_575]] as const;
  for (const [major, minor] of cases) {
    const path = join(root, `${major}-${minor}`);
    await run('mknod', [path, 'c', String(major), String(minor)]);
    const { stdout } = await run('stat', ['-c', '%Hr %Lr', path]);
    const stats = await lstat(path, { bigint: true });
    t.is(`${deviceMajor(stats.rdev)} ${deviceMinor(stats.rdev)}`, stdout.trim(), path);
    t.deepEqual([deviceMajor(stats.rdev), deviceMinor(stats.rdev)], [major, minor]);
  }
});

test('mode, owner and mtime come from lstat, mtime in whole seconds', async (t) => {
  const root = await tree(t);
  await writeFile(join(root, 'f'), 'x');
  // chown(2) clears setuid, so it goes first.
  await run('chown', ['1234:5678', join(root, 'f')]);
  await chmod(join(root, 'f'), 0o4751);
  await utimes(join(root, 'f'), 1_600_000_000.75, 1_600_000_000.75);
  const [entry] = await collect(root);
  t.like(entry, { path: 'f', type: 'file', mode: 0o4751, uid: 1234, gid: 5678, mtime: 1_600_000_000, size: 1 });
});

test('a walked tree written as a layer lists in GNU tar like the tree itself', async (t) => {
  const root = await tree(t);
  await mkdir(join(root, 'dir', 'sub'), { recursive: true });
  await writeFile(join(root, 'dir', 'sub', 'file'), 'content');
  await symlink('sub/file', join(root, 'dir', 'link'));
  await link(join(root, 'dir', 'sub', 'file'), join(root, 'dir', 'hard'));
  const layer = join(await tree(t), 'layer.tar');
  const chunks: Buffer[] = [];
  for await (const chunk of writeLayerTar(entriesFromDirectory(root))) chunks.push(chunk as Buffer);
  await writeFile(layer, Buffer.concat(chunks));
  const { stdout } = await run('tar', ['-tf', layer]);
  t.deepEqual(stdout.trim().split('\n'), ['dir/', 'dir/hard', 'dir/link', 'dir/sub/', 'dir/sub/file']);
  const types: string[] = [];
  for await (const entry of readLayerTar(Readable.from([Buffer.concat(chunks)]))) {
    types.push(`${entry.path}:${entry.type}:${entry.linkname ?? ''}`);
    entry.body.resume();
  }
  t.deepEqual(types, ['dir:dir:', 'dir/hard:file:', 'dir/link:symlink:sub/file', 'dir/sub:dir:', 'dir/sub/file:hardlink:dir/hard']);
});

test("xattrs of a walked tree reach the layer tar, user. and trusted. alike; overlayfs's own stay out", async (t) => {
  const root = await tree(t);
  await mkdir(join(root, 'dir'));
  await writeFile(join(root, 'dir', 'file'), 'content');
  await link(join(root, 'dir', 'file'), join(root, 'hard'));
  await symlink('dir/file', join(root, 'link'));
  // Set by setfattr(1) (Debian's attr), so the walk's reading is checked against another writer.
  const setfattr = (name: string, value: string, path: string) => run('setfattr', ['-h', '-n', name, '-v', value, join(root, path)]);
  await setfattr('user.kiln', '0x00ff0a3d80', 'dir/file');
  await setfattr('trusted.kiln', 'root only', 'dir/file');
  await setfattr('user.on-dir', 'yes', 'dir');
  await setfattr('trusted.overlay.opaque', 'y', 'dir');
  await setfattr('trusted.on-link', 'link', 'link');

  const chunks: Buffer[] = [];
  for await (const chunk of writeLayerTar(entriesFromDirectory(root))) chunks.push(chunk as Buffer);
  const xattrs: Record<string, Record<string, string> | undefined> = {};
  for await (const entry of readLayerTar(Readable.from([Buffer.concat(chunks)]))) {
    xattrs[entry.path] =
      entry.xattrs === undefined ? undefined : Object.fromEntries(Object.entries(entry.xattrs).map(([name, value]) => [name, value.toString('hex')]));
    entry.body.resume();
  }
  t.deepEqual(xattrs, {
    dir: { 'user.on-dir': Buffer.from('yes').toString('hex') },
    'dir/file': { 'trusted.kiln': Buffer.from('root only').toString('hex'), 'user.kiln': '00ff0a3d80' },
    // The inode's attributes travel with its first path; the hardlink to it has none.
    hard: undefined,
    link: { 'trusted.on-link': Buffer.from('link').toString('hex') },
  });
});

test('an aborted walk stops with the abort reason', async (t) => {
  const root = await tree(t);
  for (let i = 0; i < 10; i++) await writeFile(join(root, `f${i}`), '');
  const controller = new AbortController();
  const error = await t.throwsAsync(
    (async () => {
      for await (const _entry of entriesFromDirectory(root, { signal: controller.signal })) controller.abort();
    })(),
    // throwIfAborted throws the signal's reason: a DOMException, which ava wants allowed.
    { any: true },
  );
  t.is((error as Error).name, 'AbortError');
});

test('writing a tree as a layer leaves the atime of its small files alone', async (t) => {
  const root = await tree(t);
  await writeFile(join(root, 'f'), 'content');
  // An atime before the mtime: under relatime (mount(8)) a plain read would move it to now.
  await utimes(join(root, 'f'), 1_000_000_000, Date.now() / 1000);
  for await (const _chunk of writeLayerTar(entriesFromDirectory(root))) {
    // read it all
  }
  t.is((await lstat(join(root, 'f'))).atimeMs, 1_000_000_000_000);
});

test('a 2 GiB file is streamed into the layer, never held in memory', async (t) => {
  const root = await tree(t);
  const size = 2 * 1024 ** 3;
  // Sparse: the file system stores no data, reading it gives zeros.
  await run('truncate', ['-s', String(size), join(root, 'big')]);
  const base = process.memoryUsage().arrayBuffers;
  let peak = 0;
  let length = 0;
  let zeros = 0;
  for await (const chunk of writeLayerTar(entriesFromDirectory(root))) {
    const bytes = chunk as Buffer;
    // Past the header block the archive is zeros: the body and the end blocks.
    const past = bytes.subarray(Math.max(0, 512 - length));
    if (past.equals(Buffer.alloc(past.length))) zeros += past.length;
    length += bytes.length;
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
  }
  t.is(length, 512 + size + 1024);
  t.is(zeros, size + 1024);
  t.true(peak < 64 * 1024 ** 2, `peak of ${(peak / 1024 ** 2).toFixed(0)} MiB of buffers`);
});
