/**
 * True for the extended attributes overlayfs keeps its own state in: `trusted.overlay.*`, or
 * `user.overlay.*` under its userxattr mount option (Documentation/filesystems/overlayfs.rst).
 * They say how an upper directory is stacked (opaque, redirect, origin, metacopy), not what it
 * holds: a layer never carries them, and a tree that becomes an overlay lower directory must
 * not get them from one.
 */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}
