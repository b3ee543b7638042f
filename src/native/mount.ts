import { loadNative } from './load-native.ts';

/** What {@link mount} mounts: the snapshotter's `Mount` shape, or a bind of a directory. */
export interface MountRequest {
  /** `overlay` (data: its option string) or `bind`. */
  readonly type: 'overlay' | 'bind';
  readonly source: string;
  readonly target: string;
  /** Options for the file system (overlay: `lowerdir=…,upperdir=…,workdir=…`); ignored for a bind. */
  readonly data: string;
  readonly readOnly: boolean;
}

/**
 * Mounts in kiln's own mount namespace (mount(2)), nodev and nosuid; a bind is recursive.
 * Synchronous: one or two syscalls. The caller owns the mount and must {@link unmount} it on
 * every path.
 * @throws an error like Node's fs errors (`code`, `errno`, `syscall` 'mount', `path` the target).
 */
export function mount(request: MountRequest): void {
  const bind = request.type === 'bind';
  loadNative().fs.mount({
    type: bind ? 'none' : request.type,
    source: request.source,
    target: request.target,
    data: bind ? '' : request.data,
    readOnly: request.readOnly,
    bind,
  });
}

/**
 * Unmounts `target` (umount2(2), never following a symlink there); `detach` makes it lazy
 * (MNT_DETACH), for a mount something may still use.
 * @throws as {@link mount}, `syscall` 'umount2' (EINVAL: nothing is mounted there).
 */
export function unmount(target: string, detach = false): void {
  loadNative().fs.unmount({ target, detach });
}
