import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { RunSpec } from './executor.ts';

/*
 * What the sandbox tests share: a busybox root file system, a spec to start from, output
 * capture, and looks at the host (its mount table, its processes). Test code only.
 */

const run = promisify(execFile);

/** Where Debian's busybox-static installs the static binary (as src/e2e/busybox.ts). */
export const BUSYBOX = '/bin/busybox';

/**
 * A directory holding a busybox root file system: /bin/busybox, a link for each applet,
 * /etc/passwd and /etc/group. Fails saying which package to install when busybox is missing.
 */
export async function busyboxRoot(): Promise<string> {
  const { stdout } = await run(BUSYBOX, ['--list']).catch((cause: Error) => {
    throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static (${cause.message})`);
  });
  const root = await mkdtemp(join(tmpdir(), 'kiln-sandbox-rootfs-'));
  // mkdtemp makes it 0700: a command run as another user could not even traverse `/`.
  await chmod(root, 0o755);
  for (const dir of ['bin', 'etc', 'tmp', 'root']) await mkdir(join(root, dir), { recursive: true });
  await copyFile(BUSYBOX, join(root, 'bin', 'busybox'));
  for (const applet of stdout.split('\n')) {
    if (applet !== '' && applet !== 'busybox') await symlink('busybox', join(root, 'bin', applet));
  }
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await writeFile(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  return root;
}

export async function removeRoot(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}

/** A spec running `sh -c script` as root in /, without network. */
export function shell(script: string, overrides: Partial<RunSpec> = {}): RunSpec {
  return {
    argv: ['sh', '-c', script],
    env: ['PATH=/bin', 'HOME=/root'],
    cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: 'kiln-sandbox',
    network: 'none',
    ...overrides,
  };
}

/** A stream that keeps what is written to it, as text, and calls `onData` with the whole so far. */
export class Capture extends Writable {
  text = '';
  onData: ((text: string) => void) | undefined;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString('utf8');
    this.onData?.(this.text);
    callback();
  }

  /** Resolves once `pattern` has been written. */
  async waitFor(pattern: RegExp): Promise<void> {
    if (pattern.test(this.text)) return;
    await new Promise<void>((resolve) => {
      this.onData = (text) => {
        if (pattern.test(text)) resolve();
      };
    });
  }
}

/** kiln's own mount table: the sandbox must never change it. */
export async function hostMounts(): Promise<string> {
  // Only what a sandbox could leak: every mount it makes is under its run's scratch
  // directory (kiln-sandbox-*). Other suites (snapshots) mount on the host meanwhile.
  const lines = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n');
  return lines.filter((line) => (line.split(' ')[4] ?? '').includes('/kiln-sandbox-')).join('\n');
}

/** The pids of the host's processes whose command line contains `token`. */
export async function processesWith(token: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(token)) pids.push(Number(entry));
  }
  return pids;
}

/** Polls `check` every 20 ms until it returns true or `ms` pass; returns its last answer. */
export async function pollUntil(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
