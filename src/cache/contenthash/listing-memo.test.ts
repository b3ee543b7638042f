import test, { type ExecutionContext } from 'ava';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listDirectory } from '../../native/index.ts';
import { ListingMemo } from './listing-memo.ts';

async function freshDir(t: ExecutionContext, files: Readonly<Record<string, string>> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-listing-memo-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    if (name.endsWith('/')) await mkdir(join(dir, name), { recursive: true });
    else await writeFile(join(dir, name), content);
  }
  return dir;
}

const text = (runs: readonly Uint8Array[] | undefined): string[] | undefined => runs?.map((run) => Buffer.from(run).toString());

test('runs kept for a listing come back, byte for byte, for the same listing after a save, and not for another key', async (t) => {
  const dir = await freshDir(t, { 'a': '1', 'b/': '', 'c é': '2', 'd/': '', 'e': '3' });
  const store = await freshDir(t);
  const memo = await ListingMemo.open(join(store, 'memo'));
  const runs = ['["file","a"]\n', '["file","c é"]\n', ''];
  memo.keep('key', listDirectory(dir), runs);
  t.deepEqual(text(memo.runs('key', listDirectory(dir))), runs);
  await memo.save();

  const reopened = await ListingMemo.open(join(store, 'memo'));
  t.is(reopened.size, 1);
  t.deepEqual(text(reopened.runs('key', listDirectory(dir))), runs);
  t.is(reopened.runs('other key', listDirectory(dir)), undefined);
});

test('a listing that changed in a name, a file time, a mode or a size gives nothing; a subdirectory changed inside does not matter', async (t) => {
  const dir = await freshDir(t, { 'a': '1', 'sub/': '', 'z': '3' });
  const store = await freshDir(t);
  const memo = await ListingMemo.open(join(store, 'memo'));
  const keep = (): void => memo.keep('k', listDirectory(dir), ['a\n', 'z\n']);
  const known = (): boolean => memo.runs('k', listDirectory(dir)) !== undefined;

  keep();
  // Below a subdirectory is another listing's business: only its name and mode count here.
  await writeFile(join(dir, 'sub/new'), 'x');
  await utimes(join(dir, 'sub'), 1000, 1000);
  t.true(known());

  await utimes(join(dir, 'a'), 2000, 2000);
  t.false(known(), 'mtime');
  keep();
  await chmod(join(dir, 'a'), 0o600);
  t.false(known(), 'mode (and ctime)');
  keep();
  await writeFile(join(dir, 'z'), '33');
  t.false(known(), 'size');
  keep();
  await rename(join(dir, 'z'), join(dir, 'y'));
  t.false(known(), 'name');
  keep();
  await writeFile(join(dir, 'b'), '');
  t.false(known(), 'an entry added');
  keep();
  await chmod(join(dir, 'sub'), 0o700);
  t.false(known(), "a subdirectory's mode");
});

test('saves append while few records were replaced, and write the file whole once it is mostly replaced records', async (t) => {
  const dir = await freshDir(t, { 'a': '1' });
  const store = await freshDir(t);
  const file = join(store, 'memo');
  const listing = listDirectory(dir);
  let memo = await ListingMemo.open(file);
  for (const key of ['k1', 'k2', 'k3', 'k4']) memo.keep(key, listing, [`${key}\n`.repeat(100)]);
  await memo.save();
  const whole = (await stat(file)).size;

  memo = await ListingMemo.open(file);
  memo.keep('k1', listing, ['again\n'.repeat(100)]);
  await memo.save();
  const appended = (await stat(file)).size;
  t.true(appended > whole, 'one record appended');
  memo = await ListingMemo.open(file);
  t.is(text(memo.runs('k1', listing))?.[0], 'again\n'.repeat(100), 'the last record of a key wins');
  t.is(text(memo.runs('k2', listing))?.[0], 'k2\n'.repeat(100));

  for (let round = 0; round < 8; round++) {
    memo = await ListingMemo.open(file);
    memo.keep('k1', listing, [`round ${round}\n`.repeat(100)]);
    await memo.save();
  }
  // Four live records and at most as many replaced ones.
  t.true((await stat(file)).size <= 2 * whole + 1000, `${(await stat(file)).size} bytes`);
  memo = await ListingMemo.open(file);
  t.is(memo.size, 4);
  t.is(text(memo.runs('k1', listing))?.[0], 'round 7\n'.repeat(100));
});

test('a torn append loses only the torn record, and the next save writes the file whole', async (t) => {
  const dir = await freshDir(t, { 'a': '1' });
  const store = await freshDir(t);
  const file = join(store, 'memo');
  const listing = listDirectory(dir);
  const memo = await ListingMemo.open(file);
  memo.keep('first', listing, ['1\n']);
  await memo.save();
  const before = (await stat(file)).size;
  memo.keep('second', listing, ['2\n'.repeat(50)]);
  await memo.save();
  await truncate(file, before + 30);

  const torn = await ListingMemo.open(file);
  t.is(torn.size, 1);
  t.deepEqual(text(torn.runs('first', listing)), ['1\n']);
  torn.keep('third', listing, ['3\n']);
  await torn.save();
  const mended = await ListingMemo.open(file);
  t.is(mended.size, 2);
  t.deepEqual(text(mended.runs('third', listing)), ['3\n']);
  t.is(mended.runs('second', listing), undefined);
});

test('a record whose bytes were damaged is no record; the others still are', async (t) => {
  const dir = await freshDir(t, { 'a': '1' });
  const store = await freshDir(t);
  const file = join(store, 'memo');
  const listing = listDirectory(dir);
  const memo = await ListingMemo.open(file);
  memo.keep('one', listing, ['one run\n']);
  memo.keep('two', listing, ['two run\n']);
  await memo.save();
  const bytes = await readFile(file);
  const at = bytes.indexOf('one run');
  bytes[at] = 'O'.charCodeAt(0);
  await writeFile(file, bytes);

  const damaged = await ListingMemo.open(file);
  t.is(damaged.runs('one', listing), undefined);
  t.deepEqual(text(damaged.runs('two', listing)), ['two run\n']);
  // Another layout, or no file, is an empty memo.
  await writeFile(file, 'kilnlm00 and then some');
  t.is((await ListingMemo.open(file)).size, 0);
  t.is((await ListingMemo.open(join(store, 'missing'))).size, 0);
});

test('past its size bound, a save keeps only the directories used since opening', async (t) => {
  const dir = await freshDir(t, { 'a': '1' });
  const store = await freshDir(t);
  const file = join(store, 'memo');
  const listing = listDirectory(dir);
  const memo = await ListingMemo.open(file);
  for (let i = 0; i < 10; i++) memo.keep(`k${i}`, listing, ['x'.repeat(1000)]);
  await memo.save();

  const bounded = await ListingMemo.open(file, { maxBytes: 5000 });
  t.truthy(bounded.runs('k3', listing));
  bounded.keep('new', listing, ['y'.repeat(1000)]);
  await bounded.save();
  const kept = await ListingMemo.open(file);
  t.is(kept.size, 2);
  t.truthy(kept.runs('k3', listing));
  t.truthy(kept.runs('new', listing));
});
