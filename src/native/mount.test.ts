import test from 'ava';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mount, unmount } from './mount.ts';
import type { NativeErrnoError } from './native.d.ts';

async function mounted(target: string): Promise<boolean> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  return table.split('\n').some((line) => line.split(' ')[4] === target);
}

test('an overlay mounted through mount() shows the lower files and writes into the upper dir', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-mount-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const [lower, upper, work, target] = ['lower', 'upper', 'work', 'merged'].map((n) => join(dir, n)) as [string, string, string, string];
  await Promise.all([lower, upper, work, target].map((d) => mkdir(d)));
  await writeFile(join(lower, 'a'), 'from lower');
  mount({ type: 'overlay', source: 'overlay', target, data: `lowerdir=${lower},upperdir=${upper},workdir=${work}`, readOnly: false });
  try {
    t.true(await mounted(target));
    t.is(await readFile(join(target, 'a'), 'utf8'), 'from lower');
    await writeFile(join(target, 'b'), 'new');
  } finally {
    unmount(target);
  }
  t.false(await mounted(target));
  t.is(await readFile(join(upper, 'b'), 'utf8'), 'new');
});

test('a read-only bind refuses writes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-mount-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const [source, target] = [join(dir, 'src'), join(dir, 'dst')];
  await mkdir(source);
  await mkdir(target);
  mount({ type: 'bind', source, target, data: '', readOnly: true });
  try {
    const error = await t.throwsAsync(writeFile(join(target, 'x'), 'x'));
    t.is((error as NodeJS.ErrnoException).code, 'EROFS');
  } finally {
    unmount(target);
  }
});

test('unmounting what is not mounted fails with EINVAL naming the target', (t) => {
  const error = t.throws(() => unmount(tmpdir())) as NativeErrnoError;
  t.is(error.code, 'EINVAL');
  t.is(error.syscall, 'umount2');
  t.is(error.path, tmpdir());
});
