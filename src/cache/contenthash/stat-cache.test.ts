import test from 'ava';
import { lstatSync } from 'node:fs';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf } from '../../content/index.ts';
import { openStatCache, RACY_NS, type StatCache } from './stat-cache.ts';

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

test('a missing, foreign, truncated or damaged cache file opens an empty cache', async (t) => {
  const dir = await scratch(t);
  const path = join(dir, 'cache');
  const file = join(dir, 'f');
  await writeFile(file, 'one');
  const stats = lstatSync(file, { bigint: true });
  t.is((await openStatCache(join(dir, 'absent'))).size, 0);
  const cache = await openStatCache(path, { now: LATER });
  cache.record(file, stats, digestOf('one'));
  await cache.save();
  const good = await readFile(path);
  t.is((await openStatCache(path, { now: LATER })).size, 1);
  // The JSON of the first layout, a truncated file, one flipped bit in a digest or a path.
  const variants: Buffer[] = [
    Buffer.from(JSON.stringify({ schema: 'kiln.contenthash.statcache.v1', entries: [[file, '1:2:3:4:5', digestOf('one')]] })),
    good.subarray(0, good.length - 1),
  ];
  for (const at of [48, 56 + 40, good.length - 2]) {
    const flipped = Buffer.from(good);
    flipped[at] = (flipped[at] as number) ^ 1;
    variants.push(flipped);
  }
  for (const [index, bytes] of variants.entries()) {
    await writeFile(path, bytes);
    const reopened = await openStatCache(path, { now: LATER });
    t.is(reopened.size, 0, `variant ${index}`);
    t.is(reopened.lookup(file, stats), undefined, `variant ${index}`);
  }
});

test('entries recorded, replaced and forgotten since opening are saved with the loaded ones', async (t) => {
  const dir = await scratch(t);
  const path = join(dir, 'cache');
  const names = ['a', 'b', 'c', 'd', 'é ü/ä'];
  const files = names.map((name) => join(dir, name.replace('/', '_')));
  for (const file of files) await writeFile(file, file);
  const stat = (file: string) => lstatSync(file, { bigint: true });
  const first = await openStatCache(path, { now: LATER });
  for (const file of files) first.record(file, stat(file), digestOf(file));
  await first.save();
  const [a, b, c, d, e] = files as [string, string, string, string, string];
  const second = await openStatCache(path, { now: LATER });
  t.is(second.size, 5);
  second.record(b, stat(b), digestOf('b again'));
  // Read within the racy window: forgotten.
  second.record(c, stat(c), digestOf(c), stat(c).ctimeNs);
  await writeFile(d, 'changed');
  second.record(d, stat(d), digestOf('changed'));
  await second.save();
  const third = await openStatCache(path, { now: LATER });
  t.is(third.size, 4);
  t.is(third.lookup(a, stat(a)), digestOf(a));
  t.is(third.lookup(b, stat(b)), digestOf('b again'));
  t.is(third.lookup(c, stat(c)), undefined);
  t.is(third.lookup(d, stat(d)), digestOf('changed'));
  t.is(third.lookup(e, stat(e)), digestOf(e));
});

test('a cache with nothing recorded since opening does not write its file', async (t) => {
  const dir = await scratch(t);
  const path = join(dir, 'cache');
  const file = join(dir, 'f');
  await writeFile(file, 'one');
  const first = await openStatCache(path, { now: LATER });
  first.record(file, lstatSync(file, { bigint: true }), digestOf('one'));
  await first.save();
  const written = lstatSync(path, { bigint: true });
  const second = await openStatCache(path, { now: LATER });
  t.truthy(second.lookup(file, lstatSync(file, { bigint: true })));
  second.record(file, lstatSync(file, { bigint: true }), digestOf('one'));
  await second.save();
  t.is(lstatSync(path, { bigint: true }).ino, written.ino);
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
  const [a, b, c] = files as [string, string, string];
  t.truthy(second.lookup(a, lstatSync(a, { bigint: true })));
  await writeFile(c, 'changed!');
  second.record(c, lstatSync(c, { bigint: true }), digestOf('changed!'));
  await second.save();
  const third = await openStatCache(path, { now: LATER });
  t.is(third.size, 2);
  t.is(third.lookup(a, lstatSync(a, { bigint: true })), digestOf(a));
  t.is(third.lookup(b, lstatSync(b, { bigint: true })), undefined);
  t.is(third.lookup(c, lstatSync(c, { bigint: true })), digestOf('changed!'));
});

