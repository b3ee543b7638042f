import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InputError } from '../../errors/index.ts';
import { llistxattr } from '../../native/index.ts';
import { applyEntries, applyLayer, type ApplyEntry } from './apply-layer.ts';
import { freshRoot, layerStream, listing, type FixtureEntry } from './tar-fixture.ts';

/*
 * Hostile layers: each case builds its tar with tar-stream, applies it to `<tmp>/root`, and
 * checks that nothing appeared beside `root` (where a `victim` file waits) nor at the host
 * path the entry aimed for.
 */

const VICTIM = 'victim';

/** A fresh root with a victim file beside it. */
async function setup(t: ExecutionContext) {
  const dirs = await freshRoot(t);
  await writeFile(join(dirs.parent, VICTIM), 'untouched');
  return dirs;
}

async function contained(t: ExecutionContext, parent: string): Promise<void> {
  t.deepEqual(await listing(parent), ['root', VICTIM]);
  t.is(await readFile(join(parent, VICTIM), 'utf8'), 'untouched');
}

async function missing(path: string): Promise<boolean> {
  return lstat(path).then(
    () => false,
    () => true,
  );
}

async function apply(root: string, entries: readonly FixtureEntry[]) {
  return applyLayer(root, await layerStream(entries));
}

/** A host path that no test run has used: where a breakout would land. */
function unique(prefix: string): string {
  return `${prefix}-kiln-${randomBytes(6).toString('hex')}`;
}

for (const name of ['../evil', 'a/../../evil', './../../evil']) {
  test(`the entry ${JSON.stringify(name)} is refused, naming it, and nothing is written`, async (t) => {
    const { parent, root } = await setup(t);
    const error = await t.throwsAsync(apply(root, [{ name: 'first', content: 'ok' }, { name, content: 'evil' }]), {
      instanceOf: InputError,
    });
    t.true(error.message.includes(JSON.stringify(name)), error.message);
    await contained(t, parent);
  });
}

for (const name of ['../evil', 'a/../../evil']) {
  test(`the applier itself refuses the entry ${JSON.stringify(name)}, naming it`, async (t) => {
    const { parent, root } = await setup(t);
    const entry: ApplyEntry = { path: name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, body: Readable.from([]) };
    const error = await t.throwsAsync(applyEntries(root, [entry]), { instanceOf: InputError });
    t.true(error.message.includes(JSON.stringify(name)), error.message);
    await contained(t, parent);
  });
}

test('an absolute entry name lands inside the root', async (t) => {
  const { parent, root } = await setup(t);
  const name = unique('evil');
  await apply(root, [{ name: `/${name}`, content: 'inside' }, { name: '/tmp/', type: 'directory' }]);
  t.is(await readFile(join(root, name), 'utf8'), 'inside');
  t.true(await missing(`/${name}`));
  await contained(t, parent);
});

test('a file written through a symlink to / lands under the root, not the host', async (t) => {
  const { parent, root } = await setup(t);
  const name = unique('evil');
  await apply(root, [
    { name: 'link', type: 'symlink', linkname: '/' },
    { name: `link/etc/${name}`, content: 'inside' },
  ]);
  t.is(await readFile(join(root, 'etc', name), 'utf8'), 'inside');
  t.true(await missing(join('/etc', name)));
  t.is(await readlink(join(root, 'link')), '/');
  await contained(t, parent);
});

test('a file written through a symlink climbing with .. lands at the root', async (t) => {
  const { parent, root } = await setup(t);
  const name = unique('evil');
  await apply(root, [
    { name: 'link', type: 'symlink', linkname: '../../..' },
    { name: `link/${name}`, content: 'inside' },
  ]);
  t.is(await readFile(join(root, name), 'utf8'), 'inside');
  t.true(await missing(join('/', name)));
  await contained(t, parent);
});

test('a symlink to a host directory by its absolute path is resolved inside the root', async (t) => {
  const { parent, root } = await setup(t);
  await apply(root, [
    { name: 'link', type: 'symlink', linkname: parent },
    { name: 'link/sub/', type: 'directory' },
    { name: `link/${VICTIM}`, content: 'evil' },
  ]);
  t.is(await readFile(join(root, parent, VICTIM), 'utf8'), 'evil');
  t.true((await stat(join(root, parent, 'sub'))).isDirectory());
  await contained(t, parent);
});

test('a symlink already at the path of a file is replaced, never written through', async (t) => {
  const { parent, root } = await setup(t);
  await symlink(join(parent, VICTIM), join(root, 'f'));
  await apply(root, [{ name: 'f', content: 'evil' }]);
  t.true((await lstat(join(root, 'f'))).isFile());
  t.is(await readFile(join(root, 'f'), 'utf8'), 'evil');
  await contained(t, parent);
});

