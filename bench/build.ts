import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRoot, removeRoot } from '../src/sandbox/sandbox-test-kit.ts';
import {
  BIG_CONTEXT_TOUCHED_FILE,
  CHAINED_STEPS,
  editSmallApp,
  SLEEP_SECONDS,
  SLEEP_STAGES,
  writeBigContext,
  writeChainedRuns,
  writeParallelSleeps,
  writeSmallApp,
} from './build-contexts.ts';
import { ingestContext, nodeStart, sandboxStep, statWalk } from './build-lower-bounds.ts';
import { median } from './sample.ts';
import { PEAK_RSS_SOURCE, timeProcess, type ProcessTiming } from './time-process.ts';
import type { Measurement, Workload, WorkloadOptions } from './workload.ts';

/*
 * bench/build (issue #6): `kiln build` through the bundled CLI (dist/cli.js, as a user runs
 * it) on generated contexts, against lower bounds measured in the same run, round by round
 * so that drift in the machine's load touches both alike:
 *
 *   W1 small app, cold            node -e 0 + cp -a & sha256sum of the context + 3 sandboxed steps
 *   W2 small app, no-op rebuild   node -e 0
 *   W3 small app, one file edited node -e 0 + cp -a & sha256sum of the context + 3 sandboxed steps
 *   W4 20,000 files / 300 MB      cold: node -e 0 + cp -a & sha256sum + 1 sandboxed step;
 *                                 unchanged and one file touched: node -e 0 + a stat walk
 *   W5 four `sleep 1` stages      node -e 0 + 1 s
 *   W6 40 chained RUNs            cold: node -e 0 + 40 sandboxed steps; no-op: node -e 0;
 *                                 and ms per step ((cold - no-op) / 40) against one step
 *
 * A sandboxed step's bound is `unshare --mount --pid --net --uts --ipc --fork chroot ROOTFS
 * /bin/true`. Every cold build runs on a fresh kiln root holding only the imported busybox
 * base; rebuilds run on the root the last cold build left. Peak RSS of kiln during W4 cold
 * comes from GNU time (else polled VmHWM), against node -e 0's own. Everything lives under
 * one temp dir, removed only at the end: on ext4 without a journal, creating an inode scans
 * past every inode deleted in the last minutes (ext4 find_inode_bit, recently_deleted), so a
 * root or context copy deleted between runs would slow the next run's every mkdir (measured:
 * half of W6's CPU time after 20,000 files were deleted). W4 runs last for the same reason.
 */

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;

/** The ms figures of one series: kiln's, and the bound's components by name. */
interface Series {
  readonly kiln: number[];
  readonly bounds: Record<string, number[]>;
  /** The 1-minute load average after each kiln run: this machine may be shared. */
  readonly load: number[];
}

function series(): Series {
  return { kiln: [], bounds: {}, load: [] };
}

function record(into: Series, kiln: number, bounds: Readonly<Record<string, number>>): void {
  into.kiln.push(kiln);
  into.load.push(loadavg()[0] ?? Number.NaN);
  for (const [name, ms] of Object.entries(bounds)) (into.bounds[name] ??= []).push(ms);
}

/** A series as a measurement: the bound is the median of each round's summed components. */
function measurement(name: string, runs: number, s: Series, notes: readonly string[] = []): Measurement {
  const components = Object.entries(s.bounds);
  const totals = s.kiln.map((_, i) => components.reduce((sum, [, ms]) => sum + (ms[i] ?? 0), 0));
  const kiln = median(s.kiln);
  const bound = median(totals);
  return {
    name,
    unit: 'ms',
    better: 'lower',
    runs,
    kiln,
    reference: { name: components.map(([n]) => n).join(' + '), median: bound },
    ratio: kiln / bound,
    target: undefined,
    notes: [
      `bound: ${components.map(([n, ms]) => `${n} ${median(ms).toFixed(1)} ms`).join(', ')}`,
      `kiln runs: ${s.kiln.map((ms) => ms.toFixed(0)).join(', ')} ms; load average ${Math.min(...s.load).toFixed(1)}-${Math.max(...s.load).toFixed(1)}`,
      ...notes,
    ],
  };
}

