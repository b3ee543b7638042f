import test from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, NotFoundError } from '../../errors/index.ts';
import { listTree, workspace } from './copy-fixture.ts';
import { makeDirectory } from './make-directory.ts';
import { makeFile } from './make-file.ts';

test('WORKDIR makes every missing directory with the mode and owner, leaving existing ones', async (t) => {
  const ws = await workspace(t);
  await mkdir(join(ws.root, 'srv'), { mode: 0o700 });
  const made = await makeDirectory(ws.root, '/srv/app/data', { mode: 0o755, owner: { uid: 1000, gid: 1001 } });
  t.deepEqual(made, [join(ws.root, 'srv/app'), join(ws.root, 'srv/app/data')]);
  t.deepEqual(listTree(ws.root), ['srv/ 0700 0:0', 'srv/app/ 0755 1000:1001', 'srv/app/data/ 0755 1000:1001']);
  t.deepEqual(await makeDirectory(ws.root, '/srv/app', { mode: 0o700 }), []);
});

test('WORKDIR through a symlink to a host path stays inside the root', async (t) => {
  const ws = await workspace(t);
  const host = `/tmp/workdir-kiln-${randomBytes(6).toString('hex')}`;
  await symlink(host, join(ws.root, 'app'));
  await makeDirectory(ws.root, '/app/src', { mode: 0o755 });
  t.false(existsSync(host));
  t.true(lstatSync(join(ws.root, host, 'src')).isDirectory());
});

test('WORKDIR over a file is a conflict naming the path', async (t) => {
  const ws = await workspace(t);
  await writeFile(join(ws.root, 'app'), 'a file');
  const error = await t.throwsAsync(makeDirectory(ws.root, '/app/src', { mode: 0o755 }), { instanceOf: ConflictError });
  t.regex(error.message, /\/app is not a directory/);
});

test('a heredoc file is written with its mode and owner, replacing a file there', async (t) => {
  const ws = await workspace(t);
  await makeFile(ws.root, '/run.sh', '#!/bin/sh\necho hi\n', { mode: 0o755, owner: { uid: 5, gid: 6 } });
  await writeFile(join(ws.root, 'old'), 'previous content that is longer');
  await makeFile(ws.root, '/old', 'new', { mode: 0o600 });
  t.deepEqual(listTree(ws.root), ['old 0600 0:0 "new"', 'run.sh 0755 5:6 "#!/bin/sh\\necho hi\\n"']);
});

test('a heredoc file is never written through a symlink out of the root', async (t) => {
  const ws = await workspace(t);
  const victim = join(ws.parent, 'victim');
  await writeFile(victim, 'untouched');
  await symlink('../victim', join(ws.root, 'f'));
  await makeFile(ws.root, '/f', 'data', { mode: 0o644 });
  t.is(readFileSync(victim, 'utf8'), 'untouched');
  // Resolved as the container would: `..` at the root stays there.
  t.is(readFileSync(join(ws.root, 'victim'), 'utf8'), 'data');
  // An absolute target is resolved inside the root too; its directory is missing there.
  await symlink(victim, join(ws.root, 'g'));
  await t.throwsAsync(makeFile(ws.root, '/g', 'data', { mode: 0o644 }), { instanceOf: NotFoundError });
  t.is(readFileSync(victim, 'utf8'), 'untouched');
});

test('a heredoc file in a missing directory fails as not found; over a directory as a conflict', async (t) => {
  const ws = await workspace(t);
  await t.throwsAsync(makeFile(ws.root, '/no/such/f', 'x', { mode: 0o644 }), { instanceOf: NotFoundError });
  await mkdir(join(ws.root, 'd'));
  await t.throwsAsync(makeFile(ws.root, '/d', 'x', { mode: 0o644 }), { instanceOf: ConflictError });
});
