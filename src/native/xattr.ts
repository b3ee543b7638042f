import { loadNative } from './load-native.ts';

/*
 * Extended attributes (xattr(7)) through the native addon; Node's fs has none. Each call is
 * one synchronous syscall (two for a read: its size, then its value), taken on the JavaScript
 * thread: on a local file system that costs less than a threadpool round trip, and the tree
 * walks that call them are synchronous already. A file system that can hang (NFS, FUSE)
 * stalls the event loop for as long.
 *
 * None of them follows a symlink at `path`: they act on the link itself, whose `user.`
 * attributes Linux refuses (EPERM). Names carry their namespace (`user.`, `trusted.`,
 * `security.`); values are bytes.
 *
 * Errors are shaped like Node's fs errors, so callers branch on `code`: `code` ('ENODATA'),
 * `errno` (negative, as Node reports it), `syscall`, `path`, and `attribute` when a name was
 * given. A wrong argument is a TypeError naming it.
 */

/**
 * The value of the attribute `name` of `path` (lgetxattr(2)), however long.
 * @throws ENODATA when `path` has no such attribute; ENOTSUP when its file system keeps none
 * (or none of that namespace); ENOENT, EACCES… as for any path.
 */
export function lgetxattr(path: string, name: string): Buffer {
  return loadNative().fs.lgetxattr({ path, name });
}

/**
 * Sets the attribute `name` of `path` to `value` (lsetxattr(2)), creating it or replacing it.
 * @throws EPERM for a `user.` attribute of a symlink or device, or a `trusted.` one without
 * CAP_SYS_ADMIN; ENOTSUP when the file system keeps no such attributes; ERANGE for a name over
 * 255 bytes; E2BIG for a value over 64 KiB; ENOSPC when the inode has no room left.
 */
export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  loadNative().fs.lsetxattr({ path, name, value });
}

/**
 * The names of the attributes of `path` (llistxattr(2)), in the file system's order; only
 * those the caller may see (`trusted.` ones need CAP_SYS_ADMIN).
 * @throws ENOTSUP when the file system keeps no attributes; ENOENT, EACCES… as for any path.
 */
export function llistxattr(path: string): string[] {
  return loadNative().fs.llistxattr({ path });
}

/**
 * Removes the attribute `name` of `path` (lremovexattr(2)).
 * @throws ENODATA when `path` has no such attribute.
 */
export function lremovexattr(path: string, name: string): void {
  loadNative().fs.lremovexattr({ path, name });
}

/**
 * Every attribute of `path` the caller may read, by name in code-unit order (so a layer
 * written from them is the same wherever the file system lists them in another order). A file
 * system without attributes has none; one removed between the listing and its read is left
 * out.
 * @throws as {@link llistxattr} and {@link lgetxattr}, except ENOTSUP and that ENODATA.
 */
export function readXattrs(path: string): Record<string, Buffer> {
  let names: string[];
  try {
    names = llistxattr(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTSUP') return {};
    throw error;
  }
  const xattrs: Record<string, Buffer> = {};
  for (const name of names.sort()) {
    try {
      xattrs[name] = lgetxattr(path, name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENODATA') throw error;
    }
  }
  return xattrs;
}
