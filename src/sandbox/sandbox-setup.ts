import { constants } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors/index.ts';
import type { NativeSetupOperation } from '../native/index.ts';
import type { BindMount, RootfsMount, TmpfsMount } from './executor.ts';

/** mount(2) flags (linux/mount.h). */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  BIND: 0x1000,
  REC: 0x4000,
  STRICTATIME: 0x1000000,
} as const;

/** The files the sandbox's /etc/hosts, /etc/hostname and /etc/resolv.conf are bound from. */
export interface EtcFiles {
  readonly hosts: string;
  readonly hostname: string;
  readonly resolvConf: string;
}

/** A bind mount whose source was stat'ed: its target is made as a directory or a file. */
export interface ResolvedBindMount extends BindMount {
  readonly isDirectory: boolean;
}

/** A caller's mount, ready for the plan. */
export type ResolvedMount = ResolvedBindMount | TmpfsMount;

/*
 * The devices of /dev, as runc and Docker create them (runc libcontainer/specconv
 * AllowedDevices): character devices, mode 0666.
 */
const DEVICES = [
  ['null', 1, 3],
  ['zero', 1, 5],
  ['full', 1, 7],
  ['random', 1, 8],
  ['urandom', 1, 9],
  ['tty', 5, 0],
] as const;

/*
 * What Docker hides and makes read-only in /proc and /sys (moby oci/defaults.go
 * DefaultLinuxSpec: MaskedPaths, ReadonlyPaths); runc skips those this kernel lacks.
 */
const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
] as const;
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'] as const;

/**
 * The setup of a sandbox whose root is the directory `root` (a host path): the root file
 * system, then /proc, /dev (a tmpfs with the usual device nodes,
 * /dev/pts as a new devpts instance, /dev/shm, /dev/mqueue), /sys read-only, Docker's masked
 * paths (/proc/kcore, /proc/keys, /sys/firmware, …: /dev/null or an empty read-only tmpfs over
 * them) and read-only paths (/proc/sys, /proc/sysrq-trigger, …), the /etc files, then `mounts`. Mount points the root file system lacks are created in it, as runc does.
 * The mounts follow Docker's defaults (moby oci/defaults.go DefaultLinuxSpec).
 *
 * @throws InputError for a root file system mount of an unknown option, or a bind target that
 * is not absolute.
 */
