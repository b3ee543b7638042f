import test from 'ava';
import { execFile } from 'node:child_process';
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { InputError, IntegrityError } from '../../errors/index.ts';
import { writeLayerTar, type LayerEntry } from '../layer/index.ts';
import { applyLayer, type ApplyLayerResult } from './apply-layer.ts';
import { freshRoot, layerStream, listing, tarBytes, type FixtureEntry } from './tar-fixture.ts';

const run = promisify(execFile);

async function apply(root: string, entries: readonly FixtureEntry[], options = {}) {
  return applyLayer(root, await layerStream(entries), options);
}

/** stat(1)'s file type and device numbers of `path`. */
async function statType(path: string): Promise<string> {
  return (await run('stat', ['-c', '%F %Hr:%Lr', path])).stdout.trim();
}

/** The extended attributes of `path` (not followed) as getfattr(1) of Debian's attr reads them, values in hex. */
async function getfattr(path: string): Promise<Record<string, string>> {
  const { stdout } = await run('getfattr', ['--absolute-names', '--no-dereference', '--match=-', '--encoding=hex', '--dump', path]);
  const attributes: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^([^=#]+)=0x([0-9a-f]*)$/.exec(line);
    if (match !== null) attributes[match[1]!] = match[2]!;
  }
  return attributes;
}

function hex(text: string): string {
  return Buffer.from(text).toString('hex');
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
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, uid: 0, gid: 0, mtime: 1_400_000 },
    { name: 'dev/nvme0n1p1', type: 'block-device', devmajor: 259, devminor: 70_000, mode: 0o660, uid: 0, gid: 6, mtime: 1_400_001 },
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

  const devNull = await lstat(join(root, 'dev/null'));
  t.true(devNull.isCharacterDevice());
  t.is(devNull.mode & 0o7777, 0o666);
  t.is(devNull.mtimeMs, 1_400_000_000);
  const nvme = await lstat(join(root, 'dev/nvme0n1p1'));
  t.true(nvme.isBlockDevice());
  t.deepEqual([nvme.mode & 0o7777, nvme.uid, nvme.gid], [0o660, 0, 6]);
  t.is(await statType(join(root, 'dev/nvme0n1p1')), 'block special file 259:70000');
  t.is(await statType(join(root, 'dev/null')), 'character special file 1:3');

  t.deepEqual(result, {
    files: 2,
    directories: 3,
    symlinks: 1,
    hardlinks: 1,
    fifos: 1,
    devices: 2,
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

test('a device node replaces a lower file, and a character device 0:0 is made as it is', async (t) => {
  const { root } = await freshRoot(t);
  await mkdir(join(root, 'dev'));
  await writeFile(join(root, 'dev/sda'), 'lower file');
  const result = await apply(root, [
    { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660, gid: 6 },
    // An overlayfs-style whiteout in an OCI layer is no whiteout there (layer.md uses .wh.):
    // it is applied as the device it is.
    { name: 'etc/gone', type: 'character-device', devmajor: 0, devminor: 0, mode: 0o000 },
  ]);
  t.is(await statType(join(root, 'dev/sda')), 'block special file 8:0');
  t.is((await lstat(join(root, 'dev/sda'))).gid, 6);
  t.is(await statType(join(root, 'etc/gone')), 'character special file 0:0');
  t.is(result.devices, 2);
  t.is(result.whiteouts, 0);
  t.deepEqual(await listing(join(root, 'dev')), ['sda']);
});

test('xattrs are applied to every entry type, and getfattr reads them', async (t) => {
  const { root } = await freshRoot(t);
  const result = await apply(root, [
    { name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.user.dir': 'on a directory' } },
    { name: 'd/f', content: 'f', pax: { 'SCHILY.xattr.user.file': 'on a file', 'SCHILY.xattr.trusted.t': 'root only' } },
    { name: 'd/hard', type: 'link', linkname: 'd/f', pax: { 'SCHILY.xattr.user.via-link': 'shared inode' } },
    // A symlink's own attribute (lsetxattr): trusted. is allowed on links, user. is not.
    { name: 'd/link', type: 'symlink', linkname: 'f', pax: { 'SCHILY.xattr.trusted.on-link': 'link' } },
    { name: 'd/fifo', type: 'fifo', pax: { 'SCHILY.xattr.trusted.on-fifo': 'fifo' } },
    { name: 'd/null', type: 'character-device', devmajor: 1, devminor: 3, pax: { 'SCHILY.xattr.trusted.on-device': 'dev' } },
  ]);
  t.deepEqual(result.skipped, []);
  t.deepEqual(await getfattr(join(root, 'd')), { 'user.dir': hex('on a directory') });
  t.deepEqual(await getfattr(join(root, 'd/f')), {
    'trusted.t': hex('root only'),
    'user.file': hex('on a file'),
    'user.via-link': hex('shared inode'),
  });
  t.deepEqual(await getfattr(join(root, 'd/link')), { 'trusted.on-link': hex('link') });
  t.deepEqual(await getfattr(join(root, 'd/fifo')), { 'trusted.on-fifo': hex('fifo') });
  t.deepEqual(await getfattr(join(root, 'd/null')), { 'trusted.on-device': hex('dev') });
});

test("a binary xattr value from kiln's tar writer is applied byte for byte", async (t) => {
  const { root } = await freshRoot(t);
  // NUL, newline, '=' and bytes that are not UTF-8: PAX records hold them as they are.
  const binary = Buffer.from([0, 0xff, 0x0a, 0x3d, 0x80, 0]);
  const entry: LayerEntry = {
    path: 'f',
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: 0,
    size: 1,
    content: () => Readable.from([Buffer.from('f')]),
    xattrs: { 'user.bin': binary, 'user.empty': Buffer.alloc(0) },
  };
  await applyLayer(root, writeLayerTar([entry]));
  t.deepEqual(await getfattr(join(root, 'f')), { 'user.bin': binary.toString('hex'), 'user.empty': '' });
});

test('security.capability survives the chown and chmod of its file', async (t) => {
  const { root } = await freshRoot(t);
  // VFS_CAP_REVISION_2 with CAP_NET_RAW (bit 13) permitted and effective: what setcap cap_net_raw+ep writes.
  const capability = Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  await apply(root, [
    { name: 'bin/ping', content: 'ping', mode: 0o755, uid: 0, gid: 0, pax: { 'SCHILY.xattr.security.capability': capability.toString('latin1') } },
  ]);
  t.deepEqual(await getfattr(join(root, 'bin/ping')), { 'security.capability': capability.toString('hex') });
});

test("an xattr the kernel refuses fails naming the entry, and is skipped and reported with unsupported: 'skip'", async (t) => {
  const entries: FixtureEntry[] = [
    { name: 'target', content: 't' },
    // xattr(7): user. attributes are for regular files and directories; on a symlink, EPERM.
    { name: 'link', type: 'symlink', linkname: 'target', pax: { 'SCHILY.xattr.user.nope': 'x', 'SCHILY.xattr.trusted.yes': 'y' } },
  ];
  const refused = await freshRoot(t);
  const error = await t.throwsAsync(apply(refused.root, entries), { instanceOf: InputError });
  t.regex(error.message, /layer entry "link".*user\.nope \(EPERM\)/);

  const { root } = await freshRoot(t);
  const result = await apply(root, entries, { unsupported: 'skip' });
  t.deepEqual(result.skipped.map(({ path, kind }) => ({ path, kind })), [{ path: 'link', kind: 'xattrs' }]);
  t.regex(result.skipped[0]?.reason ?? '', /user\.nope/);
  t.deepEqual(await getfattr(join(root, 'link')), { 'trusted.yes': hex('y') });
});

test("overlayfs's own xattrs are skipped and reported with unsupported: 'skip', the others applied", async (t) => {
  const { root } = await freshRoot(t);
  const result = await apply(
    root,
    [{ name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y', 'SCHILY.xattr.user.kept': 'k' } }],
    { unsupported: 'skip' },
  );
  t.deepEqual(result.skipped.map(({ path, kind }) => ({ path, kind })), [{ path: 'd', kind: 'xattrs' }]);
  t.regex(result.skipped[0]?.reason ?? '', /trusted\.overlay\.opaque/);
  t.deepEqual(await getfattr(join(root, 'd')), { 'user.kept': hex('k') });
});

/** Applies `entries` in a child process whose capability sets lack CAP_MKNOD, as kiln not run as root. */
async function applyWithoutMknod(root: string, entries: readonly FixtureEntry[], options: object): Promise<unknown> {
  const tar = `${root}.tar`;
  await writeFile(tar, await tarBytes(entries));
  const script = `
    const { createReadStream } = await import('node:fs');
    const { applyLayer } = await import(${JSON.stringify(new URL('./apply-layer.ts', import.meta.url).href)});
    try {
      const result = await applyLayer(${JSON.stringify(root)}, createReadStream(${JSON.stringify(tar)}), ${JSON.stringify(options)});
      console.log(JSON.stringify({ result }));
    } catch (error) {
      console.log(JSON.stringify({ error: { name: error.name, message: error.message } }));
    }`;
  const setpriv = ['--bounding-set', '-mknod', '--inh-caps', '-mknod'];
  const { stdout } = await run('setpriv', [...setpriv, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script]);
  return JSON.parse(stdout);
}

test("without CAP_MKNOD a device is refused by default, naming the entry, and skipped with unsupported: 'skip'", async (t) => {
  const entries: FixtureEntry[] = [
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 },
    // Neither needs CAP_MKNOD: a FIFO, and a character device 0:0 (Linux 5.8).
    { name: 'dev/fifo', type: 'fifo' },
    { name: 'dev/whiteout', type: 'character-device', devmajor: 0, devminor: 0 },
    { name: 'after', content: 'applied' },
  ];
  const refused = await freshRoot(t);
  t.like(await applyWithoutMknod(refused.root, entries, {}), {
    error: { name: 'InputError', message: 'layer entry "dev/null": cannot apply: character device 1:3 needs CAP_MKNOD, which kiln runs without (mknod(2): EPERM)' },
  });
  t.deepEqual(await listing(refused.root), ['dev']);
  t.deepEqual(await listing(join(refused.root, 'dev')), []);

  const { root } = await freshRoot(t);
  await mkdir(join(root, 'dev'));
  await writeFile(join(root, 'dev/sda'), 'lower file stays: a skipped entry changes nothing');
  const { result } = (await applyWithoutMknod(root, entries, { unsupported: 'skip' })) as { result: ApplyLayerResult };
  t.deepEqual(result.skipped.map(({ path, kind }) => ({ path, kind })), [
    { path: 'dev/null', kind: 'char' },
    { path: 'dev/sda', kind: 'block' },
  ]);
  t.like(result, { fifos: 1, devices: 1, files: 1 });
  t.deepEqual(await listing(join(root, 'dev')), ['fifo', 'sda', 'whiteout']);
  t.true((await lstat(join(root, 'dev/sda'))).isFile());
  t.is(await statType(join(root, 'dev/whiteout')), 'character special file 0:0');
  t.is(await readFile(join(root, 'after'), 'utf8'), 'applied');
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
