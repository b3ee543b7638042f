import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimDirectory, currentOwner, formatOwner, isAbandoned, isAlive, parseOwner } from './index.ts';

test('this process is alive as an owner; a finished process is not', (t) => {
  t.true(isAlive(currentOwner()));
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  t.false(isAlive({ pid: Number(child.stdout), start: currentOwner().start }));
  t.false(isAlive({ pid: process.pid, start: currentOwner().start + 1 }), 'a reused PID with another start time');
});

test('owner files round-trip and malformed ones are refused', (t) => {
  t.deepEqual(parseOwner(formatOwner({ pid: 12, start: 345 })), { pid: 12, start: 345 });
  t.is(parseOwner('12'), undefined);
});

// Regression: a cleaner took a directory whose owner file was not written yet for one left
// by a crash, and removed an ingest a live writer was about to use (concurrent load + prune).
test('a directory without its owner file is in the making for a while, then abandoned', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'kiln-owner-'));
  const fresh = join(root, 'fresh');
  await mkdir(fresh);
  t.false(await isAbandoned(fresh));
  const old = join(root, 'old');
  await mkdir(old);
  const past = new Date(Date.now() - 3_600_000);
  await utimes(old, past, past);
  t.true(await isAbandoned(old));
  const claimed = join(root, 'claimed');
  await mkdir(claimed);
  await claimDirectory(claimed);
  t.false(await isAbandoned(claimed));
  const dead = join(root, 'dead');
  await mkdir(dead);
  await writeFile(join(dead, 'owner'), formatOwner({ pid: 999_999_999, start: 1 }));
  t.true(await isAbandoned(dead));
  t.true(await isAbandoned(join(root, 'gone')));
});

// Regression: claimDirectory wrote the owner file in place, so a cleaner could read it empty
// and remove the directory of a live writer (a concurrent import lost its ingest).
test('an owner file read empty or half written counts as one still being written, not as a dead owner', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'kiln-owner-'));
  const fresh = join(root, 'fresh');
  await mkdir(fresh);
  await writeFile(join(fresh, 'owner'), '');
  t.false(await isAbandoned(fresh));
  await writeFile(join(fresh, 'owner'), '123');
  t.false(await isAbandoned(fresh));
  const past = new Date(Date.now() - 3_600_000);
  await utimes(fresh, past, past);
  t.true(await isAbandoned(fresh));
  const claimed = join(root, 'claimed');
  await mkdir(claimed);
  await claimDirectory(claimed);
  t.deepEqual((await readdir(claimed)).sort(), ['owner'], 'no temporary file is left');
});
