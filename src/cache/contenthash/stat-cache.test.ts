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
    Buffer.concat([good, Buffer.from('x')]),
  ];
  for (const at of [48, 48 + 40, good.length - 2]) {
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
