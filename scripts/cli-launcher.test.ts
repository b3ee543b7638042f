import test from 'ava';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Script } from 'node:vm';

const run = promisify(execFile);
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const wrap = (source: string): string => (Module as unknown as { wrap(source: string): string }).wrap(source);

/* dist/ is built by `npm test`'s pretest (scripts/build.mjs). */

/** A copy of dist/ in a package of its own (its native/ the repository's), for a launcher that writes its cache. */
async function packageCopy(t: { teardown(fn: () => Promise<void>): void }): Promise<{ dir: string; cli: string; cache: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-launcher-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'dist'));
  for (const name of ['cli.cjs', 'kiln.cjs', 'kiln.cjs.v8cache']) await cp(join(DIST, name), join(dir, 'dist', name));
  await symlink(fileURLToPath(new URL('../native', import.meta.url)), join(dir, 'native'));
  await cp(fileURLToPath(new URL('../package.json', import.meta.url)), join(dir, 'package.json'));
  return { dir, cli: join(dir, 'dist', 'cli.cjs'), cache: join(dir, 'dist', 'kiln.cjs.v8cache') };
}

test('the build leaves a code cache of the whole bundle that a command started as usual accepts (and so leaves alone)', async (t) => {
  const { cli, cache } = await packageCopy(t);
  const before = await readFile(cache);
  await run(process.execPath, [cli, '--version']);
  // A rejected cache is written again at the exit, with only what --version compiled.
  t.deepEqual(await readFile(cache), before);
  t.true(before.length > 1_000_000, `${before.length} bytes: every function of the bundle`);
});

test('without a cache, or with one V8 rejects, the command runs and writes a cache it accepts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-launcher-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const name of ['cli.cjs', 'kiln.cjs']) await cp(join(DIST, name), join(dir, name));
  const cache = join(dir, 'kiln.cjs.v8cache');
  const version = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')).version as string;

  const first = await run(process.execPath, [join(dir, 'cli.cjs'), '--version']);
  t.is(first.stdout.trim(), version);
  t.true((await stat(cache)).size > 0);

  await writeFile(cache, Buffer.alloc(4096, 7));
  const second = await run(process.execPath, [join(dir, 'cli.cjs'), '--version']);
  t.is(second.stdout.trim(), version);
  const bundle = join(dir, 'kiln.cjs');
  const script = new Script(wrap(await readFile(bundle, 'utf8')), { filename: bundle, cachedData: await readFile(cache) });
  t.false(script.cachedDataRejected);
});

test('a build, which changes V8 flags as it runs, writes no cache (the next start would reject it); another command then does', async (t) => {
  const { dir, cli, cache } = await packageCopy(t);
  const context = join(dir, 'context');
  await mkdir(context);
  await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nCOPY a /a\n');
  await writeFile(join(context, 'a'), 'a');
  const rejected = Buffer.alloc(4096, 7);
  await writeFile(cache, rejected);
  await run(process.execPath, [cli, '--root', join(dir, 'root'), 'build', '-q', context]);
  t.deepEqual(await readFile(cache), rejected);
  await run(process.execPath, [cli, '--version']);
  const written = await readFile(cache);
  t.notDeepEqual(written, rejected);
  await run(process.execPath, [cli, '--root', join(dir, 'root'), 'build', '-q', context]);
  t.deepEqual(await readFile(cache), written);
});
