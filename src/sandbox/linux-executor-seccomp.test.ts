import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RootfsMount, RunResult, RunSpec } from './executor.ts';
import { LinuxExecutor } from './linux-executor.ts';
import { busyboxRoot, Capture, removeRoot, shell } from './sandbox-test-kit.ts';

/*
 * Docker's default seccomp profile in real sandboxes (we are root): busybox, and a small static
 * C program built here that makes the calls busybox has no applet for and prints each result.
 */

const run = promisify(execFile);

/** Each argument names a call to make; prints "<name> ok" or "<name> <errno name>". */
const PROBE_SOURCE = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int i = 1; i < argc; i++) {
    const char *call = argv[i];
    long result = -1;
    errno = 0;
    if (strcmp(call, "keyctl") == 0) {
      /* KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING, without creating it */
      result = syscall(SYS_keyctl, 0, -3, 0);
    } else if (strcmp(call, "add_key") == 0) {
      /* into KEY_SPEC_PROCESS_KEYRING */
      result = syscall(SYS_add_key, "user", "kiln-probe", "x", 1, -2);
    } else if (strcmp(call, "clone3") == 0) {
      /* size 0 is refused (EINVAL) before anything is created */
      result = syscall(SYS_clone3, NULL, 0);
    } else if (strcmp(call, "unshare-user") == 0) {
      result = unshare(CLONE_NEWUSER);
    } else if (strcmp(call, "socket-vsock") == 0) {
      result = socket(40, SOCK_STREAM, 0);
    } else if (strcmp(call, "socket-inet") == 0) {
      result = socket(AF_INET, SOCK_DGRAM, 0);
    } else if (strcmp(call, "personality-query") == 0) {
      result = personality(0xffffffff);
    } else if (strcmp(call, "personality-norandom") == 0) {
      result = personality(ADDR_NO_RANDOMIZE);
    } else if (strcmp(call, "x32-getpid") == 0) {
      result = syscall(0x40000000 | SYS_getpid);
    } else {
      printf("%s unknown\n", call);
      return 2;
    }
    printf("%s %s\n", call, result >= 0 ? "ok" : strerrorname_np(errno));
  }
  return 0;
}
`;

let root = '';
let rootfs: RootfsMount[] = [];
const executor = new LinuxExecutor({ gracePeriodMs: 300 });

test.before(async () => {
  root = await busyboxRoot();
  rootfs = [{ type: 'bind', source: root, options: ['rbind', 'rw'] }];
  const dir = await mkdtemp(join(tmpdir(), 'kiln-seccomp-probe-'));
  try {
    await writeFile(join(dir, 'probe.c'), PROBE_SOURCE);
    await run('cc', ['-static', '-O1', '-Wall', '-o', join(dir, 'probe'), join(dir, 'probe.c')]).catch((cause: Error) => {
      throw new Error(`cannot build the seccomp probe with cc -static (apt-get install gcc libc6-dev): ${cause.message}`);
    });
    await copyFile(join(dir, 'probe'), join(root, 'bin', 'seccomp-probe'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.after.always(async () => {
  if (root !== '') await removeRoot(root);
});

interface Ran extends RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

async function runIn(spec: RunSpec): Promise<Ran> {
  const stdout = new Capture();
  const stderr = new Capture();
  const result = await executor.run(spec, rootfs, { stdout, stderr });
  return { ...result, stdout: stdout.text, stderr: stderr.text };
}

/** The probe's answer for each call, by name. */
async function probe(calls: readonly string[], overrides: Partial<RunSpec> = {}): Promise<Record<string, string>> {
  const ran = await runIn({ ...shell(''), argv: ['seccomp-probe', ...calls], ...overrides });
  return Object.fromEntries(ran.stdout.trim().split('\n').filter((line) => line !== '').map((line) => line.split(' ') as [string, string]));
}

const STATUS = 'grep -E "^(CapEff|NoNewPrivs|Seccomp|Seccomp_filters):" /proc/self/status';

function statusOf(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((line) => line.split(/:\s+/) as [string, string]));
}

async function statusIn(t: ExecutionContext, overrides: Partial<RunSpec>): Promise<Record<string, string>> {
  const ran = await runIn(shell(STATUS, overrides));
  t.is(ran.exitCode, 0, ran.stderr);
  return statusOf(ran.stdout);
}

test('the kernel has seccomp filters with the errno and kill-process actions', async (t) => {
  const status = await readFile('/proc/self/status', 'utf8');
  t.regex(status, /^Seccomp:/m, 'this kernel has no seccomp (no Seccomp: line in /proc/self/status; CONFIG_SECCOMP)');
  const actions = await readFile('/proc/sys/kernel/seccomp/actions_avail', 'utf8').catch(() => '');
  for (const action of ['errno', 'kill_process', 'allow']) {
    t.true(actions.split(/\s+/).includes(action), `this kernel's seccomp lacks the ${action} action (/proc/sys/kernel/seccomp/actions_avail: "${actions.trim()}")`);
  }
});

