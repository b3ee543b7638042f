import test from 'ava';
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InputError, IntegrityError } from '../../errors/index.ts';
import { applyLayer } from './apply-layer.ts';
import { freshRoot, layerStream, listing, tarBytes, type FixtureEntry } from './tar-fixture.ts';

async function apply(root: string, entries: readonly FixtureEntry[], options = {}) {
  return applyLayer(root, await layerStream(entries), options);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

test('every entry type is created with its owner, mode and mtime', async (t) => {
  const { root } = await freshRoot(t);
  const result = await apply(root, [
    { name: 'usr/', type: 'directory', mode: 0o755, uid: 7, gid: 8, mtime: 1_000_000 },
    { name: 'usr/bin/', type: 'directory', mode: 0o751, mtime: 1_000_001 },
    { name: 'usr/bin/su', content: 'binary', mode: 0o4755, uid: 0, gid: 0, mtime: 1_500_000 },
    { name: 'usr/bin/wall', content: 'wall', mode: 0o2755, uid: 1000, gid: 5, mtime: 1_500_001 },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'usr/bin/su-again', type: 'link', linkname: 'usr/bin/su', mode: 0o4755, mtime: 1_500_000 },
    { name: 'bin', type: 'symlink', linkname: '/usr/bin', uid: 3, gid: 4, mtime: 1_200_000 },
    { name: 'run/initctl', type: 'fifo', mode: 0o600, uid: 9, gid: 9, mtime: 1_300_000 },
  ]);

  const usr = await stat(join(root, 'usr'));
  t.true(usr.isDirectory());
  t.is(usr.mode & 0o7777, 0o755);
  t.deepEqual([usr.uid, usr.gid], [7, 8]);
  // Set after its children were written, so the layer's time survives.
  t.is(usr.mtimeMs, 1_000_000_000);
  t.is((await stat(join(root, 'usr/bin'))).mtimeMs, 1_000_001_000);
  t.is((await stat(join(root, 'usr/bin'))).mode & 0o7777, 0o751);

  const su = await stat(join(root, 'usr/bin/su'));
  t.true(su.isFile());
  t.is(su.mode & 0o7777, 0o4755);
  t.is(su.mtimeMs, 1_500_000_000);
  t.is(await readFile(join(root, 'usr/bin/su'), 'utf8'), 'binary');
  const wall = await stat(join(root, 'usr/bin/wall'));
  t.is(wall.mode & 0o7777, 0o2755);
  t.deepEqual([wall.uid, wall.gid], [1000, 5]);
  t.is((await stat(join(root, 'tmp'))).mode & 0o7777, 0o1777);

  const again = await stat(join(root, 'usr/bin/su-again'));
  t.is(again.ino, su.ino);
  t.is(again.nlink, 2);

  const bin = await lstat(join(root, 'bin'));
  t.true(bin.isSymbolicLink());
  t.is(await readlink(join(root, 'bin')), '/usr/bin');
  t.deepEqual([bin.uid, bin.gid], [3, 4]);
  t.is(bin.mtimeMs, 1_200_000_000);

  const fifo = await lstat(join(root, 'run/initctl'));
  t.true(fifo.isFIFO());
  t.is(fifo.mode & 0o7777, 0o600);
  t.deepEqual([fifo.uid, fifo.gid], [9, 9]);
  t.is(fifo.mtimeMs, 1_300_000_000);
  // The implicit parent `run` is made 0755, as containerd's mkparent does.
  t.is((await stat(join(root, 'run'))).mode & 0o7777, 0o755);

  t.deepEqual(result, {
    files: 2,
    directories: 3,
    symlinks: 1,
    hardlinks: 1,
    fifos: 1,
    whiteouts: 0,
    bytes: 10,
    skipped: [],
  });
});

test('a directory already there is kept, its content too, and its metadata updated', async (t) => {
  const { root } = await freshRoot(t);
  await mkdir(join(root, 'etc'), { mode: 0o700 });
  await writeFile(join(root, 'etc/lower'), 'lower');
  await apply(root, [
    { name: 'etc/', type: 'directory', mode: 0o750, uid: 12, mtime: 2_000_000 },
    { name: 'etc/upper', content: 'upper' },
  ]);
  const etc = await stat(join(root, 'etc'));
  t.is(etc.mode & 0o7777, 0o750);
  t.is(etc.uid, 12);
  t.is(etc.mtimeMs, 2_000_000_000);
  t.deepEqual(await listing(join(root, 'etc')), ['lower', 'upper']);
});

