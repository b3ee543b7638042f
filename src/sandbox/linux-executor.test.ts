import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InputError, InternalError } from '../errors/index.ts';
import type { NativeSandboxError } from '../native/index.ts';
import type { RootfsMount, RunResult, RunSpec, SandboxIo } from './executor.ts';
import { LinuxExecutor } from './linux-executor.ts';
import { busyboxRoot, Capture, hostMounts, pollUntil, processesWith, removeRoot, shell } from './sandbox-test-kit.ts';

/*
 * Real sandboxes (we are root): each test runs busybox in namespaces, bind-mounting one
 * busybox tree as the root file system, and checks that kiln's mount table is unchanged after.
 */

let root = '';
let rootfs: RootfsMount[] = [];
let mountsBefore = '';
const executor = new LinuxExecutor({ gracePeriodMs: 300 });

test.before(async () => {
  mountsBefore = await hostMounts();
  root = await busyboxRoot();
  rootfs = [{ type: 'bind', source: root, options: ['rbind', 'rw'] }];
});

test.after.always(async () => {
  if (root !== '') await removeRoot(root);
});

interface Ran extends RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `spec` capturing its output, and checks the host's mount table did not change. */
async function runIn(t: ExecutionContext, spec: RunSpec, io: SandboxIo = {}, signal?: AbortSignal): Promise<Ran> {
  const stdout = new Capture();
  const stderr = new Capture();
  try {
    const result = await executor.run(spec, rootfs, { stdout, stderr, ...io }, signal);
    return { ...result, stdout: stdout.text, stderr: stderr.text };
  } finally {
    t.is(await hostMounts(), mountsBefore, 'kiln’s mount table changed');
  }
}

test('the kernel has every namespace the sandbox needs', (t) => {
  for (const ns of ['mnt', 'pid', 'uts', 'ipc', 'net', 'cgroup']) {
    t.true(existsSync(`/proc/self/ns/${ns}`), `this kernel has no ${ns} namespace (/proc/self/ns/${ns} is missing)`);
  }
});

test('hostname is the one the spec gives, not the host’s', async (t) => {
  const ran = await runIn(t, shell('hostname; cat /etc/hostname', { hostname: 'kiln-builder' }));
  t.not(hostname(), 'kiln-builder');
  t.deepEqual(ran, { exitCode: 0, signal: null, oomKilled: false, stdout: 'kiln-builder\nkiln-builder\n', stderr: '' });
});

test('PID 1 is kiln-init and the command is PID 2', async (t) => {
  const ran = await runIn(t, shell('tr "\\0" " " < /proc/1/cmdline; echo; echo $$'));
  t.is(ran.stdout, 'kiln-init /bin/sh sh -c tr "\\0" " " < /proc/1/cmdline; echo; echo $$ \n2\n');
});

test('network none: only lo exists, and it is up', async (t) => {
  const ran = await runIn(t, shell('ls /sys/class/net; cat /sys/class/net/lo/flags'));
  const [names, flags] = [ran.stdout.split('\n')[0], ran.stdout.split('\n')[1]];
  t.is(names, 'lo');
  t.is(Number(flags) & 0x1, 0x1, `lo is not up: flags ${flags}`);
});

test('network host: the host’s interfaces are seen', async (t) => {
  const ran = await runIn(t, shell('ls /sys/class/net', { network: 'host' }));
  t.deepEqual(ran.stdout.trim().split(/\s+/).sort(), (await readdir('/sys/class/net')).sort());
});

test('host files outside the root file system are unreachable', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-sandbox-host-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'secret'), 'host only');
  const ran = await runIn(t, shell(`cat ${join(dir, 'secret')} || echo unreachable; ls -d /usr /var /home || echo none`));
  t.is(ran.stdout, 'unreachable\nnone\n');
  t.regex(ran.stderr, /No such file or directory/);
});