test('thousands of entries recorded, some replaced, are found before and after a save', async (t) => {
  const dir = await scratch(t);
  const file = join(dir, 'f');
  await writeFile(file, 'x');
  const base = lstatSync(file, { bigint: true });
  // Made-up signatures: one path per inode, sizes differing, past the columns' first growth.
  const statsOf = (i: number) => ({ ...base, ino: base.ino + BigInt(i), size: BigInt(i) }) as typeof base;
  const cache = await openStatCache(join(dir, 'cache.bin'), { now: LATER });
  for (let i = 0; i < 3000; i++) cache.record(`/ctx/${i}`, statsOf(i), digestOf(`content ${i}`));
  for (let i = 0; i < 3000; i += 7) cache.record(`/ctx/${i}`, { ...statsOf(i), size: 10_000n + BigInt(i) } as typeof base, digestOf(`changed ${i}`));
  const check = (c: typeof cache, where: string): void => {
    for (let i = 0; i < 3000; i++) {
      const replaced = i % 7 === 0;
      const stats = replaced ? ({ ...statsOf(i), size: 10_000n + BigInt(i) } as typeof base) : statsOf(i);
      if (c.lookup(`/ctx/${i}`, stats) !== digestOf(replaced ? `changed ${i}` : `content ${i}`)) {
        t.fail(`${where}: /ctx/${i}`);
        return;
      }
      if (replaced && c.lookup(`/ctx/${i}`, statsOf(i)) !== undefined) t.fail(`${where}: /ctx/${i} kept its old signature`);
    }
    t.is(c.size, 3000, where);
  };
  check(cache, 'before saving');
  await cache.save();
  check(await openStatCache(join(dir, 'cache.bin'), { now: LATER }), 'reopened');
});

/** Files `names` made in `dir`, each recorded in `cache` with its own digest. */
async function recordFiles(dir: string, cache: StatCache, names: readonly string[]): Promise<string[]> {
  const files = names.map((name) => join(dir, name));
  for (const file of files) {
    await writeFile(file, file);
    cache.record(file, lstatSync(file, { bigint: true }), digestOf(file));
  }
  return files;
}

test('a save of a few changes appends them to the file; a reopened cache replays them over the entries before', async (t) => {
  const dir = await scratch(t);
  const path = join(dir, 'cache');
  const stat = (file: string) => lstatSync(file, { bigint: true });
  const first = await openStatCache(path, { now: LATER });
  const files = await recordFiles(dir, first, Array.from({ length: 50 }, (_, i) => `f${i}`));
  await first.save();
  const whole = stat(path);

  const second = await openStatCache(path, { now: LATER });
  await writeFile(files[3]!, 'changed');
  second.record(files[3]!, stat(files[3]!), digestOf('changed'));
  // Read within the racy window: dropped, which the delta says with a tombstone.
  second.record(files[7]!, stat(files[7]!), digestOf('seven'), stat(files[7]!).ctimeNs);
  const [added] = await recordFiles(dir, second, ['new']);
  await second.save();
  const appended = stat(path);
  t.is(appended.ino, whole.ino, 'the same file, not a new one renamed over it');
  t.true(appended.size > whole.size && appended.size < whole.size + 1024n, `${whole.size} -> ${appended.size} bytes`);

  const third = await openStatCache(path, { now: LATER });
  t.is(third.size, 50);
  t.is(third.lookup(files[3]!, stat(files[3]!)), digestOf('changed'));
  t.is(third.lookup(files[7]!, stat(files[7]!)), undefined);
  t.is(third.lookup(added!, stat(added!)), digestOf(added!));
  t.is(third.lookup(files[0]!, stat(files[0]!)), digestOf(files[0]!));
  // A delta's entry replaced again, and saved again: the last one wins.
  third.record(files[3]!, stat(files[3]!), digestOf('changed twice'));
  await third.save();
  const fourth = await openStatCache(path, { now: LATER });
  t.is(fourth.lookup(files[3]!, stat(files[3]!)), digestOf('changed twice'));
  t.is(fourth.size, 50);
});