test('by default the command runs in seccomp filter mode under one filter, with Docker’s capabilities', async (t) => {
  t.deepEqual(await statusIn(t, {}), { CapEff: '00000000a80425fb', NoNewPrivs: '0', Seccomp: '2', Seccomp_filters: '1' });
});

test('with no_new_privs, or as a user without capabilities, the filter is installed too', async (t) => {
  t.like(await statusIn(t, { noNewPrivileges: true }), { NoNewPrivs: '1', Seccomp: '2', Seccomp_filters: '1' });
  t.like(await statusIn(t, { user: { uid: 1000, gid: 1000, additionalGids: [] } }), { CapEff: '0000000000000000', Seccomp: '2' });
});

test('unconfined runs install no filter', async (t) => {
  t.like(await statusIn(t, { seccomp: 'unconfined' }), { CapEff: '00000000a80425fb', Seccomp: '0', Seccomp_filters: '0' });
});

test('kiln-init runs under the filter as well as the command', async (t) => {
  const ran = await runIn(shell('grep -E "^Seccomp:" /proc/1/status'));
  t.is(ran.stdout, 'Seccomp:\t2\n');
});

test('unshare -U, which needs no capability, fails with EPERM by the filter and works unconfined', async (t) => {
  const confined = await runIn(shell('unshare -U true'));
  t.not(confined.exitCode, 0);
  t.regex(confined.stderr, /Operation not permitted/);
  const unconfined = await runIn(shell('unshare -U true', { seccomp: 'unconfined' }));
  t.deepEqual({ exitCode: unconfined.exitCode, stderr: unconfined.stderr }, { exitCode: 0, stderr: '' });
});

test('keyctl and add_key fail with EPERM by the filter, and reach the kernel unconfined', async (t) => {
  t.deepEqual(await probe(['keyctl', 'add_key']), { keyctl: 'EPERM', add_key: 'EPERM' });
  const unconfined = await probe(['keyctl', 'add_key'], { seccomp: 'unconfined' });
  t.not(unconfined.keyctl, 'EPERM');
  t.not(unconfined.add_key, 'EPERM');
});

test('the argument rules apply in the kernel: clone3 is ENOSYS, AF_VSOCK and odd personas EPERM, namespaces refused', async (t) => {
  const calls = ['clone3', 'unshare-user', 'socket-vsock', 'socket-inet', 'personality-query', 'personality-norandom'];
  t.deepEqual(await probe(calls), {
    clone3: 'ENOSYS',
    'unshare-user': 'EPERM',
    'socket-vsock': 'EPERM',
    'socket-inet': 'ok',
    'personality-query': 'ok',
    'personality-norandom': 'EPERM',
  });
  // Unconfined, the kernel itself answers: clone3 refuses a zero size, the rest succeed (or
  // fail for their own reasons, never EPERM).
  const unconfined = await probe(calls, { seccomp: 'unconfined' });
  t.is(unconfined.clone3, 'EINVAL');
  t.is(unconfined['unshare-user'], 'ok');
  t.not(unconfined['socket-vsock'], 'EPERM');
  t.is(unconfined['personality-norandom'], 'ok');
});

(process.arch === 'x64' ? test : test.skip)('an x32 system call kills the process with SIGSYS', async (t) => {
  const ran = await runIn({ ...shell(''), argv: ['seccomp-probe', 'keyctl', 'x32-getpid', 'keyctl'] });
  t.is(ran.stdout, 'keyctl EPERM\n');
  t.is(ran.exitCode, 128 + 31);
});

test('the profile follows the capabilities: with CAP_SYS_ADMIN mount works, without it fails for lack of the capability', async (t) => {
  const script = 'mount -t tmpfs kiln /mnt && grep -c " /mnt tmpfs " /proc/mounts';
  const admin = await runIn(shell(`mkdir -p /mnt; ${script}`, { capabilities: ['CAP_SYS_ADMIN'] }));
  t.deepEqual({ exitCode: admin.exitCode, stdout: admin.stdout }, { exitCode: 0, stdout: '1\n' });
  // Unconfined with Docker's capabilities, the kernel refuses it: no CAP_SYS_ADMIN.
  const unconfined = await runIn(shell(`mkdir -p /mnt; ${script}`, { seccomp: 'unconfined' }));
  t.not(unconfined.exitCode, 0);
  t.regex(unconfined.stderr, /permission denied/i);
});

test('an ordinary busybox workload runs under the filter', async (t) => {
  const ran = await runIn(
    shell('ls /bin/sh /bin/ls | wc -l; echo a b c | wc -w; sleep 0.05 & wait; cat /etc/passwd | grep -c root; date +%Y >/dev/null && echo dated; id -u; cd /tmp && touch f && ls'),
  );
  t.deepEqual(ran, { exitCode: 0, signal: null, oomKilled: false, stdout: '2\n3\n1\ndated\n0\nf\n', stderr: '' });
});
