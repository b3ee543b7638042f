import test, { type ExecutionContext } from 'ava';
import { chmod, lchown, link, lstat, mkdir, mkdtemp, readdir, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import type { Digest } from '../../content/index.ts';
import { NotFoundError } from '../../errors/index.ts';
import { lsetxattr } from '../../native/index.ts';
import { checksumSources, type ChecksumRequest } from './checksum-sources.ts';
import { type ContentReader, fileContentReader, poolingContentReader } from './content-reader.ts';
import { HashWorkers } from './hash-workers.ts';
import { ContextFilter } from './context-filter.ts';
import { openStatCache, type StatCache } from './stat-cache.ts';

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

/** The digests of the fixed tree below, as kiln.contenthash.v1 has given them since it began. */
const GOLDEN = {
  context: 'sha256:743ac4396b3014c441d0b9b2449c626985397621cc9953beaccf4b75ad3dff80' as Digest,
  rootfs: 'sha256:92443ae45b210f5c09c74e6f52bc4bc5e98fb9777b210f08acb3227bd2939a69' as Digest,
  selection: 'sha256:2d080d00b6af1692db9008a35e9ad64bc822b09f393e47098900a9a0c51b9904' as Digest,
};

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
  // The three files: a directory's extended attributes are read each time.
  t.is(reopened.size, 3);
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

test('the digest of a fixed tree is the one kiln has always given it (cache keys survive upgrades)', async (t) => {
  // Every kind of record: directories (one empty), files with odd names and modes, a hard
  // link, a symlink, an extended attribute; and owners, for a stage source.
  const dir = await tree(t, {
    'app/main.go': 'package main\n',
    'app/quote"and\\back\nslash é.txt': 'odd name',
    'app/sub/big.bin': 'x'.repeat(70_000),
    'app/sub/linked': 'shared',
  });
  await mkdir(join(dir, 'app/empty'));
  await link(join(dir, 'app/sub/linked'), join(dir, 'app/sub/second'));
  await symlink('../main.go', join(dir, 'app/sub/to-main'));
  lsetxattr(join(dir, 'app/main.go'), 'user.kiln.golden', Buffer.from('attr'));
  const modes: Record<string, number> = {
    'app': 0o755,
    'app/empty': 0o700,
    'app/sub': 0o2775,
    'app/main.go': 0o644,
    'app/quote"and\\back\nslash é.txt': 0o4755,
    'app/sub/big.bin': 0o600,
    'app/sub/linked': 0o640,
  };
  for (const [path, mode] of Object.entries(modes)) {
    await chmod(join(dir, path), mode);
    await lchown(join(dir, path), 1000, 100);
  }
  await lchown(join(dir, 'app/sub/to-main'), 7, 8);
  t.is(await digest(dir, { sources: ['app'] }), GOLDEN.context);
  t.is(await digest(dir, { sources: ['app'], source: { kind: 'rootfs', dir } }), GOLDEN.rootfs);
  t.is(await digest(dir, { sources: ['app/*.go', 'app/sub'], excludes: ['big.bin'] }), GOLDEN.selection);
  // Read on worker threads, in whatever order they answer: the same.
  const workers = new HashWorkers(2);
  t.teardown(() => workers.close());
  t.is(await digest(dir, { sources: ['app'], reader: poolingContentReader({ workers, inlineFiles: 0 }) }), GOLDEN.context);
  // Through the stat cache and its listing memo: hashed, remembered, and given back the same.
  const store = await tree(t);
  const now = (): bigint => BigInt(Date.now() + 3_600_000) * 1_000_000n;
  const cache = await openStatCache(join(store, 'stat.bin'), { now });
  t.is(await digest(dir, { sources: ['app'], statCache: cache }), GOLDEN.context);
  await cache.save();
  const reopened = await openStatCache(join(store, 'stat.bin'), { now });
  t.is(await digest(dir, { sources: ['app'], statCache: reopened }), GOLDEN.context);
  // app/sub holds a hard link: it is walked each time, the others are given back whole.
  t.is(reopened.listings?.size, 2);
});

/** `cache`, counting the entries looked up in it. */
function countingCache(cache: StatCache): StatCache & { readonly lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    lookup: (path, stats) => {
      lookups.push(path);
      return cache.lookup(path, stats);
    },
    record: (path, stats, detail, readAt) => cache.record(path, stats, detail, readAt),
    now: () => cache.now(),
    save: () => cache.save(),
    get size() {
      return cache.size;
    },
    ...(cache.listings === undefined ? {} : { listings: cache.listings }),
  };
}

