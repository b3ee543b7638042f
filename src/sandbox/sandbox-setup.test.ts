import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InternalError } from '../errors/index.ts';
import type { NativeSandboxError } from '../native/index.ts';
import type { RunResult, RunSpec } from './executor.ts';
import { LinuxExecutor } from './linux-executor.ts';
import { busyboxRoot, Capture, hostMounts, removeRoot, shell } from './sandbox-test-kit.ts';

/*
 * The setup sandboxSetup plans, as the child performs it: mount targets resolved inside the
 * root file system whatever its symlinks say, and Docker's masked and read-only /proc paths.
 * Real sandboxes (we are root), each on its own busybox tree where the tree is changed.
 */

const executor = new LinuxExecutor({ gracePeriodMs: 300 });

interface Ran extends RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** The host's mount table lines naming `path`, mount points and sources alike. */
async function mountsNaming(path: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((line) => line.includes(path));
}

/** The host's mounts on `/` itself: a mount the sandbox leaked over the host's root would add one. */
async function mountsOnSlash(): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((line) => line.split(' ')[4] === '/');
}

async function runOn(root: string, spec: RunSpec): Promise<Ran> {
  const stdout = new Capture();
  const stderr = new Capture();
  const result = await executor.run(spec, [{ type: 'bind', source: root, options: ['rbind', 'rw'] }], { stdout, stderr });
  return { ...result, stdout: stdout.text, stderr: stderr.text };
}

/** A busybox root for one test, and a host directory outside it holding one file; both removed after. */
async function rootAndHostDir(t: ExecutionContext): Promise<{ root: string; host: string }> {
  const root = await busyboxRoot();
  const host = await mkdtemp(join(tmpdir(), 'kiln-host-dir-'));
  await writeFile(join(host, 'sentinel'), 'host\n');
  t.teardown(async () => {
    await removeRoot(root);
    await rm(host, { recursive: true, force: true });
  });
  return { root, host };
}

