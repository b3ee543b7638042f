import test, { type ExecutionContext } from 'ava';
import { chmod, lchown, link, lstat, mkdir, mkdtemp, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Digest } from '../../content/index.ts';
import { NotFoundError } from '../../errors/index.ts';
import { lsetxattr } from '../../native/index.ts';
import { checksumSources, type ChecksumRequest } from './checksum-sources.ts';
import { type ContentReader, fileContentReader } from './content-reader.ts';
import { ContextFilter } from './context-filter.ts';
import { openStatCache } from './stat-cache.ts';

/** A fresh directory holding `files` (a string is a file's content), removed after the test. */
async function tree(t: ExecutionContext, files: Readonly<Record<string, string>> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-contenthash-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

function digest(dir: string, request: Partial<ChecksumRequest> & Pick<ChecksumRequest, 'sources'>): Promise<Digest> {
  return checksumSources({
    source: { kind: 'context', dir },
    excludes: [],
    parents: false,
    followSymlinks: true,
    ...request,
  });
}

/** A reader that counts the files it reads. */
function countingReader(): ContentReader & { readonly paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    digest(path, size, signal) {
      paths.push(path);
      return fileContentReader.digest(path, size, signal);
    },
  };
}

const FILES = { 'src/a.ts': 'a', 'src/lib/b.ts': 'b', 'README.md': 'readme' };

test('the same files give the same digest wherever the context is', async (t) => {
  const one = await tree(t, FILES);
  const two = await tree(t, FILES);
  t.is(await digest(one, { sources: ['src'] }), await digest(two, { sources: ['src'] }));
  t.regex(await digest(one, { sources: ['src'] }), /^sha256:[0-9a-f]{64}$/);
});

test('content, mode, names and symlink targets change the digest; mtimes do not', async (t) => {
  const dir = await tree(t, { ...FILES, 'src/link': '' });
  await unlink(join(dir, 'src/link'));
  await symlink('a.ts', join(dir, 'src/link'));
  const base = await digest(dir, { sources: ['src'] });
  await utimes(join(dir, 'src/a.ts'), 1_000_000, 1_000_000);
  t.is(await digest(dir, { sources: ['src'] }), base, 'mtime');
  await writeFile(join(dir, 'src/a.ts'), 'A');
  const content = await digest(dir, { sources: ['src'] });
  t.not(content, base, 'content');
  await chmod(join(dir, 'src/a.ts'), 0o755);
  const mode = await digest(dir, { sources: ['src'] });
  t.not(mode, content, 'mode');
  await unlink(join(dir, 'src/link'));
  await symlink('lib', join(dir, 'src/link'));
  const target = await digest(dir, { sources: ['src'] });
  t.not(target, mode, 'symlink target');
  await writeFile(join(dir, 'src/lib/c.ts'), 'b');
  await unlink(join(dir, 'src/lib/b.ts'));
  t.not(await digest(dir, { sources: ['src'] }), target, 'name');
});

test('only the selected files count', async (t) => {
  const dir = await tree(t, FILES);
  const base = await digest(dir, { sources: ['src/a.ts'] });
  await writeFile(join(dir, 'README.md'), 'changed');
  await writeFile(join(dir, 'src/lib/b.ts'), 'changed');
  t.is(await digest(dir, { sources: ['src/a.ts'] }), base);
});

test('files the .dockerignore or --exclude leave out do not count', async (t) => {
  const dir = await tree(t, { ...FILES, 'src/a.test.ts': 't', 'src/.env': 'secret' });
  const ignore = new ContextFilter(['**/.env']);
  const request = { sources: ['src'], excludes: ['*.test.ts'], source: { kind: 'context' as const, dir, ignore } };
  const base = await digest(dir, request);
  await writeFile(join(dir, 'src/a.test.ts'), 'changed');
  await writeFile(join(dir, 'src/.env'), 'changed');
  t.is(await digest(dir, request), base);
  await writeFile(join(dir, 'src/a.ts'), 'changed');
  t.not(await digest(dir, request), base);
});

