import test, { type ExecutionContext } from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { InputError } from '../errors/index.ts';
import { currentOwner } from '../owner/index.ts';
import { createRunCgroups, detectCgroupHierarchies, removeAbandonedCgroups, type CgroupHierarchies } from './cgroups.ts';
import type { RootfsMount } from './executor.ts';
import { LinuxExecutor } from './linux-executor.ts';
import { busyboxRoot, Capture, removeRoot, shell } from './sandbox-test-kit.ts';

/*
 * Real cgroups (we are root): limits are set on busybox sandboxes in the hierarchies this
 * host has, v1 or v2 per controller; detection is also checked on fake mount tables.
 */

let root = '';
let rootfs: RootfsMount[] = [];
let hierarchies: CgroupHierarchies = {};
const executor = new LinuxExecutor({ gracePeriodMs: 300 });
const MiB = 1024 * 1024;

test.before(async () => {
  root = await busyboxRoot();
  rootfs = [{ type: 'bind', source: root, options: ['rbind', 'rw'] }];
  hierarchies = await detectCgroupHierarchies();
});

test.after.always(async () => {
  if (root !== '') await removeRoot(root);
});

/** The hierarchy of `controller`, failing the test saying which one the kernel lacks. */
function hierarchyOf(t: ExecutionContext, controller: 'memory' | 'pids' | 'cpu'): string {
  const hierarchy = hierarchies[controller];
  if (hierarchy === undefined) t.fail(`the kernel has no ${controller} cgroup controller (neither v1 nor v2)`);
  return hierarchy?.mount ?? '';
}

/** This process's run cgroups left under the kiln directory of `mount`. */
async function ownCgroups(mount: string): Promise<string[]> {
  const owner = currentOwner();
  const entries = await readdir(join(mount, 'kiln')).catch(() => []);
  return entries.filter((entry) => entry.startsWith(`${owner.pid}-${owner.start}-`));
}

