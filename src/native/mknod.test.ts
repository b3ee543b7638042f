import test from 'ava';
import { execFile } from 'node:child_process';
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from './mknod.ts';
import type { NativeErrnoError } from './native.d.ts';

const run = promisify(execFile);

async function freshDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-mknod-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** stat(1)'s file type and device numbers of `path`. */
async function statType(path: string): Promise<string> {
  return (await run('stat', ['-c', '%F %Hr:%Lr', path])).stdout.trim();
}

test('a character device 0:0 is made: the overlayfs whiteout', async (t) => {
  const path = join(await freshDir(t), 'whiteout');
  mknod(path, S_IFCHR | 0o600, 0, 0);
  const stats = await lstat(path);
  t.true(stats.isCharacterDevice());
  t.is(stats.rdev, 0);
  t.is(await statType(path), 'character special file 0:0');
});

test('character and block devices carry their numbers, up to 4095:1048575', async (t) => {
  const dir = await freshDir(t);
  mknod(join(dir, 'null'), S_IFCHR | 0o666, 1, 3);
  mknod(join(dir, 'big'), S_IFBLK | 0o660, 4095, 1_048_575);
  t.is(await statType(join(dir, 'null')), 'character special file 1:3');
  t.is(await statType(join(dir, 'big')), 'block special file 4095:1048575');
  // The umask (022 or stricter) may only take bits away.
  t.is((await lstat(join(dir, 'big'))).mode & 0o7777 & ~0o660, 0);
});

test('a FIFO is made, major and minor defaulting to 0', async (t) => {
  const path = join(await freshDir(t), 'fifo');
  mknod(path, S_IFIFO | 0o640);
  t.true((await lstat(path)).isFIFO());
});

test('mknod never replaces what is at the path: EEXIST with errno, syscall and path', async (t) => {
  const path = join(await freshDir(t), 'taken');
  await writeFile(path, 'kept');
  const error = t.throws<NativeErrnoError>(() => mknod(path, S_IFIFO | 0o600));
  t.like(error, { code: 'EEXIST', errno: -17, syscall: 'mknod', path });
  t.is(error.message, `EEXIST: file already exists, mknod '${path}'`);
  t.true((await lstat(path)).isFile());
});

test('a missing parent is ENOENT naming the path', async (t) => {
  const path = join(await freshDir(t), 'no', 'fifo');
  t.like(t.throws(() => mknod(path, S_IFIFO | 0o600)), { code: 'ENOENT', errno: -2, syscall: 'mknod', path });
});

test('without CAP_MKNOD a device is EPERM, and a whiteout is still made', async (t) => {
  const dir = await freshDir(t);
  // A child process whose capability sets lack CAP_MKNOD, as when kiln runs without root.
  const script = `
    const { mknod, S_IFCHR } = await import(${JSON.stringify(new URL('./mknod.ts', import.meta.url).href)});
    mknod(${JSON.stringify(join(dir, 'whiteout'))}, S_IFCHR, 0, 0);
    try { mknod(${JSON.stringify(join(dir, 'null'))}, S_IFCHR | 0o666, 1, 3); } catch (error) {
      console.log(JSON.stringify({ code: error.code, errno: error.errno, syscall: error.syscall }));
    }`;
  const { stdout } = await run('setpriv', ['--bounding-set', '-mknod', '--inh-caps', '-mknod', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script]);
  t.deepEqual(JSON.parse(stdout), { code: 'EPERM', errno: -1, syscall: 'mknod' });
  t.true((await lstat(join(dir, 'whiteout'))).isCharacterDevice());
});

test('arguments of the wrong type are TypeErrors, out of range RangeErrors, each naming the argument', async (t) => {
  const path = join(await freshDir(t), 'node');
  t.throws(() => mknod(7 as unknown as string, S_IFIFO), { instanceOf: TypeError, message: 'mknod: path must be a string, got number' });
  t.throws(() => mknod(path, '0644' as unknown as number), { instanceOf: TypeError, message: 'mknod: mode must be an integer, got string' });
  t.throws(() => mknod(path, S_IFCHR, 1.5), { instanceOf: TypeError, message: 'mknod: major must be an integer, got 1.5' });
  t.throws(() => mknod(path, S_IFCHR, 1, Number.NaN), { instanceOf: TypeError, message: 'mknod: minor must be an integer, got NaN' });
  t.throws(() => mknod(path, S_IFCHR, 4096, 0), { instanceOf: RangeError, message: 'mknod: major must be from 0 to 4095, got 4096' });
  t.throws(() => mknod(path, S_IFCHR, 0, -1), { instanceOf: RangeError, message: 'mknod: minor must be from 0 to 1048575, got -1' });
  t.throws(() => mknod(path, 0o100644), {
    instanceOf: RangeError,
    message: 'mknod: mode must have the file type S_IFCHR, S_IFBLK or S_IFIFO, got 0o100644',
  });
  t.throws(() => mknod(path, 0o644), { instanceOf: RangeError, message: /got 0o644$/ });
  await t.throwsAsync(lstat(path), { code: 'ENOENT' });
});