test('past an eighth of the entries (and 1,024) appended, a save writes the file whole again', async (t) => {
  const dir = await scratch(t);
  const path = join(dir, 'cache');
  const first = await openStatCache(path, { now: LATER });
  await recordFiles(dir, first, Array.from({ length: 100 }, (_, i) => `f${i}`));
  await first.save();
  const before = lstatSync(path, { bigint: true });
  const second = await openStatCache(path, { now: LATER });
  const many = await recordFiles(dir, second, Array.from({ length: 1_100 }, (_, i) => `g${i}`));
  await second.save();
  // 1,100 changes to 100 entries: written whole, a new file renamed over the old.
  t.not(lstatSync(path, { bigint: true }).ino, before.ino);
  const third = await openStatCache(path, { now: LATER });
  t.is(third.size, 1_200);
  const written = lstatSync(path, { bigint: true });
  await writeFile(many[0]!, 'changed');
  third.record(many[0]!, lstatSync(many[0]!, { bigint: true }), digestOf('changed'));
  await third.save();
  t.is(lstatSync(path, { bigint: true }).ino, written.ino, 'one change to a whole file is appended');
  t.is((await openStatCache(path, { now: LATER })).lookup(many[0]!, lstatSync(many[0]!, { bigint: true })), digestOf('changed'));
});

test('a file with a torn tail keeps what came before it, and the next save writes it whole; a file removed since opening is written whole', async (t) => {
  const dir = await scratch(t);
  const path = join(dir, 'cache');
  const stat = (file: string) => lstatSync(file, { bigint: true });
  const first = await openStatCache(path, { now: LATER });
  const [a, b] = await recordFiles(dir, first, ['a', 'b']);
  await first.save();
  await appendFile(path, Buffer.from('torn delta'));
  const second = await openStatCache(path, { now: LATER });
  t.is(second.lookup(a!, stat(a!)), digestOf(a!));
  const [c] = await recordFiles(dir, second, ['c']);
  await second.save();
  const third = await openStatCache(path, { now: LATER });
  t.is(third.size, 3);
  t.is(third.lookup(c!, stat(c!)), digestOf(c!));
  t.false((await readFile(path)).includes('torn delta'));

  const [d] = await recordFiles(dir, third, ['d']);
  await rm(path);
  await third.save();
  const fourth = await openStatCache(path, { now: LATER });
  t.is(fourth.size, 4);
  t.is(fourth.lookup(b!, stat(b!)), digestOf(b!));
  t.is(fourth.lookup(d!, stat(d!)), digestOf(d!));
});

test('an entry recorded while a save is writing is kept for the next save, whether the save appends or writes whole', async (t) => {
  const dir = await scratch(t);
  const stat = (file: string) => lstatSync(file, { bigint: true });
  for (const whole of [true, false]) {
    const path = join(dir, `cache-${whole}`);
    const first = await openStatCache(path, { now: LATER });
    await recordFiles(dir, first, ['base']);
    await first.save();
    const cache = await openStatCache(path, { now: LATER });
    await recordFiles(dir, cache, whole ? Array.from({ length: 1_100 }, (_, i) => `w${i}`) : ['a']);
    const saving = cache.save();
    const [late] = await recordFiles(dir, cache, [`late-${whole}`]);
    await saving;
    await cache.save();
    const reopened = await openStatCache(path, { now: LATER });
    t.is(reopened.lookup(late!, stat(late!)), digestOf(late!), whole ? 'written whole' : 'appended');
  }
});
