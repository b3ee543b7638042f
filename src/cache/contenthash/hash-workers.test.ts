import test from 'ava';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileContentReader } from './content-reader.ts';
import { HashWorkers } from './hash-workers.ts';

async function scratch(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-hashworkers-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('workers give the digests the main thread gives, for many files in batches and a big one', async (t) => {
  const dir = await scratch(t);
  const workers = new HashWorkers(2);
  t.teardown(() => workers.close());
  const paths: string[] = [];
  for (let i = 0; i < 150; i++) {
    const path = join(dir, `f${i}`);
    await writeFile(path, Buffer.alloc(i * 37, `${i}`));
    paths.push(path);
  }
  const big = join(dir, 'big');
  await writeFile(big, Buffer.alloc(3 * 1024 * 1024 + 5, 'b'));
  paths.push(big);
  const sizes = paths.map((path, i) => BigInt(path === big ? 3 * 1024 * 1024 + 5 : i * 37));
  const asked = paths.map((path, i) => workers.digest(path, sizes[i] as bigint));
  // Each file costs its size and 16 KiB until it is answered.
  t.is(workers.backlog, sizes.reduce((sum, size) => sum + Number(size) + 16_384, 0));
  const fromWorkers = await Promise.all(asked);
  t.is(workers.backlog, 0);
  const inline = await Promise.all(paths.map((path, i) => fileContentReader.digest(path, sizes[i] as bigint)));
  t.deepEqual(fromWorkers, inline);
});

test('a file that cannot be read fails with the error of its read; the rest of its batch is hashed', async (t) => {
  const dir = await scratch(t);
  const workers = new HashWorkers(1);
  t.teardown(() => workers.close());
  await writeFile(join(dir, 'ok'), 'ok');
  await symlink('ok', join(dir, 'link'));
  const [ok, missing, link] = await Promise.allSettled([
    workers.digest(join(dir, 'ok'), 2n),
    workers.digest(join(dir, 'missing'), 0n),
    workers.digest(join(dir, 'link'), 2n),
  ]);
  t.is(ok.status === 'fulfilled' ? ok.value : undefined, await fileContentReader.digest(join(dir, 'ok'), 2n));
  const reason = (result: PromiseSettledResult<unknown>): NodeJS.ErrnoException =>
    (result.status === 'rejected' ? result.reason : new Error('fulfilled')) as NodeJS.ErrnoException;
  t.is(reason(missing).code, 'ENOENT');
  t.is(reason(missing).path, join(dir, 'missing'));
  // O_NOFOLLOW: a path that is a symlink is not read through.
  t.is(reason(link).code, 'ELOOP');
});

test('closed workers start again on the next request', async (t) => {
  const dir = await scratch(t);
  const workers = new HashWorkers(1);
  t.teardown(() => workers.close());
  await writeFile(join(dir, 'f'), 'f');
  const first = await workers.digest(join(dir, 'f'), 1n);
  await workers.close();
  t.is(await workers.digest(join(dir, 'f'), 1n), first);
});
