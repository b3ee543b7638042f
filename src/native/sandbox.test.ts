import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSandbox } from './sandbox.ts';

/*
 * The native surface's checks; src/sandbox's tests run real sandboxes through it.
 */

const valid = {
  argv: ['true'],
  env: [],
  cwd: '/',
  root: '/nonexistent',
  hostname: 'h',
  newNetwork: true,
  uid: 0,
  gid: 0,
  groups: [],
  umask: 0o22,
  capabilities: [],
  noNewPrivileges: false,
  rlimits: [],
  setup: [],
  stdin: false,
} as const;

test('spawn: a wrong option is a TypeError or RangeError naming it, before anything is cloned', (t) => {
  const bad = (options: object) => () => spawnSandbox({ ...valid, ...options } as never);
  t.throws(bad({ argv: 'true' }), { instanceOf: TypeError, message: 'spawn: argv must be an array, got string' });
  t.throws(bad({ argv: ['a', 1] }), { instanceOf: TypeError, message: 'spawn: argv[1] must be a string, got number' });
  t.throws(bad({ argv: [] }), { instanceOf: RangeError, message: 'spawn: argv must start with a non-empty command' });
  t.throws(bad({ env: ['A=\0'] }), { instanceOf: TypeError, message: 'spawn: env[0] must be a string without NUL bytes, got one with a NUL byte' });
  t.throws(bad({ cwd: 'relative' }), { instanceOf: RangeError, message: 'spawn: cwd must be absolute, got "relative"' });
  t.throws(bad({ newNetwork: 1 }), { instanceOf: TypeError, message: 'spawn: newNetwork must be a boolean, got number' });
  t.throws(bad({ groups: [-1] }), { instanceOf: RangeError, message: /^spawn: groups\[0\] must be from 0 to 4294967294, got -1$/ });
  t.throws(bad({ setup: [{ kind: 'mount', target: '/x' }] }), { instanceOf: TypeError, message: 'spawn: setup[0].flags must be an integer, got undefined' });
  t.throws(bad({ setup: [{ kind: 'mount', target: '/x', flags: 0 }, { kind: 'bind' }] }), {
    instanceOf: RangeError,
    message: 'spawn: setup[1].kind must be "mount", "mkdir", "file", "mknod", "symlink" or "mask", got "bind"',
  });
  t.throws(bad({ capabilities: [64] }), { instanceOf: RangeError, message: 'spawn: capabilities[0] must be from 0 to 63, got 64' });
  t.throws(bad({ rlimits: [{ resource: 7, soft: -1, hard: 10 }] }), {
    instanceOf: TypeError,
    message: 'spawn: rlimits[0].soft must be an integer from 0 to 2^53 or Infinity, got -1',
  });
  t.throws(bad({ rlimits: [{ resource: 7, soft: Infinity, hard: 10 }] }), { instanceOf: RangeError, message: 'spawn: rlimits[0].soft must not exceed its hard limit' });
  t.throws(bad({ setup: [{ kind: 'mkdir', path: 7, mode: 0o755 }] }), { instanceOf: TypeError, message: 'spawn: setup[0].path must be a non-empty string, got number' });
});

test('spawn: joining a cgroup is the first setup step, and its failure has stage cgroup', (t) => {
  // /dev/full opens for writing and fails every write with ENOSPC; the root does not exist,
  // so any later step would fail otherwise.
  const written = t.throws(() => spawnSandbox({ ...valid, cgroupProcs: ['/dev/full'] }));
  t.like(written, { stage: 'cgroup', syscall: 'write', code: 'ENOSPC', path: '/dev/full' });
  const opened = t.throws(() => spawnSandbox({ ...valid, cgroupProcs: ['/nonexistent/cgroup.procs'] }));
  t.like(opened, { stage: 'cgroup', syscall: 'open', code: 'ENOENT', path: '/nonexistent/cgroup.procs' });
  t.throws(() => spawnSandbox({ ...valid, cgroupProcs: 'x' } as never), {
    instanceOf: TypeError,
    message: 'spawn: cgroupProcs must be an array, got string',
  });
});

test('spawn: seccomp must be whole sock_filter entries, 1 to 4096 of them', (t) => {
  const bad = (seccomp: unknown) => () => spawnSandbox({ ...valid, seccomp } as never);
  t.throws(bad('filter'), { instanceOf: TypeError, message: 'spawn: seccomp must be a Buffer or Uint8Array, got string' });
  t.throws(bad([6, 0, 0, 0, 0, 0, 0xff, 0x7f]), { instanceOf: TypeError, message: 'spawn: seccomp must be a Buffer or Uint8Array, got array' });
  t.throws(bad(new Uint8Array(0)), { instanceOf: RangeError, message: 'spawn: seccomp must hold 1 to 4096 instructions of 8 bytes, got 0 bytes' });
  t.throws(bad(new Uint8Array(12)), { instanceOf: RangeError, message: 'spawn: seccomp must hold 1 to 4096 instructions of 8 bytes, got 12 bytes' });
  t.throws(bad(new Uint8Array(4097 * 8)), { instanceOf: RangeError, message: /got 32776 bytes$/ });
});

test('spawn: a filter the kernel refuses fails the spawn with stage seccomp, after the setup', async (t) => {
  // A root that pivot_root accepts: the directory bound onto itself.
  const root = await mkdtemp(join(tmpdir(), 'kiln-native-seccomp-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const MS_BIND = 0x1000;
  // One instruction of an unknown code: seccomp(2) refuses it with EINVAL.
  const invalid = Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 0]);
  const error = t.throws(() =>
    spawnSandbox({ ...valid, root, setup: [{ kind: 'mount', source: root, target: root, flags: MS_BIND }], seccomp: invalid }),
  );
  t.like(error, { stage: 'seccomp', syscall: 'seccomp', code: 'EINVAL' });
  t.regex(error?.message ?? '', /^sandbox setup failed \(seccomp\): EINVAL/);
});