test('/proc/sys and /sys are read-only, /proc is writable', async (t) => {
  const ran = await runIn(
    t,
    shell('echo 1 > /proc/sys/kernel/ns_last_pid || echo refused; mkdir /sys/kiln || echo refused; grep -E " /proc/sys | /sys " /proc/mounts'),
  );
  t.regex(ran.stderr, /Read-only file system/);
  t.is(ran.stdout.match(/^refused$/gm)?.length, 2);
  t.regex(ran.stdout, /^proc \/proc\/sys proc ro,/m);
  t.regex(ran.stdout, /^sysfs \/sys sysfs ro,/m);
});

test('/dev holds the usual devices, a private devpts, shm and mqueue', async (t) => {
  const ran = await runIn(
    t,
    shell('ls /dev; echo x > /dev/null && head -c 4 /dev/zero | wc -c; ls /dev/pts; grep -E " /dev(/pts|/shm|/mqueue)? " /proc/mounts | cut -d" " -f1-3'),
  );
  const lines = ran.stdout.split('\n');
  for (const device of ['full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'tty', 'urandom', 'zero']) {
    t.true(lines.includes(device), `no /dev/${device}`);
  }
  t.true(lines.includes('4'));
  t.true(lines.includes('ptmx'));
  t.regex(ran.stdout, /^tmpfs \/dev tmpfs$/m);
  t.regex(ran.stdout, /^devpts \/dev\/pts devpts$/m);
  t.regex(ran.stdout, /^shm \/dev\/shm tmpfs$/m);
  t.regex(ran.stdout, /^mqueue \/dev\/mqueue mqueue$/m);
});

test('a missing command is an InputError like runc’s, with stage, syscall and errno', async (t) => {
  const error = await t.throwsAsync(runIn(t, { ...shell(''), argv: ['kiln-no-such-command', 'x'] }), { instanceOf: InputError });
  t.is(error.message, 'exec: "kiln-no-such-command": executable file not found in $PATH');
  t.like(error.cause as NativeSandboxError, { stage: 'lookup', syscall: 'execvp', errno: -2, code: 'ENOENT' });
  t.deepEqual(await processesWith('kiln-no-such-command'), []);
});

test('a command that is not executable is an InputError from execve', async (t) => {
  const error = await t.throwsAsync(runIn(t, { ...shell(''), argv: ['/etc/passwd'] }), { instanceOf: InputError });
  t.like(error.cause as NativeSandboxError, { stage: 'exec', syscall: 'execve', code: 'EACCES' });
});

test('a failed mount is an InternalError naming the stage, the syscall and the target', async (t) => {
  const missing = join(tmpdir(), 'kiln-no-such-rootfs');
  const error = await t.throwsAsync(
    executor.run(shell('true'), [{ type: 'bind', source: missing, options: ['rbind'] }], {}),
    { instanceOf: InternalError },
  );
  t.like(error.cause as NativeSandboxError, { stage: 'mount', syscall: 'mount', code: 'ENOENT', operation: 0 });
  t.is(await hostMounts(), mountsBefore);
});

test('exit codes are reported, and a signal as 128 + its number', async (t) => {
  t.like(await runIn(t, shell('exit 3')), { exitCode: 3, signal: null });
  t.like(await runIn(t, shell('kill -TERM $$')), { exitCode: 143, signal: null });
  t.like(await runIn(t, shell('true')), { exitCode: 0, signal: null });
});

test('stdout and stderr stream separately, each in order', async (t) => {
  const ran = await runIn(t, shell('for i in 1 2 3; do echo out$i; echo err$i >&2; done'));
  t.is(ran.stdout, 'out1\nout2\nout3\n');
  t.is(ran.stderr, 'err1\nerr2\nerr3\n');
});

test('stdin is piped from a stream, or empty without one', async (t) => {
  t.is((await runIn(t, shell('cat; echo done'), { stdin: Readable.from(['line 1\n', 'line 2\n']) })).stdout, 'line 1\nline 2\ndone\n');
  t.is((await runIn(t, shell('cat; echo done'))).stdout, 'done\n');
});

test('the working directory is created when missing; the user and groups are set', async (t) => {
  const ran = await runIn(t, shell('pwd; id -u; id -g; id -G', { cwd: '/work/deep/dir', user: { uid: 65534, gid: 65534, additionalGids: [7, 8] } }));
  t.is(ran.stdout, '/work/deep/dir\n65534\n65534\n65534 7 8\n');
});

test('output streams while the command runs; an abort forwards SIGTERM and leaves no process', async (t) => {
  const token = 'kiln-abort-4321';
  const stdout = new Capture();
  const controller = new AbortController();
  // A grace period far longer than the test: only the SIGTERM kiln-init forwards can end it.
  const patient = new LinuxExecutor({ gracePeriodMs: 60_000 });
  const running = patient.run(shell(`echo ready; sleep 4321; : ${token}`), rootfs, { stdout }, controller.signal);
  await stdout.waitFor(/ready/);
  t.true((await processesWith(token)).length > 0, 'the command is not seen in /proc');
  const aborted = Date.now();
  controller.abort();
  await t.throwsAsync(running, { any: true, name: 'AbortError' });
  t.true(Date.now() - aborted < 10_000, 'SIGTERM was not forwarded to the command');
  t.is(await hostMounts(), mountsBefore);
  t.deepEqual(await processesWith(token), []);
  t.deepEqual(await processesWith('sleep 4321'), []);
});

test('a command ignoring SIGTERM is killed after the grace period', async (t) => {
  const token = 'kiln-abort-4322';
  const stdout = new Capture();
  const controller = new AbortController();
  const started = Date.now();
  const running = runIn(t, shell(`trap "" TERM; echo ready; sleep 4322; : ${token}`), { stdout }, controller.signal);
  await stdout.waitFor(/ready/);
  controller.abort();
  await t.throwsAsync(running, { any: true, name: 'AbortError' });
  t.true(Date.now() - started >= 300);
  t.deepEqual(await processesWith(token), []);
  t.deepEqual(await processesWith('sleep 4322'), []);
});

test('an already aborted signal starts nothing', async (t) => {
  await t.throwsAsync(executor.run(shell('true'), rootfs, {}, AbortSignal.abort()), { any: true, name: 'AbortError' });
});

test('8 sandboxes run at once, each with its own hostname', async (t) => {
  const runs = Array.from({ length: 8 }, (_, i) => runIn(t, shell('sleep 0.2; hostname; echo $$', { hostname: `kiln-${i}` })));
  const results = await Promise.all(runs);
  t.deepEqual(
    results.map((ran) => ran.stdout),
    results.map((_, i) => `kiln-${i}\n2\n`),
  );
});

test('a bind mount of the spec is seen, read-only when asked', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-sandbox-bind-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'file'), 'shared\n');
  const ran = await runIn(t, shell('cat /mnt/in/file; touch /mnt/in/new || echo refused', { mounts: [{ source: dir, target: '/mnt/in', readonly: true }] }));
  t.is(ran.stdout, 'shared\nrefused\n');
});