test.serial('a fork bomb under pids 20 cannot fork past the limit and leaves nothing behind', async (t) => {
  const mount = hierarchyOf(t, 'pids');
  const stdout = new Capture();
  const stderr = new Capture();
  // Bounded: 200 background sleeps at most, each ending by itself; ash gives up at the first failed fork.
  const result = await executor.run(
    shell('i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done; echo all-forked', { resources: { pids: 20 } }),
    rootfs,
    { stdout, stderr },
  );
  t.notRegex(stdout.text, /all-forked/);
  t.regex(stderr.text, /can't fork|Resource temporarily unavailable/);
  t.not(result.exitCode, 0);
  t.false(result.oomKilled);
  t.deepEqual(await ownCgroups(mount), []);
});

test.serial('a memory hog under a 32 MiB limit is OOM-killed and reported so', async (t) => {
  const mount = hierarchyOf(t, 'memory');
  // Doubles a string 30 times (1 GiB) unless killed first.
  const result = await executor.run(
    shell(`awk 'BEGIN { s = "x"; for (i = 0; i < 30; i++) s = s s; print length(s) }'`, { resources: { memory: 32 * MiB } }),
    rootfs,
    {},
  );
  t.true(result.oomKilled);
  t.not(result.exitCode, 0);
  t.deepEqual(await ownCgroups(mount), []);
});

test.serial('a run within its memory limit is not reported OOM-killed', async (t) => {
  hierarchyOf(t, 'memory');
  const result = await executor.run(shell('true', { resources: { memory: 64 * MiB } }), rootfs, {});
  t.deepEqual(result, { exitCode: 0, signal: null, oomKilled: false });
});

test.serial('cpus 0.5 sets a CFS quota of half the period while the run lasts, and the cgroup goes after', async (t) => {
  const mount = hierarchyOf(t, 'cpu');
  const stdin = new PassThrough();
  const stdout = new Capture();
  const running = executor.run(shell('echo ready; read line', { resources: { cpus: 0.5 } }), rootfs, { stdin, stdout });
  await stdout.waitFor(/ready/);
  const [name] = await ownCgroups(mount);
  t.truthy(name, 'no run cgroup under the cpu hierarchy');
  const dir = join(mount, 'kiln', name ?? '');
  const quota =
    hierarchies.cpu?.kind === 'v1'
      ? `${(await readFile(join(dir, 'cpu.cfs_quota_us'), 'utf8')).trim()} ${(await readFile(join(dir, 'cpu.cfs_period_us'), 'utf8')).trim()}`
      : (await readFile(join(dir, 'cpu.max'), 'utf8')).trim();
  t.is(quota, '50000 100000');
  stdin.end('done\n');
  t.like(await running, { exitCode: 0 });
  t.deepEqual(await ownCgroups(mount), []);
});

test.serial('the command runs inside its cgroups from its first instruction', async (t) => {
  const mount = hierarchyOf(t, 'pids');
  const stdin = new PassThrough();
  const stdout = new Capture();
  const running = executor.run(shell('echo ready; read line', { resources: { pids: 5 } }), rootfs, { stdin, stdout });
  await stdout.waitFor(/ready/);
  const [name] = await ownCgroups(mount);
  const procs = await readFile(join(mount, 'kiln', name ?? '', 'cgroup.procs'), 'utf8');
  // kiln-init and the shell.
  t.is(procs.trim().split('\n').length, 2);
  stdin.end('done\n');
  t.like(await running, { exitCode: 0 });
});

test.serial('a limit on a controller the host lacks is an error naming the controller', async (t) => {
  const memoryOnly = new LinuxExecutor({ cgroupHierarchies: { memory: { kind: 'v1', mount: '/nonexistent' } } });
  const error = await t.throwsAsync(memoryOnly.run(shell('true', { resources: { pids: 10 } }), rootfs, {}), {
    instanceOf: InputError,
  });
  t.regex(error?.message ?? '', /the pids cgroup controller is not available/);
});

test.serial('invalid limits are refused before anything is created', async (t) => {
  await t.throwsAsync(createRunCgroups({ pids: 0 }, {}), { instanceOf: InputError, message: /resources\.pids/ });
  await t.throwsAsync(createRunCgroups({ memorySwap: MiB }, {}), { instanceOf: InputError, message: /memorySwap/ });
  await t.throwsAsync(createRunCgroups({ cpus: 0.001 }, {}), { instanceOf: InputError, message: /cpus/ });
});

test.serial('cgroups of a dead owner are removed, those of a live one kept', async (t) => {
  const mount = hierarchyOf(t, 'pids');
  // PID 1 never started at tick 1: an owner that is certainly gone.
  const dead = join(mount, 'kiln', '1-1-deadbeef');
  const live = await createRunCgroups({ pids: 3 }, { pids: hierarchies.pids! });
  await mkdir(dead, { recursive: true });
  try {
    await removeAbandonedCgroups({ pids: hierarchies.pids! });
    t.deepEqual(
      (await readdir(join(mount, 'kiln'))).filter((entry) => entry === '1-1-deadbeef'),
      [],
    );
    t.is((await ownCgroups(mount)).length, 1);
  } finally {
    await live.remove();
    await rm(dead, { recursive: true, force: true }).catch(() => {});
  }
  t.deepEqual(await ownCgroups(mount), []);
});

/** A fake mount table and v2 root for detection. */
async function fakeHost(t: ExecutionContext, v2Controllers: string, v1: readonly string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-cgroup-detect-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const unified = join(dir, 'unified');
  await mkdir(unified);
  await writeFile(join(unified, 'cgroup.controllers'), `${v2Controllers}\n`);
  const lines = [`41 31 0:38 / ${unified} rw,relatime - cgroup2 cgroup2 rw`];
  v1.forEach((controller, i) => lines.push(`${50 + i} 31 0:${60 + i} / /v1/${controller} rw - cgroup cgroup rw,${controller}`));
  await writeFile(join(dir, 'mountinfo'), `${lines.join('\n')}\n`);
  return dir;
}

const detections: readonly [string, string, readonly string[], CgroupHierarchies][] = [
  ['pure v2', 'cpuset cpu io memory pids', [], { memory: { kind: 'v2', mount: 'unified' }, pids: { kind: 'v2', mount: 'unified' }, cpu: { kind: 'v2', mount: 'unified' } }],
  ['hybrid, v2 with hugetlb only', 'hugetlb', ['memory', 'pids', 'cpu'], { memory: { kind: 'v1', mount: '/v1/memory' }, pids: { kind: 'v1', mount: '/v1/pids' }, cpu: { kind: 'v1', mount: '/v1/cpu' } }],
  ['mixed per controller', 'memory', ['pids'], { memory: { kind: 'v2', mount: 'unified' }, pids: { kind: 'v1', mount: '/v1/pids' } }],
];

for (const [name, v2, v1, expected] of detections) {
  test(`detection picks each controller's hierarchy: ${name}`, async (t) => {
    const dir = await fakeHost(t, v2, v1);
    const resolved = Object.fromEntries(
      Object.entries(expected).map(([controller, hierarchy]) => [
        controller,
        { ...hierarchy, mount: hierarchy.kind === 'v2' ? join(dir, hierarchy.mount) : hierarchy.mount },
      ]),
    );
    t.deepEqual(await detectCgroupHierarchies(join(dir, 'mountinfo')), resolved);
  });
}

test.serial("an executor's first run with limits removes the cgroups dead kiln processes left", async (t) => {
  const mount = hierarchyOf(t, 'pids');
  const dead = join(mount, 'kiln', '1-1-0ddba11');
  await mkdir(dead, { recursive: true });
  try {
    const fresh = new LinuxExecutor({ gracePeriodMs: 300 });
    const result = await fresh.run(shell('true', { resources: { pids: 10 } }), rootfs, {});
    t.is(result.exitCode, 0);
    t.false((await readdir(join(mount, 'kiln'))).includes('1-1-0ddba11'));
  } finally {
    await rm(dead, { recursive: true, force: true }).catch(() => {});
  }
});
