import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SnapshotRecords } from './snapshot-records.ts';

const run = promisify(execFile);
const RECORDS = fileURLToPath(new URL('./snapshot-records.ts', import.meta.url));

/** A node process that opens the records at `root`; with `hang`, makes an active snapshot and waits. */
async function writeUser(dir: string): Promise<string> {
  const script = join(dir, 'user.mts');
  await writeFile(
    script,
    `import { SnapshotRecords } from ${JSON.stringify(RECORDS)};
     const records = await SnapshotRecords.open(process.argv[2]);
     if (process.argv[3] === 'hang') {
       await records.create({ kind: 'active', name: 'left-by-a-killed-process' }, async () => undefined);
       process.stdout.write('ready\\n');
       setInterval(() => {}, 1000);
     }`,
  );
  return script;
}

test('a process that opened the records unregisters when it exits; one killed leaves what the next open cleans', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-records-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'snapshots');
  const script = await writeUser(dir);

  await SnapshotRecords.open(root);
  const mine = await readdir(join(root, 'users'));
  t.is(mine.length, 1);
  await run(process.execPath, ['--import', 'tsx', script, root]);
  t.deepEqual(await readdir(join(root, 'users')), mine);

  const child = spawn(process.execPath, ['--import', 'tsx', script, root, 'hang'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout, 'data');
  child.kill('SIGKILL');
  await once(child, 'exit');
  t.is((await readdir(join(root, 'users'))).length, 2);
  const reopened = await SnapshotRecords.open(root);
  t.is(await reopened.lookup('left-by-a-killed-process'), undefined);
  t.deepEqual(await readdir(join(root, 'users')), mine);
});