test('etc -> a host directory: the /etc files are made in the root’s copy of that path, never on the host', async (t) => {
  const { root, host } = await rootAndHostDir(t);
  const before = await hostMounts();
  // runc's semantics: the symlink is followed as if the root were `/`, so /etc is <root><host>.
  const inside = join(root, host);
  await mkdir(inside, { recursive: true });
  await writeFile(join(inside, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await rm(join(root, 'etc'), { recursive: true });
  await symlink(host, join(root, 'etc'));

  const ran = await runOn(root, shell('cat /etc/hostname; ls /etc', { hostname: 'kiln-in-root' }));

  t.deepEqual(ran, { exitCode: 0, signal: null, oomKilled: false, stdout: 'kiln-in-root\nhostname\nhosts\npasswd\nresolv.conf\n', stderr: '' });
  t.deepEqual(await readdir(host), ['sentinel']);
  t.deepEqual((await readdir(inside)).sort(), ['hostname', 'hosts', 'passwd', 'resolv.conf']);
  t.deepEqual(await mountsNaming(host), []);
  t.is(await hostMounts(), before);
});

test('etc -> a host directory the root lacks: setup fails, nothing is made or mounted on the host', async (t) => {
  const { root, host } = await rootAndHostDir(t);
  const before = await hostMounts();
  await rm(join(root, 'etc'), { recursive: true });
  await symlink(host, join(root, 'etc'));

  const error = await t.throwsAsync(runOn(root, shell('true')), { instanceOf: InternalError });

  // A dangling symlink is not followed to create its target (runc refuses it too).
  t.like(error.cause as NativeSandboxError, { stage: 'file', syscall: 'openat2', code: 'ENOENT' });
  t.deepEqual(await readdir(host), ['sentinel']);
  t.false(existsSync(join(root, host)));
  t.deepEqual(await mountsNaming(host), []);
  t.is(await hostMounts(), before);
});

test('dev -> /tmp/…: /dev is mounted on the root’s /tmp/…, and the host’s /tmp is untouched', async (t) => {
  const { root } = await rootAndHostDir(t);
  const before = await hostMounts();
  const name = `kiln-dev-link-${process.pid}-${Date.now()}`;
  await mkdir(join(root, 'tmp', name));
  await symlink(`/tmp/${name}`, join(root, 'dev'));

  const ran = await runOn(root, shell(`readlink /dev; ls /tmp/${name} | tr "\\n" " "; echo; echo x > /dev/null && echo written`));

  t.is(ran.stderr, '');
  t.is(ran.exitCode, 0);
  const [link, listing, written] = ran.stdout.split('\n');
  t.is(link, `/tmp/${name}`);
  t.deepEqual(listing?.trim().split(' ').sort(), ['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
  t.is(written, 'written');
  t.false(existsSync(join('/tmp', name)));
  t.deepEqual(await mountsNaming(`/tmp/${name}`), []);
  t.is(await hostMounts(), before);
});

test('proc -> ../../..: a target resolving to the root itself is refused, and the host’s / gets no mount', async (t) => {
  const { root } = await rootAndHostDir(t);
  const before = await hostMounts();
  const slashBefore = await mountsOnSlash();
  await symlink('../../..', join(root, 'proc'));

  const error = await t.throwsAsync(runOn(root, shell('true')), { instanceOf: InternalError });

  // `..` stops at the root (openat2 RESOLVE_IN_ROOT): proc would cover the whole root file system.
  t.like(error.cause as NativeSandboxError, { stage: 'mount', syscall: 'openat2', code: 'EBUSY' });
  t.deepEqual(await mountsOnSlash(), slashBefore);
  t.is(await hostMounts(), before);
});

test('Docker’s masked /proc and /sys paths read as empty, those this kernel lacks are skipped', async (t) => {
  const { root } = await rootAndHostDir(t);
  const script = [
    // /proc/kcore is absent on some kernels: either way nothing is read from it.
    'echo kcore $(head -c 16 /proc/kcore 2>/dev/null | wc -c)',
    'echo keys $(wc -c < /proc/keys)',
    'echo timer_list $(wc -c < /proc/timer_list)',
    'echo acpi $(ls -A /proc/acpi | wc -l)',
    'echo firmware $(ls -A /sys/firmware | wc -l)',
    'touch /proc/acpi/x 2>&1',
  ].join('; ');
  const ran = await runOn(root, shell(script));
  t.is(ran.exitCode, 1);
  const lines = ran.stdout.split('\n');
  t.deepEqual(lines.slice(0, 5), ['kcore 0', 'keys 0', 'timer_list 0', 'acpi 0', 'firmware 0']);
  t.regex(lines[5] ?? '', /Read-only file system/);
  // They are there on the host: the masks are the sandbox's.
  t.not((await readFile('/proc/timer_list', 'utf8')).length, 0);
  t.not((await readdir('/sys/firmware')).length, 0);
});

test('Docker’s read-only /proc paths refuse writes with EROFS: sysrq-trigger, sys, bus, fs', async (t) => {
  const { root } = await rootAndHostDir(t);
  // Kernels without CONFIG_MAGIC_SYSRQ have no /proc/sysrq-trigger: runc skips it, and so does kiln.
  const sysrq = existsSync('/proc/sysrq-trigger');
  if (!sysrq) t.log('this kernel has no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ): checking that it is skipped');
  const script = [
    'echo h > /proc/sysrq-trigger',
    'echo 1 > /proc/sys/kernel/ns_last_pid',
    'grep -E " /proc/(sysrq-trigger|sys|irq|bus|fs) " /proc/self/mountinfo | grep -c " ro,"',
    'grep -E " /proc/(sysrq-trigger|sys|irq|bus|fs) " /proc/self/mountinfo | grep -vc " ro,"',
  ].join('; ');
  const ran = await runOn(root, shell(script));
  const [sysrqError, sysError] = ran.stderr.trim().split('\n');
  t.regex(sysrqError ?? '', sysrq ? /can't create \/proc\/sysrq-trigger: Read-only file system/ : /can't create \/proc\/sysrq-trigger: nonexistent/);
  t.regex(sysError ?? '', /can't create \/proc\/sys\/kernel\/ns_last_pid: Read-only file system/);
  const present = ['/proc/sysrq-trigger', '/proc/sys', '/proc/irq', '/proc/bus', '/proc/fs'].filter((path) => existsSync(path));
  const [readonly, writable] = ran.stdout.split('\n');
  t.is(Number(readonly), present.length, `${readonly} of /proc's read-only paths are mounted read-only, ${present.length} exist`);
  t.is(writable, '0');
});