test('a file entry replaces a lower file, symlink or directory tree', async (t) => {
  const { root } = await freshRoot(t);
  await writeFile(join(root, 'f'), 'old');
  await symlink('/nowhere', join(root, 's'));
  await mkdir(join(root, 'd/sub'), { recursive: true });
  await writeFile(join(root, 'd/sub/x'), 'x');
  await apply(root, [
    { name: 'f', content: 'new' },
    { name: 's', content: 'was a link' },
    { name: 'd', content: 'was a tree' },
  ]);
  t.is(await readFile(join(root, 'f'), 'utf8'), 'new');
  t.true((await lstat(join(root, 's'))).isFile());
  t.is(await readFile(join(root, 'd'), 'utf8'), 'was a tree');
});

test('a directory entry replaces a lower file or symlink', async (t) => {
  const { root } = await freshRoot(t);
  await writeFile(join(root, 'f'), 'old');
  await mkdir(join(root, 'elsewhere'));
  await symlink('elsewhere', join(root, 's'));
  await apply(root, [
    { name: 'f/', type: 'directory' },
    { name: 'f/inside', content: 'in' },
    { name: 's/', type: 'directory' },
    { name: 's/inside', content: 'in' },
  ]);
  t.true((await lstat(join(root, 'f'))).isDirectory());
  t.is(await readFile(join(root, 'f/inside'), 'utf8'), 'in');
  t.true((await lstat(join(root, 's'))).isDirectory());
  t.deepEqual(await listing(join(root, 'elsewhere')), []);
});

test('a whiteout removes a file of a lower layer and is not created itself', async (t) => {
  const { root } = await freshRoot(t);
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc/motd'), 'hi');
  await writeFile(join(root, 'etc/keep'), 'keep');
  const result = await apply(root, [{ name: 'etc/.wh.motd' }]);
  t.deepEqual(await listing(join(root, 'etc')), ['keep']);
  t.is(result.whiteouts, 1);
  t.is(result.files, 0);
});

test('a whiteout removes a whole directory tree of a lower layer, and a symlink without following it', async (t) => {
  const { root } = await freshRoot(t);
  await mkdir(join(root, 'var/cache/apt'), { recursive: true });
  await writeFile(join(root, 'var/cache/apt/pkg'), 'p');
  await mkdir(join(root, 'target'));
  await writeFile(join(root, 'target/kept'), 'k');
  await symlink('target', join(root, 'link'));
  await apply(root, [{ name: 'var/.wh.cache' }, { name: '.wh.link' }]);
  t.deepEqual(await listing(join(root, 'var')), []);
  t.deepEqual(await listing(root), ['target', 'var']);
  t.deepEqual(await listing(join(root, 'target')), ['kept']);
});

test('a whiteout leaves what the same layer adds, wherever it sits in the tar', async (t) => {
  const { root } = await freshRoot(t);
  await writeFile(join(root, 'a'), 'lower a');
  await writeFile(join(root, 'b'), 'lower b');
  await apply(root, [
    { name: '.wh.a' },
    { name: 'a', content: 'upper a' },
    { name: 'b', content: 'upper b' },
    { name: '.wh.b' },
  ]);
  t.is(await readFile(join(root, 'a'), 'utf8'), 'upper a');
  t.is(await readFile(join(root, 'b'), 'utf8'), 'upper b');
});

test('a whiteout of a directory this layer also writes removes only the lower children', async (t) => {
  const { root } = await freshRoot(t);
  await mkdir(join(root, 'd'));
  await writeFile(join(root, 'd/lower'), 'l');
  await apply(root, [{ name: 'd/upper', content: 'u' }, { name: '.wh.d' }]);
  t.deepEqual(await listing(join(root, 'd')), ['upper']);
});

test('a whiteout in a missing directory hides nothing and creates nothing', async (t) => {
  const { root } = await freshRoot(t);
  const result = await apply(root, [{ name: 'no/such/.wh.thing' }]);
  t.deepEqual(await listing(root), []);
  t.is(result.whiteouts, 1);
});