test('owners count only for a stage source without --chown', async (t) => {
  const dir = await tree(t, FILES);
  const context = await digest(dir, { sources: ['src'] });
  const stage = await digest(dir, { sources: ['src'], source: { kind: 'rootfs', dir } });
  const chowned = await digest(dir, { sources: ['src'], source: { kind: 'rootfs', dir }, owner: '1000' });
  await lchown(join(dir, 'src/a.ts'), 1234, 1234);
  t.is(await digest(dir, { sources: ['src'] }), context);
  t.not(await digest(dir, { sources: ['src'], source: { kind: 'rootfs', dir } }), stage);
  t.is(await digest(dir, { sources: ['src'], source: { kind: 'rootfs', dir }, owner: '1000' }), chowned);
});

test('extended attributes and hard links count', async (t) => {
  const dir = await tree(t, { 'd/a': 'same', 'd/b': 'same' });
  const separate = await digest(dir, { sources: ['d'] });
  await unlink(join(dir, 'd/b'));
  await link(join(dir, 'd/a'), join(dir, 'd/b'));
  const linked = await digest(dir, { sources: ['d'] });
  t.not(linked, separate);
  lsetxattr(join(dir, 'd/a'), 'user.kiln', Buffer.from('x'));
  t.not(await digest(dir, { sources: ['d'] }), linked);
});

test('a wildcard selecting nothing has a digest, and a new match changes it', async (t) => {
  const dir = await tree(t, FILES);
  const none = await digest(dir, { sources: ['*.go'] });
  t.is(await digest(dir, { sources: ['*.go'] }), none);
  await writeFile(join(dir, 'main.go'), 'package main');
  t.not(await digest(dir, { sources: ['*.go'] }), none);
});

test('a missing or ignored source fails as the copy would', async (t) => {
  const dir = await tree(t, FILES);
  await t.throwsAsync(digest(dir, { sources: ['missing.txt'] }), { instanceOf: NotFoundError, message: /not found/ });
  const ignore = new ContextFilter(['README.md']);
  await t.throwsAsync(digest(dir, { sources: ['README.md'], source: { kind: 'context', dir, ignore } }), {
    instanceOf: NotFoundError,
    message: /excluded by/,
  });
});

test('with a stat cache, hashing an unchanged tree again reads no file; a changed one is read again', async (t) => {
  const dir = await tree(t, FILES);
  const store = await tree(t);
  // A clock far ahead: every file has long settled (see the racy test below).
  const now = (): bigint => BigInt(Date.now() + 3_600_000) * 1_000_000n;
  const cache = await openStatCache(join(store, 'stat-cache.json'), { now });
  const cold = countingReader();
  const first = await digest(dir, { sources: ['.'], statCache: cache, reader: cold });
  t.is(cold.paths.length, 3);
  await cache.save();

  const reopened = await openStatCache(join(store, 'stat-cache.json'), { now });
  // Three files and three directories (the root, src, src/lib): their xattrs are cached too.
  t.is(reopened.size, 6);
  const warm = countingReader();
  t.is(await digest(dir, { sources: ['.'], statCache: reopened, reader: warm }), first);
  t.deepEqual(warm.paths, []);

  await utimes(join(dir, 'src/a.ts'), 1_000_000, 1_000_000);
  const touched = countingReader();
  t.is(await digest(dir, { sources: ['.'], statCache: reopened, reader: touched }), first);
  t.deepEqual(touched.paths, [join(dir, 'src/a.ts')]);
});

test('a file changed just before it was hashed is read again next time (racy entry)', async (t) => {
  const dir = await tree(t, { 'f': 'content' });
  const store = await tree(t);
  // Read a millisecond after the file last changed: within one tick of the file-time clock.
  const changed = (await lstat(join(dir, 'f'), { bigint: true })).ctimeNs;
  const cache = await openStatCache(join(store, 'cache.json'), { now: () => changed + 1_000_000n });
  await digest(dir, { sources: ['f'], statCache: cache, reader: countingReader() });
  const again = countingReader();
  await digest(dir, { sources: ['f'], statCache: cache, reader: again });
  t.deepEqual(again.paths, [join(dir, 'f')]);
});

test('an aborted signal stops the checksum', async (t) => {
  const dir = await tree(t, FILES);
  const controller = new AbortController();
  controller.abort(new Error('stopped'));
  await t.throwsAsync(digest(dir, { sources: ['.'], signal: controller.signal }), { message: 'stopped' });
});