test('a symlink replacing a directory mid-layer redirects later entries inside the root', async (t) => {
  // containerd pkg/archive/tar_test.go TestBreakouts "SymlinkOverridePath".
  const { parent, root } = await setup(t);
  const name = unique('breakout');
  await apply(root, [
    { name: 'foo/', type: 'directory' },
    { name: 'foo/tmp/', type: 'directory' },
    { name: `foo/tmp/${name}`, content: '1' },
    { name: 'foo', type: 'symlink', linkname: '/' },
    { name: `foo/tmp/${name}`, content: '2' },
    { name: 'foo/', type: 'directory' },
    { name: 'foo/tmp/', type: 'directory' },
    { name: `foo/tmp/${name}`, content: '3' },
  ]);
  t.true(await missing(join('/tmp', name)));
  t.is(await readFile(join(root, 'tmp', name), 'utf8'), '2');
  t.is(await readFile(join(root, 'foo/tmp', name), 'utf8'), '3');
  await contained(t, parent);
});

test('a whiteout through a symlink to a host directory removes nothing outside', async (t) => {
  const { parent, root } = await setup(t);
  await symlink(parent, join(root, 'link'));
  await apply(root, [{ name: `link/.wh.${VICTIM}` }]);
  await contained(t, parent);
});

test('an opaque marker through a symlink climbing out empties the root, not its parent', async (t) => {
  const { parent, root } = await setup(t);
  await writeFile(join(root, 'lower'), 'l');
  await symlink('../..', join(root, 'up'));
  await apply(root, [{ name: 'up/.wh..wh..opq' }]);
  t.deepEqual(await listing(root), []);
  await contained(t, parent);
});

test('a hard link to ../../etc/passwd is refused, and nothing is linked', async (t) => {
  const { parent, root } = await setup(t);
  const error = await t.throwsAsync(
    apply(root, [{ name: 'passwd', type: 'link', linkname: '../../etc/passwd' }]),
    { instanceOf: InputError },
  );
  // The layer reader refuses the name before the applier sees it (and names the link target).
  t.true(error.message.includes('../../etc/passwd'), error.message);
  t.deepEqual(await listing(root), []);
  await contained(t, parent);
});

test('the applier itself refuses a hard link whose target climbs out, naming the entry', async (t) => {
  const { parent, root } = await setup(t);
  const entry: ApplyEntry = {
    path: 'passwd',
    type: 'hardlink',
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: 0,
    linkname: `../${VICTIM}`,
    body: Readable.from([]),
  };
  const error = await t.throwsAsync(applyEntries(root, [entry]), { instanceOf: InputError });
  t.regex(error.message, /layer entry "passwd"/);
  t.deepEqual(await listing(root), []);
  await contained(t, parent);
});

test('a hard link to an absolute path resolves inside the root', async (t) => {
  const { parent, root } = await setup(t);
  await apply(root, [
    { name: 'etc/passwd', content: 'inside' },
    { name: 'mine', type: 'link', linkname: '/etc/passwd' },
  ]);
  t.is((await stat(join(root, 'mine'))).ino, (await stat(join(root, 'etc/passwd'))).ino);
  t.not((await stat(join(root, 'mine'))).ino, (await stat('/etc/passwd')).ino);
  await contained(t, parent);
});

test('a hard link to an absolute path missing inside the root is refused, naming the entry', async (t) => {
  const { parent, root } = await setup(t);
  const error = await t.throwsAsync(apply(root, [{ name: 'mine', type: 'link', linkname: '/etc/passwd' }]), {
    instanceOf: InputError,
  });
  t.regex(error.message, /layer entry "mine": hard link target "\/?etc\/passwd" does not exist/);
  t.deepEqual(await listing(root), []);
  await contained(t, parent);
});

test('a hard link through a symlinked parent resolves the symlink inside the root', async (t) => {
  const { parent, root } = await setup(t);
  await apply(root, [
    { name: 'etc/passwd', content: 'inside' },
    { name: 'hostetc', type: 'symlink', linkname: '/etc' },
    { name: 'mine', type: 'link', linkname: 'hostetc/passwd' },
  ]);
  const mine = await lstat(join(root, 'mine'));
  t.true(mine.isFile());
  t.is(mine.ino, (await stat(join(root, 'etc/passwd'))).ino);
  t.not(mine.ino, (await stat('/etc/passwd')).ino);
  await contained(t, parent);
});

test('a hard link through a symlinked parent climbing out never reaches the host file', async (t) => {
  const { parent, root } = await setup(t);
  const error = await t.throwsAsync(
    apply(root, [
      { name: 'up', type: 'symlink', linkname: '../../../../..' },
      { name: 'mine', type: 'link', linkname: `up${parent}/${VICTIM}` },
    ]),
    { instanceOf: InputError },
  );
  t.regex(error.message, /layer entry "mine"/);
  t.true(await missing(join(root, 'mine')));
  await contained(t, parent);
});

test('a hard link to a symlink links the symlink itself, not what it points at', async (t) => {
  // containerd TestBreakouts "HardlinkSymlinkAbsolute": link(2) does not follow the last component.
  const { parent, root } = await setup(t);
  await apply(root, [
    { name: 'hostvictim', type: 'symlink', linkname: join(parent, VICTIM) },
    { name: 'mine', type: 'link', linkname: 'hostvictim' },
  ]);
  const mine = await lstat(join(root, 'mine'));
  t.true(mine.isSymbolicLink());
  t.is(mine.ino, (await lstat(join(root, 'hostvictim'))).ino);
  await contained(t, parent);
});

