export { lgetxattr, llistxattr, lremovexattr, lsetxattr, readXattrs } from './xattr.ts';
export { gzipMembers } from './gzip-members.ts';
export { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from './mknod.ts';
export { mount, unmount, type MountRequest } from './mount.ts';
export { DirectoryListing, DirectoryReadAhead, PACKED_FIELD, PACKED_FIELDS, PackedStats, listDirectory, readDirectory, type DirectoryEntry } from './read-directory.ts';
export type { NativeErrnoError } from './native.d.ts';
export { signalSandbox, spawnSandbox, watchSandboxExit } from './sandbox.ts';
export type { NativeIdMapping, NativeSandboxError, NativeSetupOperation, NativeSpawnResult } from './native.d.ts';
