import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinuxExecutor, type RunSpec } from '../src/sandbox/index.ts';
import { busyboxRoot, removeRoot } from '../src/sandbox/sandbox-test-kit.ts';
import { median } from './sample.ts';
import type { Measurement, Workload, WorkloadOptions } from './workload.ts';

/*
 * bench/sandbox: median latency of running /bin/true from a busybox rootfs through kiln's
 * sandbox with its whole setup (mount, pid, uts, ipc, net and cgroup namespaces, Docker's
 * /dev, /proc and /sys, pivot_root, kiln-init as PID 1), against, in the same run, the bare
 * bound `unshare --mount --pid --net --uts --ipc --fork chroot ROOTFS /bin/true`, and runc
 * or crun when installed (issue #5 asks for both; neither is required). The runs alternate with
 * ones under seccomp 'unconfined', whose median is the cost of the default seccomp filter
 * (compiled once per process, installed per run).
 */
/** `/bin/true` as root in a sandbox without network: what this suite and W8 (bench/build) run. */
export const TRUE_SPEC: RunSpec = {
  argv: ['/bin/true'],
  env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  cwd: '/',
  user: { uid: 0, gid: 0, additionalGids: [] },
  hostname: 'bench',
  network: 'none',
};

export const workload: Workload = {
  name: 'sandbox',
  description: 'run /bin/true in the sandbox, against unshare + chroot',
  async measure(options: WorkloadOptions): Promise<readonly Measurement[]> {
    const runs = options.runs ?? 50;
    const root = await busyboxRoot();
    try {
      const executor = new LinuxExecutor();
      const rootfs = [{ type: 'bind' as const, source: root, options: ['rbind', 'ro'] }];
      const kiln: number[] = [];
      const unconfined: number[] = [];
      const bare: number[] = [];
      for (let i = 0; i < runs + 3; i++) {
        let start = performance.now();
        const result = await executor.run(TRUE_SPEC, rootfs, {}, AbortSignal.timeout(10_000));
        const k = performance.now() - start;
        if (result.exitCode !== 0) throw new Error(`the sandbox's /bin/true exited ${String(result.exitCode)}`);
        start = performance.now();
        const plain = await executor.run({ ...TRUE_SPEC, seccomp: 'unconfined' }, rootfs, {}, AbortSignal.timeout(10_000));
        const p = performance.now() - start;
        if (plain.exitCode !== 0) throw new Error(`the unconfined sandbox's /bin/true exited ${String(plain.exitCode)}`);
        start = performance.now();
        const u = spawnSync('unshare', ['--mount', '--pid', '--net', '--uts', '--ipc', '--fork', 'chroot', root, '/bin/true']);
        const b = performance.now() - start;
        if (u.status !== 0) throw new Error(`unshare + chroot failed: ${u.stderr.toString()}`);
        if (i < 3) continue;
        kiln.push(k);
        unconfined.push(p);
        bare.push(b);
      }
      const k = median(kiln);
      const p = median(unconfined);
      const b = median(bare);
      const measurements: Measurement[] = [
        {
          name: 'sandboxed /bin/true',
          unit: 'ms',
          better: 'lower',
          runs,
          kiln: k,
          reference: { name: 'unshare + chroot (bare bound)', median: b },
          ratio: k / b,
          target: undefined,
          notes: [],
        },
        {
          name: 'sandboxed /bin/true, the cost of seccomp',
          unit: 'ms',
          better: 'lower',
          runs,
          kiln: k,
          reference: { name: "kiln with seccomp 'unconfined'", median: p },
          ratio: k / p,
          target: undefined,
          notes: [`the default filter adds ${(k - p).toFixed(2)} ms per run`],
        },
      ];
      for (const peer of ['crun', 'runc']) {
        if (spawnSync('which', [peer]).status !== 0) {
          options.log(`sandbox: ${peer} is not installed; not measured`);
          continue;
        }
        let times: number[];
        try {
          times = await timePeer(peer, root, runs);
        } catch (error) {
          // crun refuses hybrid cgroup layouts such as this machine's; say so and go on.
          options.log(`sandbox: ${peer} does not run here: ${(error as Error).message.trim()}`);
          continue;
        }
        const m = median(times);
        measurements.push({
          name: `sandboxed /bin/true against ${peer}`,
          unit: 'ms',
          better: 'lower',
          runs,
          kiln: k,
          reference: { name: `${peer} run (OCI bundle, same rootfs)`, median: m },
          ratio: k / m,
          target: peer === 'crun' ? { statement: 'faster than crun', met: k < m } : { statement: 'at most half of runc', met: k <= m / 2 },
          notes: [],
        });
      }
      return measurements;
    } finally {
      await removeRoot(root);
    }
  },
};

/** Runs `PEER run` on an OCI bundle made by `PEER spec` for the same rootfs, read-only. */
async function timePeer(peer: string, rootfs: string, runs: number): Promise<number[]> {
  const bundle = await mkdtemp(join(tmpdir(), `kiln-bench-${peer}-`));
  try {
    const spec = spawnSync(peer, ['spec'], { cwd: bundle });
    if (spec.status !== 0) throw new Error(`${peer} spec failed: ${spec.stderr.toString()}`);
    const config = JSON.parse(spawnSync('cat', [join(bundle, 'config.json')]).stdout.toString());
    config.root = { path: rootfs, readonly: true };
    config.process.args = ['/bin/true'];
    config.process.terminal = false;
    await writeFile(join(bundle, 'config.json'), JSON.stringify(config));
    const times: number[] = [];
    for (let i = 0; i < runs + 3; i++) {
      const start = performance.now();
      const r = spawnSync(peer, ['run', '--bundle', bundle, `kiln-bench-${process.pid}-${i}`]);
      const elapsed = performance.now() - start;
      if (r.status !== 0) throw new Error(`${peer} run failed: ${r.stderr.toString()}`);
      if (i >= 3) times.push(elapsed);
    }
    return times;
  } finally {
    await rm(bundle, { recursive: true, force: true });
  }
}
