import test from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError } from '../../errors/index.ts';
import { copyFiles, type CopyRequest } from './copy-files.ts';
import { listTree, type TarEntry, tarBytes, type Workspace, workspace, writeTree } from './copy-fixture.ts';
import { isArchive } from './unpack-archive.ts';

/** An ADD of context files into the workspace's root. */
function add(ws: Workspace, request: Partial<CopyRequest> & Pick<CopyRequest, 'sources' | 'dest'>): Promise<void> {
  return copyFiles({
    source: { kind: 'context', dir: ws.context },
    destRoot: ws.root,
    excludes: [],
    parents: false,
    followSymlinks: true,
    unpack: true,
    ...request,
  });
}

const SAMPLE: readonly TarEntry[] = [
  { name: 'pkg/', type: 'directory', mode: 0o750, uid: 7, gid: 8 },
  { name: 'pkg/bin', content: 'binary', mode: 0o755, uid: 7, gid: 8 },
  { name: 'pkg/link', type: 'symlink', linkname: 'bin' },
];

const EXTRACTED = ['opt/ 0755 0:0', 'opt/pkg/ 0750 7:8', 'opt/pkg/bin 0755 7:8 "binary"', 'opt/pkg/link -> bin 0:0'];

/** `data` through a compression CLI (bzip2, xz, zstd as their packages install them). */
function compressWith(tool: string, data: Buffer): Buffer {
  return execFileSync(tool, ['-c'], { input: data, maxBuffer: 1 << 26 });
}

const FORMATS: ReadonlyArray<readonly [string, (tar: Buffer) => Buffer]> = [
  ['plain', (tar) => tar],
  ['gzip', (tar) => gzipSync(tar)],
  ['bzip2', (tar) => compressWith('bzip2', tar)],
  ['xz', (tar) => compressWith('xz', tar)],
  ['zstd', (tar) => compressWith('zstd', tar)],
];

for (const [format, encode] of FORMATS) {
  test(`ADD extracts a ${format} tar, told by its content, into the destination directory`, async (t) => {
    const ws = await workspace(t);
    // The name says nothing: the content decides.
    await writeFile(join(ws.context, 'payload.bin'), encode(await tarBytes(SAMPLE)));
    await add(ws, { sources: ['payload.bin'], dest: '/opt' });
    t.deepEqual(listTree(ws.root), EXTRACTED);
  });
}

test('ADD copies a file that is not an archive as a file, and so does COPY an archive', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'notes.tar.gz': 'not really gzip' });
  await writeFile(join(ws.context, 'real.tar'), await tarBytes(SAMPLE));
  await add(ws, { sources: ['notes.tar.gz'], dest: '/a/' });
  await add(ws, { sources: ['real.tar'], dest: '/c/', unpack: false });
  t.deepEqual(listTree(ws.root, { owners: false }).slice(0, 2), ['a/ 0755', 'a/notes.tar.gz 0644 "not really gzip"']);
  t.true(lstatSync(join(ws.root, 'c/real.tar')).isFile());
});

test('an empty tar (only its end blocks) is not an archive', async (t) => {
  const ws = await workspace(t);
  await writeFile(join(ws.context, 'empty.tar'), Buffer.alloc(1024));
  t.false(await isArchive(join(ws.context, 'empty.tar')));
  await writeFile(join(ws.context, 'one.tar'), await tarBytes(SAMPLE.slice(0, 1)));
  t.true(await isArchive(join(ws.context, 'one.tar')));
});

test('ADD --chown owns every extracted entry; the directory made above is owned likewise', async (t) => {
  const ws = await workspace(t);
  await writeFile(join(ws.context, 'p.tar'), await tarBytes(SAMPLE));
  await add(ws, { sources: ['p.tar'], dest: '/opt', owner: { uid: 1000, gid: 1000 } });
  t.deepEqual(listTree(ws.root), [
    'opt/ 0755 1000:1000',
    'opt/pkg/ 0750 1000:1000',
    'opt/pkg/bin 0755 1000:1000 "binary"',
    'opt/pkg/link -> bin 1000:1000',
  ]);
});

