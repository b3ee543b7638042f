import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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

test('a reboot removes the snapshots committed in earlier boots, their descendants with them; this boot’s and unstamped ones stay', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-records-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'snapshots');
  const records = await SnapshotRecords.open(root);
  const make = async (name: string, parent?: string): Promise<string> => {
    const parentRecord = parent === undefined ? undefined : await records.get(parent);
    await records.create({ kind: 'active', name: `${name}-key`, ...(parentRecord === undefined ? {} : { parent: parentRecord }) }, async () => undefined);
    return (await records.commit(name, `${name}-key`)).id;
  };
  const thisBoot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  const earlier = await make('written-in-an-earlier-boot');
  await make('on-it', 'written-in-an-earlier-boot');
  const kept = await make('written-in-this-boot');
  const legacy = await make('from-an-older-kiln');
  t.is((await records.get('written-in-this-boot')).boot, thisBoot);

  // What the previous boot left: its id in boot, and records stamped with it (or with none).
  const rewrite = async (id: string, change: (record: Record<string, unknown>) => void): Promise<void> => {
    const path = join(root, id, 'info.json');
    const record = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    change(record);
    await writeFile(path, JSON.stringify(record));
  };
  await rewrite(earlier, (record) => (record['boot'] = 'an-earlier-boot'));
  await rewrite(legacy, (record) => delete record['boot']);
  await writeFile(join(root, 'boot'), 'an-earlier-boot\n');

  const reopened = await SnapshotRecords.open(root);
  t.is(await reopened.lookup('written-in-an-earlier-boot'), undefined);
  t.is(await reopened.lookup('on-it'), undefined);
  t.is((await reopened.get('written-in-this-boot')).id, kept);
  t.is((await reopened.get('from-an-older-kiln')).id, legacy);
  t.deepEqual((await reopened.list()).map((r) => r.name).sort(), ['from-an-older-kiln', 'written-in-this-boot']);
  t.is((await readFile(join(root, 'boot'), 'utf8')).trim(), thisBoot);
  t.false((await readdir(root)).includes(earlier));
});
