import test from 'ava';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IntegrityError, NotFoundError } from '../errors/index.ts';
import { digestHex, digestOf, openContentStore, parseDigest } from './index.ts';

async function root(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'kiln-content-'));
}

test('put stores bytes under their sha256 and read returns them', async (t) => {
  const dir = await root();
  const store = await openContentStore(dir);
  const info = await store.put('hello\n');
  t.is(info.digest as string, 'sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
  t.is(info.size, 6);
  t.is((await store.read(info.digest)).toString(), 'hello\n');
  t.is((await readFile(join(dir, 'blobs', 'sha256', digestHex(info.digest)))).toString(), 'hello\n');
  t.deepEqual(await store.info(info.digest), info);
});

test('a commit whose bytes do not match the expected digest stores nothing', async (t) => {
  const dir = await root();
  const store = await openContentStore(dir);
  const expected = { digest: digestOf('something else') };
  await t.throwsAsync(store.put('hello', expected), { instanceOf: IntegrityError, message: /digest mismatch/ });
  t.is(await store.info(digestOf('hello')), undefined);
  t.deepEqual(await readdir(join(dir, 'ingest')), []);
});

test('a commit with the wrong size fails', async (t) => {
  const store = await openContentStore(await root());
  await t.throwsAsync(store.put('hello', { digest: digestOf('hello'), size: 4 }), { instanceOf: IntegrityError });
});

test('reading a blob whose bytes changed on disk fails at the end of the stream', async (t) => {
  const dir = await root();
  const store = await openContentStore(dir);
  const { digest } = await store.put('original');
  const path = join(dir, 'blobs', 'sha256', digestHex(digest));
  await chmod(path, 0o644);
  await writeFile(path, 'tampered');
  await t.throwsAsync(store.read(digest), { instanceOf: IntegrityError });
});

test('reading an absent blob is NotFoundError', async (t) => {
  const store = await openContentStore(await root());
  await t.throwsAsync(store.read(digestOf('absent')), { instanceOf: NotFoundError });
});

test('ingest streams a source and the same content twice is one blob', async (t) => {
  const store = await openContentStore(await root());
  async function* chunks() {
    for (let i = 0; i < 100; i++) yield Buffer.alloc(1000, i);
  }
  const a = await store.ingest(chunks());
  const b = await store.ingest(chunks());
  t.deepEqual(a, b);
  t.is(a.size, 100_000);
  const listed = [];
  for await (const info of store.list()) listed.push(info);
  t.deepEqual(listed, [a]);
  t.true(await store.delete(a.digest));
  t.false(await store.delete(a.digest));
});

test('a writer killed mid-blob leaves no blob, and the next open removes its ingest', async (t) => {
  const dir = await root();
  const script = `
    import { openContentStore } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
    const store = await openContentStore(${JSON.stringify(dir)});
    const w = await store.writer();
    await w.write(Buffer.alloc(1 << 20, 1));
    process.stdout.write('written\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => resolve());
    child.on('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
  });
  // While the writer lives, opening the store must not touch its ingest.
  await openContentStore(dir);
  t.is((await readdir(join(dir, 'ingest'))).length, 1);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('exit', resolve));
  const store = await openContentStore(dir);
  t.deepEqual(await readdir(join(dir, 'ingest')), []);
  const blobs = [];
  for await (const info of store.list()) blobs.push(info);
  t.deepEqual(blobs, []);
});

test('parseDigest names the field and the reason', (t) => {
  t.throws(() => parseDigest('sha256:abc', 'manifest.config.digest'), { message: /manifest\.config\.digest: .* is not a digest/ });
  t.throws(() => parseDigest(`sha512:${'a'.repeat(128)}`, 'x'), { message: /unsupported digest algorithm sha512/ });
});
