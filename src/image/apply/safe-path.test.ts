import test from 'ava';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../errors/index.ts';
import { cleanEntryPath, resolveInRoot } from './safe-path.ts';
import { freshRoot } from './tar-fixture.ts';

const cleaned: readonly (readonly [string, string | undefined])[] = [
  ['etc/passwd', 'etc/passwd'],
  ['./etc/passwd', 'etc/passwd'],
  ['/etc/passwd', 'etc/passwd'],
  ['//etc//passwd/', 'etc/passwd'],
  ['etc/./x/../passwd', 'etc/passwd'],
  ['a/b/../../c', 'c'],
  ['./', undefined],
  ['/', undefined],
  ['a/..', undefined],
  ['.wh.etc/file', '.wh.etc/file'],
];

for (const [name, expected] of cleaned) {
  test(`cleanEntryPath(${JSON.stringify(name)}) is ${JSON.stringify(expected)}`, (t) => {
    t.is(cleanEntryPath(name), expected);
  });
}

for (const name of ['..', '../evil', 'a/../../evil', '/../evil', './../evil', 'a/b/../../../evil']) {
  test(`cleanEntryPath refuses ${JSON.stringify(name)}, which climbs above the root`, (t) => {
    const error = t.throws(() => cleanEntryPath(name), { instanceOf: InputError });
    t.true(error.message.includes(JSON.stringify(name)));
  });
}

test('resolveInRoot follows symlinks but never leaves the root', async (t) => {
  const { root } = await freshRoot(t);
  await mkdir(join(root, 'etc'));
  await mkdir(join(root, 'usr/lib'), { recursive: true });
  await symlink('/etc', join(root, 'abs'));
  await symlink('../../../../..', join(root, 'up'));
  await symlink('/', join(root, 'slash'));
  await symlink('usr/lib', join(root, 'lib'));
  await symlink('../lib/x', join(root, 'usr/rel'));
  await symlink('/usr/../../../etc', join(root, 'updown'));
  await writeFile(join(root, 'file'), '');

  const cases: readonly (readonly [string, string])[] = [
    ['', root],
    ['abs/passwd', join(root, 'etc/passwd')],
    ['up', root],
    ['up/evil', join(root, 'evil')],
    ['slash/etc', join(root, 'etc')],
    ['lib/a', join(root, 'usr/lib/a')],
    ['usr/rel', join(root, 'usr/lib/x')],
    ['updown/x', join(root, 'etc/x')],
    ['missing/../abs', join(root, 'etc')],
    ['file/x', join(root, 'file/x')],
    ['../../..', root],
  ];
  for (const [path, expected] of cases) t.is(await resolveInRoot(root, path), expected, path);
});

test('resolveInRoot re-checks for symlinks after climbing out of a missing directory', async (t) => {
  const { root } = await freshRoot(t);
  await symlink('/', join(root, 'link'));
  t.is(await resolveInRoot(root, 'nothere/../link/etc'), join(root, 'etc'));
});

test('resolveInRoot reports a symlink loop as ELOOP', async (t) => {
  const { root } = await freshRoot(t);
  await symlink('b', join(root, 'a'));
  await symlink('a', join(root, 'b'));
  const error = await t.throwsAsync(resolveInRoot(root, 'a/x'));
  t.is((error as NodeJS.ErrnoException).code, 'ELOOP');
});
