import { spawn, spawnSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How long a child process took and how much memory it held at most. */
export interface ProcessTiming {
  /** Wall-clock time from spawn to exit, in ms. */
  readonly ms: number;
  /** Peak resident set size in KiB: GNU time's %M, else the last VmHWM polled; undefined when neither could be read. */
  readonly peakRssKiB: number | undefined;
  /** What the child wrote to standard error (its last 16 KiB), for error messages. */
  readonly stderr: string;
}

/** Options of {@link timeProcess}. */
export interface TimeProcessOptions {
  readonly cwd?: string;
  /** Added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

const STDERR_KEPT = 16 * 1024;
const POLL_MS = 10;

/** Whether /usr/bin/time is GNU time (busybox's lacks `-o` and `%M`). */
const GNU_TIME = /GNU/.test(`${String(spawnSync('/usr/bin/time', ['--version'], { encoding: 'utf8' }).stdout)}`);

/** Where {@link ProcessTiming.peakRssKiB} comes from on this machine, for a benchmark's notes. */
export const PEAK_RSS_SOURCE = GNU_TIME ? "GNU time's %M" : '/proc/PID/status VmHWM polled every 10 ms';

/**
 * Runs `argv` to completion and times it. Its peak RSS comes from GNU time when that is
 * installed (wait4's ru_maxrss, which covers the child and the descendants it waited for);
 * otherwise from polling /proc/PID/status's VmHWM every 10 ms (the child's own high-water
 * mark, as last seen before it exited). Rejects, with the tail of standard error, when the
 * child exits non-zero or by a signal: a benchmark that cannot measure says why.
 */
export async function timeProcess(argv: readonly string[], options: TimeProcessOptions = {}): Promise<ProcessTiming> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('timeProcess needs a command');
  const rssFile = join(tmpdir(), `kiln-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const spawned = GNU_TIME ? ['/usr/bin/time', ['-f', '%M', '-o', rssFile, command, ...args]] as const : [command, args] as const;
  const start = performance.now();
  const child = spawn(spawned[0], spawned[1], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEPT);
  });
  let polled: number | undefined;
  const poll = GNU_TIME
    ? undefined
    : setInterval(() => {
        polled = readHighWaterMark(child.pid) ?? polled;
      }, POLL_MS);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  }).finally(() => clearInterval(poll));
  const ms = performance.now() - start;
  let peakRssKiB = polled;
  if (GNU_TIME) {
    const text = await readFile(rssFile, 'utf8').catch(() => '');
    await rm(rssFile, { force: true });
    // GNU time writes "Command exited with non-zero status N" above the figure on failure.
    const figure = /(\d+)\s*$/.exec(text)?.[1];
    peakRssKiB = figure === undefined ? undefined : Number(figure);
  }
  if (exit.code !== 0) {
    const how = exit.signal === null ? `exited ${String(exit.code)}` : `was killed by ${exit.signal}`;
    throw new Error(`${argv.join(' ')} ${how}:\n${stderr.trimEnd()}`);
  }
  return { ms, peakRssKiB, stderr };
}

/** VmHWM of a live process in KiB, or undefined once it is gone. */
function readHighWaterMark(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib);
  } catch {
    return undefined;
  }
}