test('a hard link to a directory is refused, naming the entry', async (t) => {
  const { parent, root } = await setup(t);
  const error = await t.throwsAsync(
    apply(root, [
      { name: 'etc/', type: 'directory' },
      { name: 'mine', type: 'link', linkname: 'etc' },
    ]),
    { instanceOf: InputError },
  );
  t.regex(error.message, /layer entry "mine".*is a directory/);
  await contained(t, parent);
});

test('a hard link to a path below itself is refused, naming the entry', async (t) => {
  const { parent, root } = await setup(t);
  const error = await t.throwsAsync(
    apply(root, [
      { name: 'd/x', content: 'x' },
      { name: 'd', type: 'link', linkname: 'd/x' },
    ]),
    { instanceOf: InputError },
  );
  t.regex(error.message, /layer entry "d".*itself or below it/);
  t.is(await readFile(join(root, 'd/x'), 'utf8'), 'x');
  await contained(t, parent);
});

test('a device node at the path of a symlink to the victim replaces the symlink, never the victim', async (t) => {
  const { parent, root } = await setup(t);
  await mkdir(join(root, 'dev'));
  await symlink(join(parent, VICTIM), join(root, 'dev/sda'));
  await apply(root, [{ name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 }]);
  t.true((await lstat(join(root, 'dev/sda'))).isBlockDevice());
  t.deepEqual(await listing(join(root, 'dev')), ['sda']);
  await contained(t, parent);
});

test('a device node through a symlinked parent naming a host directory lands inside the root', async (t) => {
  const { parent, root } = await setup(t);
  await apply(root, [
    { name: 'link', type: 'symlink', linkname: parent },
    { name: 'link/null', type: 'character-device', devmajor: 1, devminor: 3 },
  ]);
  t.true((await lstat(join(root, parent, 'null'))).isCharacterDevice());
  await contained(t, parent);
});

test('xattrs of an entry replacing a symlink to the victim go on the entry, not the victim', async (t) => {
  const { parent, root } = await setup(t);
  await symlink(join(parent, VICTIM), join(root, 'f'));
  await apply(root, [{ name: 'f', content: 'new', pax: { 'SCHILY.xattr.user.evil': 'x', 'SCHILY.xattr.trusted.evil': 'x' } }]);
  t.deepEqual(llistxattr(join(root, 'f')).sort(), ['trusted.evil', 'user.evil']);
  t.deepEqual(llistxattr(join(parent, VICTIM)), []);
  await contained(t, parent);
});

for (const name of ['trusted.overlay.opaque', 'trusted.overlay.redirect', 'user.overlay.origin']) {
  test(`the overlayfs attribute ${name} is refused, naming the entry, and nothing is written`, async (t) => {
    const { parent, root } = await setup(t);
    const error = await t.throwsAsync(apply(root, [{ name: 'd/', type: 'directory', pax: { [`SCHILY.xattr.${name}`]: 'y' } }]), {
      instanceOf: InputError,
    });
    t.regex(error.message, new RegExp(`layer entry "d".*${name.replaceAll('.', '\\.')}`));
    t.deepEqual(await listing(root), []);
    await contained(t, parent);
  });
}

test('an xattr name the kernel refuses as too long is an InputError naming the entry', async (t) => {
  const { parent, root } = await setup(t);
  const name = `user.${'n'.repeat(300)}`;
  const error = await t.throwsAsync(apply(root, [{ name: 'f', content: 'f', pax: { [`SCHILY.xattr.${name}`]: 'x' } }]), {
    instanceOf: InputError,
  });
  t.regex(error.message, /layer entry "f": extended attribute user\.n+: ERANGE/);
  await contained(t, parent);
});

test('the applier itself refuses an xattr name holding a NUL, naming the entry', async (t) => {
  const { parent, root } = await setup(t);
  const entry: ApplyEntry = {
    path: 'f',
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: 0,
    xattrs: { 'user.a\0trusted.b': Buffer.from('x') },
    body: Readable.from([]),
  };
  const error = await t.throwsAsync(applyEntries(root, [entry]), { instanceOf: InputError });
  t.regex(error.message, /layer entry "f": extended attribute name .* holds a NUL/);
  await contained(t, parent);
});

test('a symlink loop in a parent is refused, naming the entry', async (t) => {
  const { parent, root } = await setup(t);
  const error = await t.throwsAsync(
    apply(root, [
      { name: 'a', type: 'symlink', linkname: 'b' },
      { name: 'b', type: 'symlink', linkname: 'a' },
      { name: 'a/x', content: 'x' },
    ]),
    { instanceOf: InputError },
  );
  t.regex(error.message, /layer entry "a\/x".*symbolic links/);
  await contained(t, parent);
});

test('an entry under a file is refused, naming the entry', async (t) => {
  const { parent, root } = await setup(t);
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc/hosts'), 'h');
  const error = await t.throwsAsync(apply(root, [{ name: 'etc/hosts/x', content: 'x' }]), { instanceOf: InputError });
  t.regex(error.message, /layer entry "etc\/hosts\/x".*not a directory/);
  await contained(t, parent);
});
