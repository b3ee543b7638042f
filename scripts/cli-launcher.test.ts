import test from 'ava';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
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

test('the build leaves a code cache of the bundle that this node accepts', async (t) => {
  const bundle = join(DIST, 'kiln.cjs');
  const cachedData = await readFile(join(DIST, 'kiln.cjs.v8cache'));
  const script = new Script(wrap(await readFile(bundle, 'utf8')), { filename: bundle, cachedData });
  t.false(script.cachedDataRejected);
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