test('with the listing memo, an unchanged context is hashed again without looking up an entry, and every change is seen', async (t) => {
  // Files before, between and after directories, an empty directory, an ignored file.
  const dir = await tree(t, {
    'a.txt': 'a',
    'b/x': 'x',
    'b/y/z': 'z',
    'b/y2': 'y2',
    'c.txt': 'c',
    'e.txt': 'e',
    'ignored.log': 'log',
  });
  await mkdir(join(dir, 'd'));
  const store = await tree(t);
  const now = (): bigint => BigInt(Date.now() + 3_600_000) * 1_000_000n;
  const file = join(store, 'stat.bin');
  const ignore = new ContextFilter(['*.log']);
  const source = { kind: 'context' as const, dir, ignore };
  /** The digest through a stat cache reopened from its file, and how many entries it looked up (each once or more). */
  const remembered = async (request: Partial<ChecksumRequest> = {}): Promise<{ digest: Digest; lookups: number }> => {
    const cache = countingCache(await openStatCache(file, { now }));
    const result = await digest(dir, { sources: ['.'], source, statCache: cache, ...request });
    await cache.save();
    return { digest: result, lookups: new Set(cache.lookups).size };
  };
  const fresh = (request: Partial<ChecksumRequest> = {}): Promise<Digest> => digest(dir, { sources: ['.'], source, ...request });

  const cold = await remembered();
  t.is(cold.digest, await fresh());
  // Every file read: nothing remembered yet. The next checksum finds all six files in the stat
  // cache, and remembers their directories; the one after looks up nothing.
  t.is(cold.lookups, 6);
  t.deepEqual(await remembered(), { digest: cold.digest, lookups: 6 });
  t.deepEqual(await remembered(), { digest: cold.digest, lookups: 0 });

  await writeFile(join(dir, 'b/y/z'), 'Z');
  const changed = await remembered();
  t.not(changed.digest, cold.digest);
  t.is(changed.digest, await fresh());
  // Only b/y's entry was looked up: its listing changed. Read again, it is remembered by the
  // next checksum, which finds it in the stat cache.
  t.is(changed.lookups, 1);
  t.deepEqual(await remembered(), { digest: changed.digest, lookups: 1 });
  t.deepEqual(await remembered(), { digest: changed.digest, lookups: 0 });

  await writeFile(join(dir, 'b/new'), 'new');
  await rm(join(dir, 'd'), { recursive: true });
  await writeFile(join(dir, 'ignored.log'), 'still ignored');
  const added = await remembered();
  t.is(added.digest, await fresh());
  // b is walked again once (its new file now in the stat cache), then remembered.
  t.deepEqual(await remembered(), { digest: added.digest, lookups: 3 });
  t.deepEqual(await remembered(), { digest: added.digest, lookups: 0 });

  // Other ignore rules, another selection below the root: other records, not the remembered ones.
  const other = { kind: 'context' as const, dir, ignore: new ContextFilter(['*.txt']) };
  t.is((await remembered({ source: other })).digest, await fresh({ source: other }));
  t.is((await remembered({ sources: ['b'] })).digest, await fresh({ sources: ['b'] }));
  t.deepEqual(await remembered({ sources: ['b'] }), { digest: await fresh({ sources: ['b'] }), lookups: 0 });
  // With --exclude the walk does not ask the memo: every entry is looked up.
  const excluded = await remembered({ excludes: ['b/x'] });
  t.is(excluded.digest, await fresh({ excludes: ['b/x'] }));
  t.true(excluded.lookups > 0);
  t.is((await remembered()).digest, added.digest);
});