test('an opaque marker before its siblings empties the lower directory, then the siblings are written', async (t) => {
  const { root } = await freshRoot(t);
  await mkdir(join(root, 'opt/lower-dir'), { recursive: true });
  await writeFile(join(root, 'opt/lower-file'), 'l');
  await writeFile(join(root, 'opt/lower-dir/x'), 'x');
  await writeFile(join(root, 'outside'), 'o');
  const result = await apply(root, [
    { name: 'opt/', type: 'directory' },
    { name: 'opt/.wh..wh..opq' },
    { name: 'opt/new', content: 'n' },
  ]);
  t.deepEqual(await listing(join(root, 'opt')), ['new']);
  t.deepEqual(await listing(root), ['opt', 'outside']);
  t.is(result.whiteouts, 1);
});

test('an opaque marker after its siblings keeps them, and what this layer wrote below them', async (t) => {
  const { root } = await freshRoot(t);
  await mkdir(join(root, 'opt/sub'), { recursive: true });
  await writeFile(join(root, 'opt/lower-file'), 'l');
  await writeFile(join(root, 'opt/sub/lower'), 'l');
  await writeFile(join(root, 'opt/same'), 'lower');
  await apply(root, [
    { name: 'opt/', type: 'directory' },
    { name: 'opt/same', content: 'upper' },
    // `opt/deep` is never listed: an implicit parent of this layer's file.
    { name: 'opt/deep/file', content: 'd' },
    { name: 'opt/sub/', type: 'directory' },
    { name: 'opt/sub/upper', content: 'u' },
    { name: 'opt/.wh..wh..opq' },
  ]);
  t.deepEqual(await listing(join(root, 'opt')), ['deep', 'same', 'sub']);
  t.is(await readFile(join(root, 'opt/same'), 'utf8'), 'upper');
  t.deepEqual(await listing(join(root, 'opt/deep')), ['file']);
  t.deepEqual(await listing(join(root, 'opt/sub')), ['upper']);
});

test("layer.md's opaque example: the marker after a/b/c/foo still hides the lower a/b/c/bar", async (t) => {
  const { root } = await freshRoot(t);
  await mkdir(join(root, 'a/b/c'), { recursive: true });
  await writeFile(join(root, 'a/b/c/bar'), 'lower');
  await apply(root, [
    { name: 'a/', type: 'directory' },
    { name: 'a/b/', type: 'directory' },
    { name: 'a/b/c/', type: 'directory' },
    { name: 'a/b/c/foo', content: 'upper' },
    { name: 'a/.wh..wh..opq' },
  ]);
  t.deepEqual(await listing(join(root, 'a/b/c')), ['foo']);
});

test('an opaque marker at the root removes every lower entry', async (t) => {
  const { root } = await freshRoot(t);
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc/x'), 'x');
  await apply(root, [{ name: 'new', content: 'n' }, { name: '.wh..wh..opq' }]);
  t.deepEqual(await listing(root), ['new']);
});

test('other .wh..wh. names and AUFS metadata directories are ignored', async (t) => {
  const { root } = await freshRoot(t);
  const result = await apply(root, [
    { name: '.wh..wh.plnk/', type: 'directory' },
    { name: '.wh..wh.plnk/123.456', content: 'x' },
    { name: 'etc/.wh..wh.aufs', content: '' },
    { name: '.wh.etc/file', content: 'an ordinary file' },
  ]);
  // Ignored entries make no parents either.
  t.deepEqual(await listing(root), ['.wh.etc']);
  t.is(result.files, 1);
});

for (const name of ['.wh..', 'etc/.wh...', '.wh.']) {
  test(`the whiteout ${JSON.stringify(name)} is refused, naming the entry`, async (t) => {
    const { root } = await freshRoot(t);
    await mkdir(join(root, 'etc'));
    const error = await t.throwsAsync(apply(root, [{ name }]), { instanceOf: InputError });
    t.true(error.message.includes(JSON.stringify(name)));
    t.deepEqual(await listing(root), ['etc']);
  });
}

test('a later entry of the same layer replaces an earlier one', async (t) => {
  const { root } = await freshRoot(t);
  await apply(root, [
    { name: 'x/', type: 'directory', mtime: 5 },
    { name: 'x/child', content: 'c' },
    { name: 'x', content: 'now a file', mtime: 6 },
  ]);
  t.is(await readFile(join(root, 'x'), 'utf8'), 'now a file');
  t.is((await stat(join(root, 'x'))).mtimeMs, 6000);
});

