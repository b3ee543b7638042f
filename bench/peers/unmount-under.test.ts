import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { mountsUnder, unmountUnder } from './unmount-under.ts';

test('unmountUnder lifts nested mounts under a directory, deepest first, and only those', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-bench-unmount-'));
  const outside = await mkdtemp(join(tmpdir(), 'kiln-bench-unmount-outside-'));
  try {
    const outer = join(dir, 'a b');
    await mkdir(outer);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', outer]);
    const inner = join(outer, 'inner');
    await mkdir(inner);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', inner]);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', outside]);
    await writeFile(join(inner, 'file'), 'x');
    // The space in "a b" is written \040 in mountinfo.
    t.deepEqual(await mountsUnder(dir), [inner, outer]);
    await unmountUnder(dir);
    t.deepEqual(await mountsUnder(dir), []);
    t.deepEqual(await readdir(outer), []);
    t.deepEqual(await mountsUnder(outside), [outside]);
  } finally {
    execFileSync('umount', ['-l', outside]);
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  }
});
