import { spawn, spawnSync } from 'node:child_process';

/** The built CLI (`npm test` builds dist/ in pretest). */
export const CLI = new URL('../../dist/cli.cjs', import.meta.url).pathname;

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `kiln ARGS` on `root` and waits for it. */
export function kiln(root: string, args: readonly string[], options: { input?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): Run {
  const r = spawnSync(process.execPath, [CLI, '--root', root, ...args], {
    input: options.input,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    maxBuffer: 1 << 30,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `kiln ARGS` on `root` without blocking the test process (for concurrency tests). */
export function kilnAsync(root: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return startKiln(root, args, env).result;
}

/** Starts `kiln ARGS`; `pid` lets a test signal exactly the process it started. */
export function startKiln(root: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): { pid: number; result: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, '--root', root, ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { pid: child.pid ?? -1, result };
}
