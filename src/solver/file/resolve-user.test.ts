import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, NotFoundError, UsageError } from '../../errors/index.ts';
import { workspace } from './copy-fixture.ts';
import { resolveChown, resolveUser } from './resolve-user.ts';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'app:x:1000:1000:App:/home/app:/bin/sh',
  '  spaced:x:1001:1001::/home/spaced:/bin/sh  ',
  '',
].join('\n');

const GROUP = ['root:x:0:', '# a comment', 'wheel:x:10:root,app', 'staff:x:50:app', 'app:x:1000:', 'docker:x:999:'].join('\n');

/** A root file system with /etc/passwd and /etc/group (either left out when null). */
async function rootfs(t: Parameters<typeof workspace>[0], passwd: string | null = PASSWD, group: string | null = GROUP) {
  const ws = await workspace(t);
  await mkdir(join(ws.root, 'etc'));
  if (passwd !== null) await writeFile(join(ws.root, 'etc/passwd'), passwd);
  if (group !== null) await writeFile(join(ws.root, 'etc/group'), group);
  return ws.root;
}

test('an empty USER is root with its passwd home and the groups that list root', async (t) => {
  const root = await rootfs(t);
  t.deepEqual(await resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
});

test('an empty USER without any passwd file is 0:0 with HOME /', async (t) => {
  const root = await rootfs(t, null, null);
  t.deepEqual(await resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
});

test('a user name takes its passwd uid, gid, home and supplementary groups', async (t) => {
  const root = await rootfs(t);
  t.deepEqual(await resolveUser(root, 'app'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 50], home: '/home/app' });
  t.deepEqual(await resolveUser(root, 'spaced'), { uid: 1001, gid: 1001, additionalGids: [1001], home: '/home/spaced' });
});

test('a numeric user with an entry is that entry; without one it is that uid with gid 0 and HOME /', async (t) => {
  const root = await rootfs(t);
  t.deepEqual(await resolveUser(root, '1000'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 50], home: '/home/app' });
  t.deepEqual(await resolveUser(root, '4242'), { uid: 4242, gid: 0, additionalGids: [0], home: '/' });
});

test('user:group resolves the group by name or number, without supplementary groups', async (t) => {
  const root = await rootfs(t);
  t.deepEqual(await resolveUser(root, 'app:staff'), { uid: 1000, gid: 50, additionalGids: [50], home: '/home/app' });
  t.deepEqual(await resolveUser(root, 'app:777'), { uid: 1000, gid: 777, additionalGids: [777], home: '/home/app' });
  t.deepEqual(await resolveUser(root, '1000:999'), { uid: 1000, gid: 999, additionalGids: [999], home: '/home/app' });
  t.deepEqual(await resolveUser(root, '5:6'), { uid: 5, gid: 6, additionalGids: [6], home: '/' });
});

test('an unknown user or group name fails naming it', async (t) => {
  const root = await rootfs(t);
  const user = await t.throwsAsync(resolveUser(root, 'nobody-here'), { instanceOf: NotFoundError });
  t.is(user.message, 'unable to find user nobody-here: no matching entries in passwd file');
  const group = await t.throwsAsync(resolveUser(root, 'app:nogroup'), { instanceOf: NotFoundError });
  t.is(group.message, 'unable to find group nogroup: no matching entries in group file');
  const noFile = await rootfs(t, null, null);
  await t.throwsAsync(resolveUser(noFile, 'app'), { instanceOf: NotFoundError, message: /unable to find user app/ });
});

test('an id out of range is refused', async (t) => {
  const root = await rootfs(t);
  await t.throwsAsync(resolveUser(root, '99999999999'), { instanceOf: UsageError });
  await t.throwsAsync(resolveChown(root, '-1'), { instanceOf: UsageError });
});

test('/etc/passwd is read inside the root: a symlink to the host file resolves there', async (t) => {
  const ws = await workspace(t);
  const host = `/tmp/passwd-kiln-${randomBytes(6).toString('hex')}`;
  await writeFile(host, 'evil:x:0:0::/:/bin/sh\n');
  t.teardown(() => rm(host, { force: true }));
  await mkdir(join(ws.root, 'etc'));
  await symlink(host, join(ws.root, 'etc/passwd'));
  await t.throwsAsync(resolveUser(ws.root, 'evil'), { instanceOf: NotFoundError });
  await mkdir(join(ws.root, 'etc/passwd-dir'));
  await symlink('passwd-dir', join(ws.root, 'etc/group'));
  await t.throwsAsync(resolveUser(ws.root, '0:wheel'), { instanceOf: InputError, message: /not a regular file/ });
});

test('--chown: a lone uid means that gid too, a name its passwd ids, :group replaces the gid', async (t) => {
  const root = await rootfs(t);
  t.deepEqual(await resolveChown(root, ''), { uid: 0, gid: 0 });
  t.deepEqual(await resolveChown(root, '1234'), { uid: 1234, gid: 1234 });
  t.deepEqual(await resolveChown(root, 'root'), { uid: 0, gid: 0 });
  t.deepEqual(await resolveChown(root, 'app'), { uid: 1000, gid: 1000 });
  t.deepEqual(await resolveChown(root, 'app:staff'), { uid: 1000, gid: 50 });
  t.deepEqual(await resolveChown(root, 'app:7'), { uid: 1000, gid: 7 });
  t.deepEqual(await resolveChown(root, '1234:docker'), { uid: 1234, gid: 999 });
  t.deepEqual(await resolveChown(root, ':staff'), { uid: 0, gid: 50 });
  t.deepEqual(await resolveChown(root, 'app:'), { uid: 1000, gid: 1000 });
});

test('--chown with an unknown name fails naming it rather than chowning to root', async (t) => {
  const root = await rootfs(t);
  await t.throwsAsync(resolveChown(root, 'ghost'), { instanceOf: NotFoundError, message: /unable to find user ghost/ });
  await t.throwsAsync(resolveChown(root, 'app:ghosts'), { instanceOf: NotFoundError, message: /unable to find group ghosts/ });
});
