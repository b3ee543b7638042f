import { constants } from 'node:fs';
import { loadNative } from './load-native.ts';

/** The file types {@link mknod} makes, to or into its `mode`: `S_IFCHR | 0o666`. */
export const { S_IFCHR, S_IFBLK, S_IFIFO } = constants;

/**
 * Creates a special file at `path` (mknod(2)): a character device (`S_IFCHR`), a block
 * device (`S_IFBLK`) or a FIFO (`S_IFIFO`), as the file type bits of `mode` say; its other
 * bits are the permissions, which the umask reduces (chmod afterwards to set them exactly).
 * `major` (0–4095) and `minor` (0–1048575) number a device and are ignored for a FIFO. A
 * character device 0:0 is an overlayfs whiteout.
 *
 * Synchronous: one quick syscall on the JavaScript thread, as for the xattr calls. Never
 * replaces or follows what is at `path`.
 *
 * @throws an error like Node's fs errors (`code`, `errno`, `syscall` 'mknod', `path`): EEXIST
 * when something is at `path`; EPERM for a device without CAP_MKNOD (not root, or in a user
 * namespace), except a whiteout, which needs none since Linux 5.8. TypeError naming an argument of the
 * wrong type, RangeError naming one out of range or a mode of another file type.
 */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  loadNative().fs.mknod({ path, mode, major, minor });
}
