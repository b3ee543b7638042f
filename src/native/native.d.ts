/*
 * The exact surface of native/build/Release/kiln_native.node (native/src/*.cc): the only place
 * it is typed. load-native.ts loads it; the wrappers beside it (xattr.ts, mknod.ts) are its
 * only callers.
 *
 * Every function takes one options object and validates it: a wrong type throws a TypeError,
 * a number out of range a RangeError, each naming the function and the field
 * (`mknod: major must be from 0 to 4095, got 5000`). A failed syscall throws a
 * {@link NativeErrnoError}.
 */

/**
 * What a failed syscall throws, shaped like Node's fs errors: the message
 * `ENODATA: no data available, lgetxattr '/p' 'user.x'`, a libuv `code` (as Node names it),
 * `errno` negative (as Node reports it), and what the call was given.
 */
export interface NativeErrnoError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path: string;
  /** The attribute name, for the xattr calls. */
  readonly attribute?: string;
}

/** The file-system surface: calls Node's fs lacks, each one synchronous syscall. */
export interface NativeFs {
  /** lgetxattr(2): the whole value, however long. */
  lgetxattr(options: { readonly path: string; readonly name: string }): Buffer;
  /** lsetxattr(2) with flags 0: creates the attribute or replaces its value. */
  lsetxattr(options: { readonly path: string; readonly name: string; readonly value: Uint8Array }): void;
  /** llistxattr(2): the names, in the order the file system lists them. */
  llistxattr(options: { readonly path: string }): string[];
  /** lremovexattr(2). */
  lremovexattr(options: { readonly path: string; readonly name: string }): void;
  /**
   * mknod(2); `mode` carries the file type (S_IFCHR, S_IFBLK or S_IFIFO, anything else is a
   * RangeError) and permission bits, which the umask reduces. `major` is 0–4095, `minor`
   * 0–1048575 (Linux's dev_t split).
   */
  mknod(options: { readonly path: string; readonly mode: number; readonly major: number; readonly minor: number }): void;
}

/** `require('kiln_native.node')`: one object per surface. */
export interface NativeAddon {
  readonly fs: NativeFs;
}
