import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where Debian's busybox-static installs the static binary. */
export const BUSYBOX = '/bin/busybox';

/**
 * Makes the offline test base: a root filesystem with the static busybox, a link for each of
 * its applets in /bin, /etc/passwd and /etc/group (root and nobody), /tmp and /root, packed
 * by GNU tar deterministically (sorted, owner 0:0, mtime 0) into `<dir>/busybox-rootfs.tar`.
 * Fails saying which package to install when busybox-static is missing.
 */
export async function busyboxRootfsTar(dir: string): Promise<string> {
  const { stdout } = await run(BUSYBOX, ['--list']).catch((cause: Error) => {
    throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static (${cause.message})`);
  });
  const rootfs = await mkdtemp(join(tmpdir(), 'kiln-busybox-'));
  try {
    for (const d of ['bin', 'etc', 'tmp', 'root']) await mkdir(join(rootfs, d), { recursive: true });
    await copyFile(BUSYBOX, join(rootfs, 'bin', 'busybox'));
    for (const applet of stdout.split('\n')) {
      if (applet !== '' && applet !== 'busybox') await symlink('busybox', join(rootfs, 'bin', applet));
    }
    await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
    await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    const tar = join(dir, 'busybox-rootfs.tar');
    await run('tar', ['-C', rootfs, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', tar, '.']);
    return tar;
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}
