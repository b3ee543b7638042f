import test from 'ava';
import { lstatSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf } from '../../content/index.ts';
import { openStatCache, RACY_NS } from './stat-cache.ts';

async function scratch(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-statcache-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const LATER = (): bigint => BigInt(Date.now() + 60_000) * 1_000_000n;

test('an entry is found while size, times, inode and device match, and lost when one changes', async (t) => {
  const dir = await scratch(t);
  const file = join(dir, 'f');
  await writeFile(file, 'one');
  const cache = await openStatCache(join(dir, 'cache.json'), { now: LATER });
  const stats = lstatSync(file, { bigint: true });
  cache.record(file, stats, digestOf('one'));
  t.is(cache.lookup(file, stats), digestOf('one'));
  t.is(cache.lookup(file, { ...stats, size: stats.size + 1n } as typeof stats), undefined);
  t.is(cache.lookup(file, { ...stats, mtimeNs: stats.mtimeNs + 1n } as typeof stats), undefined);
  t.is(cache.lookup(file, { ...stats, ctimeNs: stats.ctimeNs + 1n } as typeof stats), undefined);
  t.is(cache.lookup(file, { ...stats, ino: stats.ino + 1n } as typeof stats), undefined);
  t.is(cache.lookup(join(dir, 'other'), stats), undefined);
});

test('an entry read within the racy window of its last change is not kept', async (t) => {
  const dir = await scratch(t);
  const file = join(dir, 'f');
  await writeFile(file, 'one');
  const stats = lstatSync(file, { bigint: true });
  const cache = await openStatCache(join(dir, 'cache.json'));
  cache.record(file, stats, digestOf('one'), stats.ctimeNs + RACY_NS + 1n);
  t.is(cache.lookup(file, stats), digestOf('one'));
  // Read again within the window (the file was rewritten in the same tick): forgotten.
  cache.record(file, stats, digestOf('two'), stats.ctimeNs + RACY_NS);
  t.is(cache.lookup(file, stats), undefined);
  t.is(cache.size, 0);
});

test('save writes the entries atomically and a reopened cache has them', async (t) => {
  const dir = await scratch(t);
  const path = join(dir, 'sub/cache.json');
  const file = join(dir, 'f');
  await writeFile(file, 'one');
  const stats = lstatSync(file, { bigint: true });
  const cache = await openStatCache(path, { now: LATER });
  cache.record(file, stats, digestOf('one'));
  await cache.save();
  t.deepEqual(await readdir(join(dir, 'sub')), ['cache.json']);
  const reopened = await openStatCache(path, { now: LATER });
  t.is(reopened.lookup(file, stats), digestOf('one'));
});

test('a missing or malformed cache file, or another schema, opens an empty cache; malformed rows are dropped', async (t) => {
  const dir = await scratch(t);
  t.is((await openStatCache(join(dir, 'absent.json'))).size, 0);
  await writeFile(join(dir, 'bad.json'), '{"schema": "kiln.contenthash.statcache.v1", "entries": [["p", "x"]');
  t.is((await openStatCache(join(dir, 'bad.json'))).size, 0);
  const rows = [['p', '1:2:3:4:5', 'nope'], 'junk', ['q', '1:2:3:4:5', digestOf('q')]];
  await writeFile(join(dir, 'rows.json'), JSON.stringify({ schema: 'kiln.contenthash.statcache.v1', entries: rows }));
  t.is((await openStatCache(join(dir, 'rows.json'))).size, 1);
  await writeFile(join(dir, 'old.json'), JSON.stringify({ schema: 'kiln.contenthash.statcache.v0', entries: rows }));
  t.is((await openStatCache(join(dir, 'old.json'))).size, 0);
});

test('past its limit the cache keeps the entries used since it was opened', async (t) => {
  const dir = await scratch(t);
  const path = join(dir, 'cache.json');
  const files = ['a', 'b', 'c'].map((name) => join(dir, name));
  for (const file of files) await writeFile(file, file);
  const first = await openStatCache(path, { now: LATER });
  for (const file of files) first.record(file, lstatSync(file, { bigint: true }), digestOf(file));
  await first.save();
  const second = await openStatCache(path, { now: LATER, maxEntries: 2 });
  const [a, , c] = files as [string, string, string];
  t.truthy(second.lookup(a, lstatSync(a, { bigint: true })));
  await writeFile(c, 'changed!');
  second.record(c, lstatSync(c, { bigint: true }), digestOf('changed!'));
  await second.save();
  const saved = JSON.parse(await readFile(path, 'utf8')) as { entries: string[][] };
  t.deepEqual(saved.entries.map((row) => row[0]).sort(), [a, c]);
});
