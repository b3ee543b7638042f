/**
 * The major number of a device, from `st_rdev` as Linux userspace sees it (64-bit dev_t,
 * glibc bits/sysmacros.h `__SYSMACROS_DEFINE_MAJOR`): bits 8–19 and 32–63. Pass the bigint
 * from `lstat(path, {bigint: true})`; a number is taken as it is.
 */
export function deviceMajor(rdev: bigint | number): number {
  const dev = BigInt(rdev);
  return Number(((dev & 0xfff00n) >> 8n) | ((dev & 0xfffff00000000000n) >> 32n));
}

/** The minor number of a device: bits 0–7 and 20–43 of `st_rdev` (glibc `__SYSMACROS_DEFINE_MINOR`). */
export function deviceMinor(rdev: bigint | number): number {
  const dev = BigInt(rdev);
  return Number((dev & 0xffn) | ((dev & 0xffffff00000n) >> 12n));
}
