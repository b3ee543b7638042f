import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { unmountUnder } from './unmount-under.ts';

/** Options of {@link PrivateDockerd.start}. */
export interface PrivateDockerdOptions {
  /** An empty directory the daemon keeps everything in: socket, data, exec root, pid file, log. */
  readonly dir: string;
  /** The dockerd binary (default: `dockerd` from PATH). */
  readonly dockerd?: string;
  /** `--storage-driver`; dockerd's own choice (overlay2 where the kernel has overlay) when absent. */
  readonly storageDriver?: string;
  /** How long to wait for the API to answer, ms (default 60 s). */
  readonly readyTimeoutMs?: number;
}

/** Daemons started and not yet stopped: killed if this process exits without stopping them. */
const live = new Set<PrivateDockerd>();
let exitHookInstalled = false;

/**
 * A dockerd this process starts for itself: its API on a UNIX socket inside `dir` only, no
 * bridge, no iptables, no forwarding or masquerading, its own data root, exec root (where it
 * starts its own containerd), pid file and an empty config file (so /etc/docker/daemon.json
 * does not apply). {@link start} resolves once `/_ping` answers; {@link stop} ends it by the
 * PID it started (SIGTERM, then SIGKILL), then the containerd it started if that outlived it,
 * and lifts any mount left under `dir`. The files stay: the caller removes `dir`.
 */
export class PrivateDockerd {
  /** The UNIX socket the API listens on. */
  readonly socket: string;
  /** `unix://SOCKET`, for `docker -H`. */
  readonly host: string;
  readonly dir: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #stopped: Promise<void> | undefined;

  private constructor(dir: string, child: ChildProcess, exited: Promise<void>) {
    this.dir = dir;
    this.socket = join(dir, 'docker.sock');
    this.host = `unix://${this.socket}`;
    this.#child = child;
    this.#exited = exited;
  }

  /** The PID of the dockerd process this object started. */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /**
   * Starts dockerd in `options.dir` and waits until its API answers. Rejects (having stopped
   * it) with the tail of its log when it exits early or does not answer in time.
   */
  static async start(options: PrivateDockerdOptions): Promise<PrivateDockerd> {
    const dir = options.dir;
    await mkdir(dir, { recursive: true });
    const config = join(dir, 'daemon.json');
    await writeFile(config, '{}\n');
    const args = [
      `--host=unix://${join(dir, 'docker.sock')}`,
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--pidfile=${join(dir, 'dockerd.pid')}`,
      `--config-file=${config}`,
      '--bridge=none',
      '--iptables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--log-level=warn',
      ...(options.storageDriver === undefined ? [] : [`--storage-driver=${options.storageDriver}`]),
    ];
    const log = openSync(join(dir, 'dockerd.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(options.dockerd ?? 'dockerd', args, { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    let exitedEarly = false;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        exitedEarly = true;
        resolve();
      });
      child.once('error', () => {
        exitedEarly = true;
        resolve();
      });
    });
    const daemon = new PrivateDockerd(dir, child, exited);
    live.add(daemon);
    installExitHook();
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    while (!(await ping(daemon.socket))) {
      if (exitedEarly || Date.now() > deadline) {
        await daemon.stop();
        const tail = (await readFile(join(dir, 'dockerd.log'), 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n');
        throw new Error(`dockerd in ${dir} ${exitedEarly ? 'exited' : 'did not answer in time'}:\n${tail}`);
      }
      await sleep(50);
    }
    return daemon;
  }

  /** dockerd's peak resident memory so far (VmHWM), KiB; undefined once it is gone. */
  peakRssKiB(): number | undefined {
    try {
      const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1];
      return kib === undefined ? undefined : Number(kib);
    } catch {
      return undefined;
    }
  }

  /**
   * Stops the daemon: SIGTERM to the PID started, SIGKILL after `graceMs`; then the same for the
   * containerd it started (by the pid file in its exec root) should that still run; then lifts
   * the mounts left under `dir`. Idempotent; never rejects.
   */
  stop(graceMs = 20_000): Promise<void> {
    this.#stopped ??= this.#stop(graceMs);
    return this.#stopped;
  }

  async #stop(graceMs: number): Promise<void> {
    const containerd = readPid(join(this.dir, 'exec', 'containerd', 'containerd.pid'));
    if (this.#child.exitCode === null && this.#child.signalCode === null && this.#child.pid !== undefined) {
      this.#child.kill('SIGTERM');
      const gone = await Promise.race([this.#exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!gone) {
        this.#child.kill('SIGKILL');
        await this.#exited;
      }
    }
    if (containerd !== undefined) await stopStray(containerd, 'containerd', graceMs);
    live.delete(this);
    await unmountUnder(this.dir).catch(() => undefined);
  }
}

/** Whether the API on `socket` answers GET /_ping with 200. */
function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs a program whose command line names `name` (guards against PID reuse). */
function runs(pid: number, name: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith(name) ?? false;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`, to a process that is not our child (polled). */
async function stopStray(pid: number, name: string, graceMs: number): Promise<void> {
  if (!runs(pid, name)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (runs(pid, name) && Date.now() < deadline) await sleep(50);
  if (runs(pid, name)) process.kill(pid, 'SIGKILL');
}

/** On exit without stop() (an uncaught error, process.exit): SIGKILL what is still running. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const daemon of live) {
      try {
        process.kill(daemon.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}
