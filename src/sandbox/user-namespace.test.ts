import test from 'ava';
import { once } from 'node:events';
import { chown, mkdir, readFile, stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { spawnSandbox, watchSandboxExit, type NativeSandboxError } from '../native/index.ts';
import { busyboxRoot, removeRoot } from './sandbox-test-kit.ts';

/*
 * The addon's user namespace (spawn's `userNamespace`, `uidMappings`, `gidMappings`), which
 * LinuxExecutor does not use: a busybox root with a minimal setup of its own, since a user
 * namespace's root cannot make device nodes.
 */

const MS_BIND = 0x1000;
const MS_REC = 0x4000;
/** Where the namespace's ids start on the host. */
const HOST_BASE = 100000;

let root = '';

test.before(async () => {
  root = await busyboxRoot();
  await mkdir(join(root, 'proc'));
  // A directory the namespace's root owns, seen from the host as HOST_BASE.
  await mkdir(join(root, 'mapped'));
  await chown(join(root, 'mapped'), HOST_BASE, HOST_BASE);
});

test.after.always(async () => {
  if (root !== '') await removeRoot(root);
});

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function baseOptions(script: string) {
  return {
    argv: ['sh', '-c', script],
    env: ['PATH=/bin'],
    cwd: '/',
    root,
    hostname: 'userns',
    newNetwork: true,
    uid: 0,
    gid: 0,
    groups: [],
    umask: 0o22,
    capabilities: [0, 1, 3, 5, 6, 7, 8],
    noNewPrivileges: false,
    rlimits: [],
    setup: [
      { kind: 'mount' as const, source: root, target: root, flags: MS_BIND | MS_REC },
      { kind: 'mount' as const, source: 'proc', target: join(root, 'proc'), fstype: 'proc', flags: 0 },
    ],
    stdin: false,
  };
}

const MAPPED = {
  userNamespace: true,
  uidMappings: [{ containerId: 0, hostId: HOST_BASE, size: 65536 }],
  gidMappings: [{ containerId: 0, hostId: HOST_BASE, size: 65536 }],
} as const;

/** Runs the spawn's command to its end, collecting its output. */
async function finish(started: ReturnType<typeof spawnSandbox>): Promise<Finished> {
  const collect = async (fd: number): Promise<string> => {
    const socket = new Socket({ fd, readable: true, writable: false });
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    await once(socket, 'close');
    return text;
  };
  const exit = new Promise<number | null>((resolve, reject) =>
    watchSandboxExit(started.pidfd, (error, code) => (error === null ? resolve(code) : reject(error))),
  );
  const [code, stdout, stderr] = await Promise.all([exit, collect(started.stdout), collect(started.stderr)]);
  return { code, stdout, stderr };
}

test('in a user namespace root is mapped to a host uid: id, uid_map, and the owner of what it creates', async (t) => {
  const script = 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u /bin/busybox; touch /mapped/made';
  const ran = await finish(spawnSandbox({ ...baseOptions(script), ...MAPPED }));
  t.is(ran.stderr, '');
  t.is(ran.code, 0);
  const lines = ran.stdout.split('\n');
  t.deepEqual(lines.slice(0, 2), ['0', '0']);
  t.deepEqual(lines[2]?.trim().split(/\s+/), ['0', String(HOST_BASE), '65536']);
  t.deepEqual(lines[3]?.trim().split(/\s+/), ['0', String(HOST_BASE), '65536']);
  // The host's root is unmapped inside: the overflow uid.
  t.is(lines[4], '65534');
  const made = await stat(join(root, 'mapped', 'made'));
  t.deepEqual([made.uid, made.gid], [HOST_BASE, HOST_BASE]);
});

test('a user namespace and a seccomp filter go together: the filter is installed inside it', async (t) => {
  // One instruction: SECCOMP_RET_ALLOW.
  const allowAll = Buffer.from([0x06, 0, 0, 0, 0x00, 0x00, 0xff, 0x7f]);
  const ran = await finish(spawnSandbox({ ...baseOptions('grep -E "^Seccomp:" /proc/self/status; cat /proc/self/uid_map'), ...MAPPED, seccomp: allowAll }));
  t.is(ran.code, 0, ran.stderr);
  t.regex(ran.stdout, /^Seccomp:\t2\n\s+0\s+100000\s+65536\n$/);
});

test('a map the kernel refuses fails the spawn with stage user-namespace, naming the file', (t) => {
  // Two ranges overlapping inside the namespace: uid_map's write fails with EINVAL.
  const error = t.throws<NativeSandboxError>(() =>
    spawnSandbox({
      ...baseOptions('true'),
      ...MAPPED,
      uidMappings: [
        { containerId: 0, hostId: HOST_BASE, size: 10 },
        { containerId: 5, hostId: HOST_BASE + 100, size: 10 },
      ],
    }),
  );
  t.like(error, { stage: 'user-namespace', syscall: 'write', code: 'EINVAL' });
  t.regex(error?.path ?? '', /^\/proc\/\d+\/uid_map$/);
});

test('without a user namespace the sandbox shares the host’s ids', async (t) => {
  const ran = await finish(spawnSandbox({ ...baseOptions('cat /proc/self/uid_map'), setup: baseOptions('').setup }));
  t.is(ran.code, 0, ran.stderr);
  t.deepEqual(ran.stdout.trim().split(/\s+/), ['0', '0', '4294967295']);
  t.is((await readFile('/proc/self/uid_map', 'utf8')).trim().split(/\s+/)[2], '4294967295');
});

test('id maps are validated, naming the field, and need userNamespace', (t) => {
  const options = baseOptions('true');
  const bad = (extra: object) => () => spawnSandbox({ ...options, ...extra } as never);
  t.throws(bad({ uidMappings: MAPPED.uidMappings }), { instanceOf: RangeError, message: 'spawn: uidMappings needs userNamespace: true' });
  t.throws(bad({ userNamespace: true, gidMappings: MAPPED.gidMappings }), { instanceOf: TypeError, message: 'spawn: uidMappings must be an array, got undefined' });
  t.throws(bad({ ...MAPPED, gidMappings: [] }), { instanceOf: RangeError, message: 'spawn: gidMappings must hold 1 to 340 ranges with userNamespace, got 0' });
  t.throws(bad({ ...MAPPED, uidMappings: [{ containerId: 0, hostId: 1, size: 0 }] }), {
    instanceOf: RangeError,
    message: 'spawn: uidMappings[0] must cover 1 or more ids, none past 4294967294',
  });
  t.throws(bad({ ...MAPPED, uidMappings: [{ containerId: 0, hostId: 4294967290, size: 10 }] }), {
    instanceOf: RangeError,
    message: 'spawn: uidMappings[0] must cover 1 or more ids, none past 4294967294',
  });
  t.throws(bad({ ...MAPPED, gidMappings: [{ containerId: -1, hostId: 1, size: 1 }] }), {
    instanceOf: RangeError,
    message: 'spawn: gidMappings[0].containerId must be from 0 to 4294967294, got -1',
  });
  t.throws(bad({ ...MAPPED, uidMappings: [{ containerId: 0, size: 1 }] }), {
    instanceOf: TypeError,
    message: 'spawn: uidMappings[0].hostId must be an integer, got undefined',
  });
});