test('.wh. names in an ADD archive are ordinary files, not whiteouts', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.root, { 'opt/victim': 'still here' });
  await writeFile(
    join(ws.context, 'w.tar'),
    await tarBytes([
      { name: '.wh.victim', content: 'marker' },
      { name: '.wh..wh..opq', content: 'opaque marker' },
    ]),
  );
  await add(ws, { sources: ['w.tar'], dest: '/opt/' });
  t.deepEqual(listTree(ws.root, { owners: false }), [
    'opt/ 0755',
    'opt/.wh..wh..opq 0644 "opaque marker"',
    'opt/.wh.victim 0644 "marker"',
    'opt/victim 0644 "still here"',
  ]);
});

/** Where a breakout would land on the host. */
function unique(prefix: string): string {
  return `/tmp/${prefix}-kiln-${randomBytes(6).toString('hex')}`;
}

async function hostileAdd(ws: Workspace, entries: readonly TarEntry[]): Promise<void> {
  await writeFile(join(ws.context, 'h.tar'), await tarBytes(entries));
  await add(ws, { sources: ['h.tar'], dest: '/x/' });
}

test('an archive entry climbing with .. is refused, naming it, and nothing is written outside', async (t) => {
  const ws = await workspace(t);
  const error = await t.throwsAsync(hostileAdd(ws, [{ name: '../../evil', content: 'evil' }]), { instanceOf: InputError });
  t.regex(error.message, /\.\.\/\.\.\/evil/);
  t.deepEqual((await readdir(ws.parent)).sort(), ['context', 'root']);
});

test('an absolute archive entry lands inside the destination', async (t) => {
  const ws = await workspace(t);
  const host = unique('abs');
  await hostileAdd(ws, [{ name: host, content: 'inside' }]);
  t.false(existsSync(host));
  t.is(readFileSync(join(ws.root, 'x', host), 'utf8'), 'inside');
});

test('a file written through an archive symlink to / lands inside the destination', async (t) => {
  const ws = await workspace(t);
  const host = unique('via-link');
  await hostileAdd(ws, [
    { name: 'root', type: 'symlink', linkname: '/' },
    { name: `root${host}`, content: 'inside' },
  ]);
  t.false(existsSync(host));
  t.is(readFileSync(join(ws.root, 'x', host), 'utf8'), 'inside');
});

test('a symlinked parent directory pointing out of the destination is resolved inside it', async (t) => {
  const ws = await workspace(t);
  const host = unique('parent');
  await hostileAdd(ws, [
    { name: 'd', type: 'symlink', linkname: `../../../..${host}` },
    { name: 'd/file', content: 'inside' },
  ]);
  t.false(existsSync(host));
  t.is(readFileSync(join(ws.root, 'x', host, 'file'), 'utf8'), 'inside');
});

test('a hard link whose target climbs out of the destination is refused', async (t) => {
  const ws = await workspace(t);
  const victim = join(ws.parent, 'victim');
  await writeFile(victim, 'untouched');
  await t.throwsAsync(hostileAdd(ws, [{ name: 'h', type: 'link', linkname: '../../victim' }]), { instanceOf: InputError });
  t.is(lstatSync(victim).nlink, 1);
  await t.throwsAsync(hostileAdd(ws, [{ name: 'h', type: 'link', linkname: victim }]), { instanceOf: InputError });
  t.is(lstatSync(victim).nlink, 1);
});

test('a device node in an archive is made inside the destination', async (t) => {
  const ws = await workspace(t);
  await hostileAdd(ws, [{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }]);
  const stats = lstatSync(join(ws.root, 'x/dev/null'));
  t.true(stats.isCharacterDevice());
  t.is(stats.rdev, lstatSync('/dev/null').rdev);
});