test('the root entry ./ is ignored', async (t) => {
  const { root } = await freshRoot(t);
  const before = await stat(root);
  const result = await apply(root, [{ name: './', type: 'directory', mode: 0o700 }, { name: './a', content: 'a' }]);
  t.is((await stat(root)).mode & 0o7777, before.mode & 0o7777);
  t.is(result.directories, 0);
  t.deepEqual(await listing(root), ['a']);
});

test('a device node is refused by default, naming the entry and what was missing', async (t) => {
  const { root } = await freshRoot(t);
  const error = await t.throwsAsync(
    apply(root, [{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }]),
    { instanceOf: InputError },
  );
  t.regex(error.message, /"dev\/null"/);
  t.regex(error.message, /character device 1:3/);
  t.deepEqual(await listing(root), []);
});

test("devices and xattrs are skipped and reported with unsupported: 'skip'", async (t) => {
  const { root } = await freshRoot(t);
  await mkdir(join(root, 'dev'));
  await writeFile(join(root, 'dev/sda'), 'lower file stays: a skipped entry changes nothing');
  const result = await apply(
    root,
    [
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 },
      { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 },
      { name: 'bin/ping', content: 'ping', pax: { 'SCHILY.xattr.security.capability': 'cap' } },
      { name: 'after', content: 'applied' },
    ],
    { unsupported: 'skip' },
  );
  t.deepEqual(
    result.skipped.map(({ path, kind }) => ({ path, kind })),
    [
      { path: 'dev/null', kind: 'char' },
      { path: 'dev/sda', kind: 'block' },
      { path: 'bin/ping', kind: 'xattrs' },
    ],
  );
  t.regex(result.skipped[2]?.reason ?? '', /security\.capability/);
  t.is(await readFile(join(root, 'bin/ping'), 'utf8'), 'ping');
  t.is(await readFile(join(root, 'after'), 'utf8'), 'applied');
  t.deepEqual(await listing(join(root, 'dev')), ['sda']);
});

test('an entry with xattrs is refused by default before anything is written', async (t) => {
  const { root } = await freshRoot(t);
  const error = await t.throwsAsync(
    apply(root, [{ name: 'bin/ping', content: 'ping', pax: { 'SCHILY.xattr.security.capability': 'cap' } }]),
    { instanceOf: InputError },
  );
  t.regex(error.message, /"bin\/ping".*security\.capability/);
  t.deepEqual(await listing(root), []);
});

test('a truncated tar is an IntegrityError', async (t) => {
  const { root } = await freshRoot(t);
  const bytes = await tarBytes([{ name: 'big', content: 'x'.repeat(4096) }]);
  const error = await t.throwsAsync(applyLayer(root, Readable.from([bytes.subarray(0, 2048)])));
  t.true(error instanceof IntegrityError, String(error));
});

test('a header that is not tar is an InputError', async (t) => {
  const { root } = await freshRoot(t);
  await t.throwsAsync(applyLayer(root, Readable.from([Buffer.alloc(1024, 7)])), { instanceOf: InputError });
});

test('an aborted signal stops the application and destroys the stream', async (t) => {
  const { root } = await freshRoot(t);
  const controller = new AbortController();
  const stream = await layerStream([{ name: 'a', content: 'a' }]);
  controller.abort(new Error('stop'));
  await t.throwsAsync(applyLayer(root, stream, { signal: controller.signal }), { message: 'stop' });
  t.deepEqual(await listing(root), []);
  t.true(stream.destroyed);
});

test('a signal aborted mid-layer stops before the next entry and destroys the stream', async (t) => {
  const { root } = await freshRoot(t);
  const controller = new AbortController();
  const bytes = await tarBytes([
    { name: 'first', content: 'a' },
    { name: 'second', content: 'b' },
  ]);
  const stream = Readable.from(
    (function* () {
      // The header and body of `first`, then abort before `second` arrives.
      yield bytes.subarray(0, 1024);
      controller.abort(new Error('stop'));
      yield bytes.subarray(1024);
    })(),
  );
  await t.throwsAsync(applyLayer(root, stream, { signal: controller.signal }), { message: 'stop' });
  t.false(await exists(join(root, 'second')));
  t.true(stream.destroyed);
});