test('a tmpfs mount of the spec is a fresh tmpfs of the size asked, writable by anyone', async (t) => {
  const ran = await runIn(
    t,
    shell("grep ' /scratch ' /proc/mounts | cut -d' ' -f1,3; df -k /scratch | tail -1 | awk '{print $2}'; echo x > /scratch/f && cat /scratch/f; stat -c %a /scratch", {
      mounts: [{ type: 'tmpfs', target: '/scratch', size: 4 * 1024 * 1024 }],
    }),
  );
  t.is(ran.stdout, 'tmpfs tmpfs\n4096\nx\n1777\n');
});

test('a SIGKILLed kiln leaves no sandbox process behind', async (t) => {
  const token = 'kiln-orphan-4323';
  // The killed kiln cannot remove its scratch directory: the test does.
  const stateDir = await mkdtemp(join(tmpdir(), 'kiln-sandbox-state-'));
  t.teardown(() => rm(stateDir, { recursive: true, force: true }));
  const script = `
    const { LinuxExecutor } = await import(${JSON.stringify(new URL('./linux-executor.ts', import.meta.url).href)});
    await new LinuxExecutor({ stateDir: ${JSON.stringify(stateDir)} }).run(
      { argv: ['sh', '-c', 'echo ready; sleep 4323; : ${token}'], env: ['PATH=/bin'], cwd: '/',
        user: { uid: 0, gid: 0, additionalGids: [] }, hostname: 'orphan', network: 'none' },
      ${JSON.stringify(rootfs)}, { stdout: process.stdout });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stdout = new Capture();
  child.stdout.pipe(stdout);
  await stdout.waitFor(/ready/);
  t.true((await processesWith(token)).length > 0, 'the sandbox is not seen in /proc');
  child.kill('SIGKILL');
  t.true(await pollUntil(async () => (await processesWith(token)).length === 0, 5000), 'sandbox processes survive kiln');
  t.true(await pollUntil(async () => (await processesWith('sleep 4323')).length === 0, 5000));
  t.is(await hostMounts(), mountsBefore);
});

test('no descriptor of kiln reaches the sandbox: init and command hold only 0, 1 and 2', async (t) => {
  // `; true`: else busybox sh would exec ls as its last command, and list ls's own descriptors.
  const ran = await runIn(t, shell('ls /proc/1/fd; ls /proc/$$/fd; true'));
  t.is(ran.stdout, '0\n1\n2\n0\n1\n2\n');
});

test('kiln-init reaps orphans: no zombie is left while the command runs', async (t) => {
  const ran = await runIn(t, shell('(sleep 0.1 &); sleep 0.5; ps -o stat,comm | grep -c "^Z" || true'));
  t.is(ran.stdout, '0\n');
});

/** The capability sets and no_new_privs of the command, from /proc/self/status. */
const STATUS = 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status';

function statusOf(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((line) => line.split(/:\s+/) as [string, string]));
}

test('root keeps Docker’s default capabilities, effective and bounding, nothing inheritable', async (t) => {
  const status = statusOf((await runIn(t, shell(STATUS))).stdout);
  t.deepEqual(status, {
    CapInh: '0000000000000000',
    CapPrm: '00000000a80425fb',
    CapEff: '00000000a80425fb',
    CapBnd: '00000000a80425fb',
    CapAmb: '0000000000000000',
    NoNewPrivs: '0',
  });
});

test('a user other than root has no effective capability; the bounding set is kept', async (t) => {
  const status = statusOf((await runIn(t, shell(STATUS, { user: { uid: 1000, gid: 1000, additionalGids: [] } }))).stdout);
  t.like(status, { CapPrm: '0000000000000000', CapEff: '0000000000000000', CapBnd: '00000000a80425fb' });
});

test('the capabilities given replace the default, and a dropped one is refused', async (t) => {
  const ran = await runIn(t, shell(`${STATUS}; chown 1 /tmp || echo refused`, { capabilities: ['CAP_KILL', 'CAP_SYS_ADMIN'] }));
  t.like(statusOf(ran.stdout.replace('refused\n', '')), { CapEff: '0000000000200020', CapBnd: '0000000000200020' });
  t.regex(ran.stdout, /refused/);
});

test('no_new_privs is set only when asked', async (t) => {
  t.like(statusOf((await runIn(t, shell(STATUS, { noNewPrivileges: true }))).stdout), { NoNewPrivs: '1' });
  t.like(statusOf((await runIn(t, shell(STATUS))).stdout), { NoNewPrivs: '0' });
});

test('rlimits are set, unlimited as Infinity', async (t) => {
  const ran = await runIn(
    t,
    shell('ulimit -Sn; ulimit -Hn; ulimit -Sc; ulimit -Hc', {
      rlimits: [
        { name: 'nofile', soft: 321, hard: 4321 },
        { name: 'core', soft: 0, hard: Number.POSITIVE_INFINITY },
      ],
    }),
  );
  t.is(ran.stdout, '321\n4321\n0\nunlimited\n');
});
