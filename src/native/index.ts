export { lgetxattr, llistxattr, lremovexattr, lsetxattr, readXattrs } from './xattr.ts';
export { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from './mknod.ts';
export type { NativeErrnoError } from './native.d.ts';