export const workload: Workload = {
  name: 'build',
  description: 'kiln build (small app, 300 MB context, parallel stages, 40 chained RUNs) against lower bounds',
  async measure(options: WorkloadOptions): Promise<readonly Measurement[]> {
    const runs = options.runs ?? 3;
    const log = (line: string): void => options.log(`build: ${line}`);
    const work = await mkdtemp(join(tmpdir(), 'kiln-bench-build-'));
    const rootfs = await busyboxRoot();
    try {
      const baseTar = join(work, 'busybox.tar');
      execFileSync('tar', ['-C', rootfs, '-cf', baseTar, '.']);
      let roots = 0;
      /** A new kiln root holding only busybox:latest (imported untimed). */
      const freshRoot = async (): Promise<string> => {
        const root = join(work, `root-${roots++}`);
        await mkdir(root);
        await timeProcess([process.execPath, CLI, '--root', root, 'import', baseTar, 'busybox:latest', '--change', 'CMD ["sh"]']);
        return root;
      };
      const build = (root: string, context: string, tag: string): Promise<ProcessTiming> =>
        timeProcess([process.execPath, CLI, '--root', root, 'build', '--progress', 'plain', '-t', tag, context]);
      const step = (): Promise<number> => sandboxStep(rootfs);
      const node = async (): Promise<number> => (await nodeStart()).ms;
      let copies = 0;
      const ingest = (context: string): Promise<number> => ingestContext(context, join(work, `ingest-${copies++}`));
      const progress = (what: string, i: number, t: ProcessTiming): void => log(`${what} ${i + 1}/${runs}: ${t.ms.toFixed(0)} ms`);

      const app = join(work, 'w1-app');
      const big = join(work, 'w4-context');
      const sleeps = join(work, 'w5-sleeps');
      const chain = join(work, 'w6-chain');
      await writeSmallApp(app);
      await writeParallelSleeps(sleeps);
      await writeChainedRuns(chain);
      log('generating the 20,000-file context');
      const bigSize = await writeBigContext(big);
      log(`contexts written (W4: ${bigSize.files} files, ${(bigSize.bytes / 1e6).toFixed(0)} MB); one untimed warm-up build`);
      await build(await freshRoot(), app, 'bench/warmup');

      // W1 cold, then W2 no-op and W3 one-file edit on the last cold root.
      const w1 = series();
      let root = '';
      for (let i = 0; i < runs; i++) {
        root = await freshRoot();
        const t = await build(root, app, 'bench/app');
        progress('W1 cold', i, t);
        const steps = await step();
        record(w1, t.ms, { 'node -e 0': await node(), 'cp -a + sha256sum': await ingest(app), '3 sandboxed steps': 3 * steps });
      }
      const w2 = series();
      for (let i = 0; i < runs; i++) {
        const t = await build(root, app, 'bench/app');
        progress('W2 no-op', i, t);
        record(w2, t.ms, { 'node -e 0': await node() });
      }
      const w3 = series();
      for (let i = 0; i < runs; i++) {
        await editSmallApp(app, i);
        const t = await build(root, app, 'bench/app');
        progress('W3 one file edited', i, t);
        const steps = await step();
        record(w3, t.ms, { 'node -e 0': await node(), 'cp -a + sha256sum': await ingest(app), '3 sandboxed steps': 3 * steps });
      }

      // W5: four independent stages of `sleep 1`, cold.
      const w5 = series();
      for (let i = 0; i < runs; i++) {
        const t = await build(await freshRoot(), sleeps, 'bench/sleeps');
        progress('W5 cold', i, t);
        record(w5, t.ms, { 'node -e 0': await node(), [`${SLEEP_SECONDS} s`]: SLEEP_SECONDS * 1000 });
      }

      // W6: forty chained RUNs, cold, then no-op on the last cold root.
      const w6 = series();
      const stepBound: number[] = [];
      for (let i = 0; i < runs; i++) {
        root = await freshRoot();
        const t = await build(root, chain, 'bench/chain');
        progress('W6 cold', i, t);
        const steps = await step();
        stepBound.push(steps);
        record(w6, t.ms, { 'node -e 0': await node(), [`${CHAINED_STEPS} sandboxed steps`]: CHAINED_STEPS * steps });
      }
      const w6Noop = series();
      for (let i = 0; i < runs; i++) {
        const t = await build(root, chain, 'bench/chain');
        progress('W6 no-op', i, t);
        record(w6Noop, t.ms, { 'node -e 0': await node() });
      }

      // W4 last, as it writes the most: cold (with peak RSS), then unchanged and one file touched on the last cold root.
      const w4 = series();
      const rss: number[] = [];
      const nodeRss: number[] = [];
      for (let i = 0; i < runs; i++) {
        root = await freshRoot();
        const t = await build(root, big, 'bench/big');
        progress('W4 cold', i, t);
        if (t.peakRssKiB !== undefined) rss.push(t.peakRssKiB / 1024);
        const n = await nodeStart();
        if (n.peakRssKiB !== undefined) nodeRss.push(n.peakRssKiB / 1024);
        record(w4, t.ms, { 'node -e 0': n.ms, 'cp -a + sha256sum': await ingest(big), '1 sandboxed step': await step() });
      }
      const w4Unchanged = series();
      for (let i = 0; i < runs; i++) {
        const t = await build(root, big, 'bench/big');
        progress('W4 unchanged', i, t);
        record(w4Unchanged, t.ms, { 'node -e 0': await node(), 'stat walk': await statWalk(big) });
      }
      const w4Touched = series();
      for (let i = 0; i < runs; i++) {
        // A new mtime, the same content: kiln must re-read this one file and find every key unchanged.
        const when = new Date(Date.now() - 60_000 + i * 1000);
        await utimes(join(big, BIG_CONTEXT_TOUCHED_FILE), when, when);
        const t = await build(root, big, 'bench/big');
        progress('W4 one file touched', i, t);
        record(w4Touched, t.ms, { 'node -e 0': await node(), 'stat walk': await statWalk(big) });
      }

      const perStep = (median(w6.kiln) - median(w6Noop.kiln)) / CHAINED_STEPS;
      const stepMedian = median(stepBound);
      const peak = rss.length > 0 ? Math.max(...rss) : Number.NaN;
      const nodePeak = nodeRss.length > 0 ? median(nodeRss) : Number.NaN;
      const rate = (bigSize.bytes / 1e6) / (median(w4.kiln) / 1000);
      return [
        measurement('W1 small app: cold', runs, w1),
        measurement('W2 small app: no-op rebuild', runs, w2),
        measurement('W3 small app: one source file edited', runs, w3),
        measurement('W4 20,000 files / 300 MB: cold', runs, w4, [`${rate.toFixed(0)} MB/s of context`]),
        measurement('W4 20,000 files / 300 MB: unchanged', runs, w4Unchanged),
        measurement('W4 20,000 files / 300 MB: one file touched', runs, w4Touched),
        measurement(`W5 ${SLEEP_STAGES} independent sleep ${SLEEP_SECONDS} stages: cold`, runs, w5),
        measurement(`W6 ${CHAINED_STEPS} chained RUNs: cold`, runs, w6),
        measurement(`W6 ${CHAINED_STEPS} chained RUNs: no-op`, runs, w6Noop),
        {
          name: `W6 ms per chained RUN step ((cold - no-op) / ${CHAINED_STEPS})`,
          unit: 'ms',
          better: 'lower',
          runs,
          kiln: perStep,
          reference: { name: 'unshare + chroot /bin/true', median: stepMedian },
          ratio: perStep / stepMedian,
          target: undefined,
          notes: [],
        },
        {
          name: 'W4 cold: kiln peak RSS',
          unit: 'MiB',
          better: 'lower',
          runs,
          kiln: peak,
          reference: { name: 'node -e 0 peak RSS', median: nodePeak },
          ratio: peak / nodePeak,
          target: undefined,
          notes: [
            `highest of the ${rss.length} runs that reported it, from ${PEAK_RSS_SOURCE}`,
            'for scale: the store workload holds import and save under 200 MiB',
          ],
        },
      ];
    } finally {
      await removeRoot(rootfs);
      await rm(work, { recursive: true, force: true });
    }
  },
};