test('a directory holding a file changed in the tick it was read is not remembered: it is walked, and the file read, again', async (t) => {
  const dir = await tree(t, { 'sub/f': 'content', 'sub/g': 'other' });
  const store = await tree(t);
  const changed = (await lstat(join(dir, 'sub/f'), { bigint: true })).ctimeNs;
  const cache = await openStatCache(join(store, 'stat.bin'), { now: () => changed + 1_000_000n });
  const first = await digest(dir, { sources: ['.'], statCache: cache, reader: countingReader() });
  const again = countingReader();
  t.is(await digest(dir, { sources: ['.'], statCache: cache, reader: again }), first);
  t.true(again.paths.includes(join(dir, 'sub/f')));
});

/** A tree of `count` files in directories of 50, with a hard link, a symlink and an attribute. */
async function wideTree(t: ExecutionContext, count: number): Promise<string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[`d${Math.floor(i / 50)}/f${i}`] = `content ${i} `.repeat(i % 40);
  const dir = await tree(t, files);
  await link(join(dir, 'd0/f1'), join(dir, 'd1/linked'));
  await symlink('../d0/f2', join(dir, 'd1/to-f2'));
  lsetxattr(join(dir, 'd0/f3'), 'user.kiln.wide', Buffer.from('w'));
  return dir;
}

test('reading on worker threads and in order gives the same digest, stat cache and reports as reading inline', async (t) => {
  const dir = await wideTree(t, 1_500);
  const store = await tree(t);
  const workers = new HashWorkers(2);
  t.teardown(() => workers.close());
  const now = (): bigint => BigInt(Date.now() + 3_600_000) * 1_000_000n;
  const inlineCache = await openStatCache(join(store, 'inline'), { now });
  const pooledCache = await openStatCache(join(store, 'pooled'), { now });
  const inlineReports: string[] = [];
  const pooledReports: string[] = [];
  const inline = await digest(dir, { sources: ['.'], reader: fileContentReader, statCache: inlineCache, onRehash: (p) => inlineReports.push(p) });
  const pooled = await digest(dir, {
    sources: ['.'],
    reader: poolingContentReader({ workers, inlineFiles: 10 }),
    statCache: pooledCache,
    onRehash: (p) => pooledReports.push(p),
  });
  t.is(pooled, inline);
  t.deepEqual(pooledReports, inlineReports);
  t.is(pooledCache.size, inlineCache.size);
  // The pooled run's cache serves a warm run that reads nothing.
  const warm = countingReader();
  t.is(await digest(dir, { sources: ['.'], reader: warm, statCache: pooledCache }), inline);
  t.deepEqual(warm.paths, []);
});

test('a read that fails while others are in flight fails the checksum with its error', async (t) => {
  const dir = await wideTree(t, 600);
  const reader: ContentReader = {
    async digest(path, size, signal) {
      await nextTurn();
      if (path.endsWith('/d5/f275')) throw Object.assign(new Error(`EIO: i/o error, read '${path}'`), { code: 'EIO' });
      return fileContentReader.digest(path, size, signal);
    },
  };
  await t.throwsAsync(digest(dir, { sources: ['.'], reader }), { message: /EIO.*d5\/f275/ });
});

test('with a warm stat cache and a few files read again, late in any order, the records still hash in walk order', async (t) => {
  const dir = await wideTree(t, 1_200);
  const store = await tree(t);
  const now = (): bigint => BigInt(Date.now() + 3_600_000) * 1_000_000n;
  const expected = await digest(dir, { sources: ['.'], reader: fileContentReader });
  const cache = await openStatCache(join(store, 'stat-cache'), { now });
  t.is(await digest(dir, { sources: ['.'], reader: fileContentReader, statCache: cache }), expected);
  // A few files scattered through the walk are touched: read again, each answered after a
  // delay of its own, while the walk goes on with the entries the cache knows.
  const names = (await readdir(dir, { recursive: true })).filter((name) => /^d\d+\/f\d+$/.test(name)).sort();
  for (const [index, name] of names.entries()) if (index % 97 === 5) await utimes(join(dir, name), 2_000_000 + index, 2_000_000 + index);
  let reads = 0;
  const late: ContentReader = {
    async digest(path, size, signal) {
      reads++;
      await new Promise((resolve) => setTimeout(resolve, (reads * 7) % 13));
      return fileContentReader.digest(path, size, signal);
    },
  };
  t.is(await digest(dir, { sources: ['.'], reader: late, statCache: cache }), expected);
  t.is(reads, names.filter((_, index) => index % 97 === 5).length);
});