export function sandboxSetup(
  root: string,
  rootfs: readonly RootfsMount[],
  etc: EtcFiles,
  mounts: readonly ResolvedMount[],
): NativeSetupOperation[] {
  const at = (path: string): string => join(root, path);
  const operations: NativeSetupOperation[] = [];
  const mkdirs = (path: string): void => {
    // Each parent, then the directory; mkdir accepts what exists.
    const parts = path.split('/').filter((part) => part !== '');
    for (let i = 1; i <= parts.length; i++) operations.push({ kind: 'mkdir', path: at(parts.slice(0, i).join('/')), mode: 0o755 });
  };

  // A read-only root is remounted so last: the mount points below are made in it first.
  const readonlyRoot = rootfs.some((mount) => mount.type === 'bind' && mount.options.includes('ro'));
  for (const mount of rootfs) operations.push(rootfsMount(mount, root));

  const safe = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  mkdirs('/proc');
  operations.push({ kind: 'mount', source: 'proc', fstype: 'proc', target: at('/proc'), flags: safe });

  mkdirs('/dev');
  operations.push({ kind: 'mount', source: 'tmpfs', fstype: 'tmpfs', target: at('/dev'), flags: MS.NOSUID | MS.STRICTATIME, data: 'mode=755,size=65536k' });
  for (const [name, major, minor] of DEVICES) {
    operations.push({ kind: 'mknod', path: at(`/dev/${name}`), mode: constants.S_IFCHR | 0o666, major, minor });
  }
  operations.push({ kind: 'mkdir', path: at('/dev/pts'), mode: 0o755 });
  operations.push({
    kind: 'mount',
    source: 'devpts',
    fstype: 'devpts',
    target: at('/dev/pts'),
    flags: MS.NOSUID | MS.NOEXEC,
    data: 'newinstance,ptmxmode=0666,mode=0620,gid=5',
  });
  operations.push({ kind: 'symlink', target: 'pts/ptmx', path: at('/dev/ptmx') });
  operations.push({ kind: 'mkdir', path: at('/dev/shm'), mode: 0o1777 });
  operations.push({ kind: 'mount', source: 'shm', fstype: 'tmpfs', target: at('/dev/shm'), flags: safe, data: 'mode=1777,size=65536k' });
  operations.push({ kind: 'mkdir', path: at('/dev/mqueue'), mode: 0o755 });
  operations.push({ kind: 'mount', source: 'mqueue', fstype: 'mqueue', target: at('/dev/mqueue'), flags: safe });
  for (const [name, target] of [
    ['fd', '/proc/self/fd'],
    ['stdin', '/proc/self/fd/0'],
    ['stdout', '/proc/self/fd/1'],
    ['stderr', '/proc/self/fd/2'],
  ] as const) {
    operations.push({ kind: 'symlink', target, path: at(`/dev/${name}`) });
  }

  mkdirs('/sys');
  operations.push({ kind: 'mount', source: 'sysfs', fstype: 'sysfs', target: at('/sys'), flags: MS.RDONLY | safe });

  for (const path of MASKED_PATHS) operations.push({ kind: 'mask', path: at(path), source: at('/dev/null') });
  for (const path of READONLY_PATHS) {
    // A bind of itself, remounted read-only (mount(2): MS_REMOUNT | MS_BIND), as runc's readonlyPath.
    operations.push({ kind: 'mount', source: at(path), target: at(path), flags: MS.BIND | MS.REC, optional: true });
    operations.push({ kind: 'mount', target: at(path), flags: MS.REMOUNT | MS.BIND | MS.RDONLY | safe, optional: true });
  }

  mkdirs('/etc');
  for (const [name, source] of [
    ['hosts', etc.hosts],
    ['hostname', etc.hostname],
    ['resolv.conf', etc.resolvConf],
  ] as const) {
    operations.push({ kind: 'file', path: at(`/etc/${name}`), mode: 0o644 });
    operations.push({ kind: 'mount', source, target: at(`/etc/${name}`), flags: MS.BIND });
  }

  for (const mount of mounts) {
    if (!mount.target.startsWith('/')) {
      throw new InputError(`mount target ${JSON.stringify(mount.target)} is not absolute`, { hint: 'give the path inside the sandbox, from /' });
    }
    if (mount.type === 'tmpfs') {
      mkdirs(mount.target);
      const size = mount.size > 0 ? `,size=${mount.size}` : '';
      operations.push({ kind: 'mount', source: 'tmpfs', fstype: 'tmpfs', target: at(mount.target), flags: MS.NOSUID | MS.NODEV, data: `mode=1777${size}` });
      continue;
    }
    if (mount.isDirectory) {
      mkdirs(mount.target);
    } else {
      mkdirs(join(mount.target, '..'));
      operations.push({ kind: 'file', path: at(mount.target), mode: 0o644 });
    }
    operations.push({ kind: 'mount', source: mount.source, target: at(mount.target), flags: MS.BIND | MS.REC });
    if (mount.readonly) {
      operations.push({ kind: 'mount', target: at(mount.target), flags: MS.REMOUNT | MS.BIND | MS.RDONLY });
    }
  }
  if (readonlyRoot) operations.push({ kind: 'mount', target: root, flags: MS.REMOUNT | MS.BIND | MS.RDONLY });
  return operations;
}

/** The operation mounting one root file system mount at `root`. */
function rootfsMount(mount: RootfsMount, root: string): NativeSetupOperation {
  switch (mount.type) {
    case 'overlay':
      return { kind: 'mount', source: mount.source, fstype: 'overlay', target: root, flags: 0, data: mount.options.join(',') };
    case 'bind': {
      let flags: number = MS.BIND;
      for (const option of mount.options) {
        if (option === 'rbind') flags |= MS.REC;
        else if (option !== 'bind' && option !== 'rw' && option !== 'ro') {
          throw new InputError(`bind mount of ${mount.source}: unknown option ${JSON.stringify(option)}`, {
            hint: 'a root file system bind takes bind or rbind, and rw or ro',
          });
        }
      }
      return { kind: 'mount', source: mount.source, target: root, flags };
    }
  }
}
