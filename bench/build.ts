import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdir, mkdtemp, rm, stat, utimes } from 'node:fs/promises';
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
import { exportTar, ingestContext, nodeStart, sandboxStep, statWalk } from './build-lower-bounds.ts';
import { onInterrupt } from './interrupt.ts';
import type { Builder, LayerCompression } from './peers/builder.ts';
import { createKilnBuilder } from './peers/kiln-builder.ts';
import { snapshotKilnPackage } from './peers/kiln-package.ts';
import { setUpPeers } from './peers/set-up-peers.ts';
import { unmountUnder } from './peers/unmount-under.ts';
import { measurement, peakOf, perStep, row, type Row } from './build-measurements.ts';
import { median } from './sample.ts';
import type { TargetClause } from './targets.ts';
import { PEAK_RSS_SOURCE } from './time-process.ts';
import type { Measurement, Workload, WorkloadOptions } from './workload.ts';

/*
 * bench/build (issues #6 and #7): W1-W8 through kiln's bundled CLI (a copy of dist/cli.cjs
 * taken as the suite starts, run as a user runs it) on generated contexts, against lower bounds measured in the same run and, with
 * --peers, against BuildKit and Buildah building the same contexts in the same run. Each
 * round runs every builder once, in an order that rotates from round to round, then the
 * bound, so that drift in the machine's load touches all alike:
 *
 *   W1 small app, cold            node -e 0 + cp -a & sha256sum of the context + 3 sandboxed steps
 *   W2 small app, no-op rebuild   node -e 0
 *   W3 small app, one file edited node -e 0 + cp -a & sha256sum of the context + 3 sandboxed steps
 *   W4 20,000 files / 300 MB      cold: node -e 0 + cp -a & sha256sum + 1 sandboxed step;
 *                                 unchanged and one file touched: node -e 0 + a stat walk
 *   W5 four `sleep 1` stages      node -e 0 + 1 s
 *   W6 40 chained RUNs            cold: node -e 0 + 40 sandboxed steps; no-op: node -e 0;
 *                                 and ms per step ((cold - no-op) / 40) against one step
 *   W7 save of the W4 image       tar -cf of the W4 context (gzip: first save after a
 *                                 build, then saved again; and uncompressed)
 *   W8 start of `true`            unshare + chroot /bin/true
 *
 * A sandboxed step's bound is `unshare --mount --pid --net --uts --ipc --fork chroot ROOTFS
 * /bin/true`. Every cold build runs on a fresh state holding only busybox (a new kiln root,
 * a new dockerd data root, a new Buildah storage root: see bench/peers/); rebuilds run on the
 * state the last cold build left; every timed run, bounds too, starts after a sync(1)
 * ({@link settle}). Peak RSS during W4 cold comes from GNU time (else polled VmHWM). Targets
 * are issue #7's. Everything lives under one temp dir, removed only at the end: on ext4
 * without a journal, creating an inode scans past every inode deleted in the last minutes
 * (ext4 find_inode_bit, recently_deleted), so a root, a daemon's data or a context copy
 * deleted between runs would slow the next run's every mkdir (measured: half of W6's CPU
 * time after 20,000 files were deleted). W4 runs last among the builds for the same reason,
 * and with peers each W4 cold run waits out the minute after the one before (Buildah deletes
 * its working container as it ends: {@link DELETED_INODE_WINDOW_MS}).
 */

/**
 * Writes every dirty page to the disk (sync(1)), untimed, before each timed run: what a
 * state's set-up, the builder before, or a bound's copy left in the page cache is flushed
 * now, not during the next builder's fsyncs (measured: 1.5 GB of another program's dirty
 * data made kiln's W4 COPY step 2.8 → 4.7 s).
 */
function settle(): void {
  execFileSync('sync');
}

/**
 * ext4 without a journal (this machine's root) will not reuse an inode deleted less than 60 s
 * ago while its inode table block is cached (fs/ext4/ialloc.c recently_deleted, RECENTCY_MIN;
 * 300 s more while that block is dirty): creating files scans past every such inode. Buildah
 * removes its working container, 20,000 files for W4, at the end of a build, so the next
 * builder's W4 COPY ran at half speed (kiln: 6.9 s first in a round, 11.5-12.0 s right after
 * Buildah). With peers, each W4 cold run and its bound waits this long after the one before.
 */
const DELETED_INODE_WINDOW_MS = 61_000;

/** Reads every file below `dir`, so the page cache holds it (untimed), as it did before a wait. */
function warmPageCache(dir: string): void {
  execFileSync('sh', ['-c', 'find "$1" -type f -exec cat {} + > /dev/null', 'warm', dir]);
}

/** The issue's targets (#7), by row. */
const TARGETS = {
  smallCold: [{ kind: 'peer', peer: 'BuildKit', factor: 0.8 }],
  noop: [{ kind: 'bound-plus', amount: 30 }],
  bigCold: [
    { kind: 'peer', peer: 'BuildKit', factor: 0.5 },
    { kind: 'bound', factor: 1.3 },
  ],
  bigUnchanged: [{ kind: 'peer', peer: 'BuildKit', factor: 0.6 }],
  bigTouched: [{ kind: 'peer', peer: 'BuildKit', factor: 0.4 }],
  sleeps: [{ kind: 'at-most', value: 1150 }],
  chainCold: [{ kind: 'peer', peer: 'BuildKit', factor: 0.35 }],
  /** Against Buildah with the same (gzip) compression, as the issue has it. */
  save: [{ kind: 'peer', peer: 'Buildah', factor: 0.5 }],
  peakRss: [{ kind: 'at-most', value: 120 }],
} as const satisfies Record<string, readonly TargetClause[]>;

/** How many starts W8 times per round (a start is short, so one is noise). */
const STARTS_PER_ROUND = 5;

export const workload: Workload = {
  name: 'build',
  description: 'W1-W8 (issue #7): kiln build, save and container start against lower bounds, and with --peers against BuildKit and Buildah',
  async measure(options: WorkloadOptions): Promise<readonly Measurement[]> {
    const runs = options.runs ?? 3;
    const log = (line: string): void => options.log(`build: ${line}`);
    const work = await mkdtemp(join(tmpdir(), 'kiln-bench-build-'));
    const rootfs = await busyboxRoot();
    let builders: Builder[] = [];
    // Interrupted, the suite starts nothing new while it cleans up (and cleans up once).
    const interrupted = new AbortController();
    let cleaning: Promise<void> | undefined;
    const cleanUp = (): Promise<void> =>
      (cleaning ??= (async () => {
        interrupted.abort();
        for (const builder of builders) await builder.close().catch((error: unknown) => log(`${builder.name} did not close: ${String(error)}`));
        await unmountUnder(work).catch(() => undefined);
        await removeRoot(rootfs);
        // A child interrupted with us may still be writing under it: retry ENOTEMPTY.
        await rm(work, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
      })());
    const release = onInterrupt(cleanUp);
    try {
      const baseTar = join(work, 'busybox.tar');
      execFileSync('tar', ['-C', rootfs, '-cf', baseTar, '.']);
      const cli = await snapshotKilnPackage(join(work, 'kiln-package'));
      const kiln = await createKilnBuilder({ cli, dir: join(work, 'kiln'), baseTar, baseRoot: rootfs });
      builders.push(kiln);
      await kiln.fresh();
      const baseImage = join(work, 'busybox-image.tar');
      await kiln.saveImage('busybox:latest', baseImage, 'gzip', '');
      const setUp = options.peers === true ? await setUpPeers(join(work, 'peers'), baseImage, log) : { builders: [], skipped: [] };
      builders.push(...setUp.builders);
      const skipped = [...setUp.skipped];

      const app = join(work, 'w1-app');
      const big = join(work, 'w4-context');
      const sleeps = join(work, 'w5-sleeps');
      const chain = join(work, 'w6-chain');
      await writeSmallApp(app);
      await writeParallelSleeps(sleeps);
      await writeChainedRuns(chain);
      log('generating the 20,000-file context');
      const bigSize = await writeBigContext(big);
      log(`contexts written (W4: ${bigSize.files} files, ${(bigSize.bytes / 1e6).toFixed(0)} MB); one untimed warm-up build each`);
      for (const builder of [...builders]) {
        try {
          await builder.fresh();
          await builder.build(app, 'bench/warmup');
        } catch (error) {
          if (builder === kiln) throw error;
          skipped.push(`${builder.name} skipped: its warm-up build failed: ${firstLines(error)}`);
          log(skipped.at(-1) ?? '');
          await builder.close();
          builders = builders.filter((b) => b !== builder);
        }
      }
      const setup = [...builders.map((b) => `${b.name}: ${b.description}`), ...skipped];
      for (const line of setup) log(line);

      const rounds = async (into: Row, what: string, action: (b: Builder, round: number) => Promise<number>, bounds: () => Promise<Record<string, number>>, who: readonly Builder[] = builders): Promise<void> => {
        for (let i = 0; i < runs; i++) {
          const done: string[] = [];
          for (const builder of rotate(who, i)) {
            interrupted.signal.throwIfAborted();
            if (into.failed.has(builder.name)) continue;
            try {
              settle();
              const ms = await action(builder, i);
              let list = into.times.get(builder.name);
              if (list === undefined) into.times.set(builder.name, (list = []));
              list.push(ms);
              done.push(`${builder.name} ${ms.toFixed(0)} ms`);
            } catch (error) {
              if (builder === kiln) throw error;
              into.failed.set(builder.name, firstLines(error));
              log(`${what}: ${builder.name} failed, left out of this row: ${firstLines(error)}`);
            }
          }
          into.load.push(loadavg()[0] ?? Number.NaN);
          interrupted.signal.throwIfAborted();
          settle();
          for (const [name, ms] of Object.entries(await bounds())) (into.bounds[name] ??= []).push(ms);
          log(`${what} ${i + 1}/${runs}: ${done.join(', ')}`);
        }
      };
      const cold = (context: string, tag: string) => async (b: Builder): Promise<number> => {
        await b.fresh();
        settle();
        return (await b.build(context, tag)).ms;
      };
      const rebuild = (context: string, tag: string) => async (b: Builder): Promise<number> => (await b.build(context, tag)).ms;
      const step = (): Promise<number> => sandboxStep(rootfs);
      const node = async (): Promise<number> => (await nodeStart()).ms;
      let copies = 0;
      const ingest = (context: string): Promise<number> => ingestContext(context, join(work, `ingest-${copies++}`));

      // W1 cold, then W2 no-op and W3 one-file edit on the state the last cold build left.
      const w1 = row();
      await rounds(w1, 'W1 cold', cold(app, 'bench/app'), async () => ({ 'node -e 0': await node(), 'cp -a + sha256sum': await ingest(app), '3 sandboxed steps': 3 * (await step()) }));
      const w2 = row();
      await rounds(w2, 'W2 no-op', rebuild(app, 'bench/app'), async () => ({ 'node -e 0': await node() }));
      const w3 = row();
      let edits = 0;
      await rounds(
        w3,
        'W3 one file edited',
        async (b, i) => {
          // One edit per round, made before the round's first build: every builder builds the same bytes.
          if (edits === i) await editSmallApp(app, edits++);
          return (await b.build(app, 'bench/app')).ms;
        },
        async () => ({ 'node -e 0': await node(), 'cp -a + sha256sum': await ingest(app), '3 sandboxed steps': 3 * (await step()) }),
      );

      // W5: four independent stages of `sleep 1`, cold.
      const w5 = row();
      await rounds(w5, 'W5 cold', cold(sleeps, 'bench/sleeps'), async () => ({ 'node -e 0': await node(), [`${SLEEP_SECONDS} s`]: SLEEP_SECONDS * 1000 }));

      // W6: forty chained RUNs, cold, then no-op on the last cold state.
      const w6 = row();
      await rounds(w6, 'W6 cold', cold(chain, 'bench/chain'), async () => ({ 'node -e 0': await node(), [`${CHAINED_STEPS} sandboxed steps`]: CHAINED_STEPS * (await step()) }));
      const w6Noop = row();
      await rounds(w6Noop, 'W6 no-op', rebuild(chain, 'bench/chain'), async () => ({ 'node -e 0': await node() }));

      // W4 last among the builds, as it writes the most: cold (with peak RSS), then unchanged and one file touched.
      const w4 = row();
      const rss = row();
      // With peers, every W4 cold run (and the bound's copy) starts a minute after the one
      // before, out of the window in which another's deleted inodes slow its file creation,
      // with the context read back into the page cache that this machine empties of pages
      // idle for 30 s (kdamond pageout): each run starts as the first of a round did.
      let lastEnded = 0;
      const quiesce = async (): Promise<void> => {
        if (options.peers !== true) return;
        settle();
        const wait = lastEnded + DELETED_INODE_WINDOW_MS - Date.now();
        if (wait > 0) await sleep(wait, undefined, { signal: interrupted.signal });
        warmPageCache(big);
        settle();
      };
      await rounds(
        w4,
        'W4 cold',
        async (b) => {
          await b.fresh();
          await quiesce();
          settle();
          const t = await b.build(big, 'bench/big').finally(() => {
            lastEnded = Date.now();
          });
          if (t.peakRssKiB !== undefined) {
            let list = rss.times.get(b.name);
            if (list === undefined) rss.times.set(b.name, (list = []));
            list.push((t.peakRssKiB * 1024) / 1e6);
          }
          return t.ms;
        },
        async () => {
          const n = await nodeStart();
          if (n.peakRssKiB !== undefined) (rss.bounds['node -e 0 peak RSS'] ??= []).push((n.peakRssKiB * 1024) / 1e6);
          await quiesce();
          const copy = await ingest(big);
          lastEnded = Date.now();
          return { 'node -e 0': n.ms, 'cp -a + sha256sum': copy, '1 sandboxed step': await step() };
        },
      );
      const w4Unchanged = row();
      await rounds(w4Unchanged, 'W4 unchanged', rebuild(big, 'bench/big'), async () => ({ 'node -e 0': await node(), 'stat walk': await statWalk(big) }));
      const w4Touched = row();
      let touches = 0;
      await rounds(
        w4Touched,
        'W4 one file touched',
        async (b, i) => {
          // A new mtime, the same content: each builder must re-read this one file and find every key unchanged.
          if (touches === i) {
            const when = new Date(Date.now() - 60_000 + touches++ * 1000);
            await utimes(join(big, BIG_CONTEXT_TOUCHED_FILE), when, when);
          }
          return (await b.build(big, 'bench/big')).ms;
        },
        async () => ({ 'node -e 0': await node(), 'stat walk': await statWalk(big) }),
      );

      // W7: the W4 image saved to a tarball with gzip layers, by each builder that can: first
      // as it comes out of a build (kiln's build stores layers uncompressed, so its first save
      // compresses them, and records that form), each round on a fresh state with the image
      // built untimed; then saved again on the last of those states (kiln writes the form it
      // recorded; Buildah compresses on every save). Then with uncompressed layers.
      const saves = join(work, 'w7');
      await mkdir(saves);
      const sizes = new Map<string, number>();
      const w7 = { first: row(), gzip: row(), uncompressed: row() };
      const savers = (compression: LayerCompression): Builder[] => builders.filter((b) => b.saves[compression] !== undefined);
      const tarBound = async (): Promise<Record<string, number>> => ({ 'tar -cf of the context': await exportTar(big, join(saves, `bound-${copies++}.tar`)) });
      await rounds(
        w7.first,
        'W7 first save, gzip',
        async (b, i) => {
          await b.fresh();
          await b.build(big, 'bench/big');
          settle();
          const file = join(saves, `${b.name}-first-${i}.tar`);
          const { ms } = await b.saveImage('bench/big', file, 'gzip', big);
          sizes.set(`${b.name} gzip`, (await stat(file)).size);
          return ms;
        },
        tarBound,
        savers('gzip'),
      );
      for (const compression of ['gzip', 'uncompressed'] as const) {
        await rounds(
          w7[compression],
          `W7 save${compression === 'gzip' ? ' again' : ''}, ${compression}`,
          async (b, i) => {
            const file = join(saves, `${b.name}-${compression}-${i}.tar`);
            const { ms } = await b.saveImage('bench/big', file, compression, big);
            sizes.set(`${b.name} ${compression}`, (await stat(file)).size);
            return ms;
          },
          tarBound,
          savers(compression),
        );
      }

      // W8: container start of `true`.
      const w8 = row();
      await rounds(
        w8,
        'W8 start',
        async (b) => {
          const times: number[] = [];
          for (let s = 0; s < STARTS_PER_ROUND; s++) times.push(await b.startTrue());
          return median(times);
        },
        async () => ({ 'unshare + chroot /bin/true': await sandboxStep(rootfs, STARTS_PER_ROUND) }),
      );

      const peerNames = builders.filter((b) => b !== kiln).map((b) => b.name);
      const make = (name: string, r: Row, clauses: readonly TargetClause[], notes: readonly string[] = [], incomparable: Readonly<Record<string, string>> = {}): Measurement =>
        measurement({ name, runs, row: r, clauses, notes, peerNames, incomparable });
      const rate = (bigSize.bytes / 1e6) / (median(w4.times.get('kiln') ?? []) / 1000);
      const saveNotes = (compression: LayerCompression): string[] =>
        builders.flatMap((b) => {
          const command = b.saves[compression];
          return command === undefined ? [] : [`${b.name}: ${command}, ${((sizes.get(`${b.name} ${compression}`) ?? Number.NaN) / 1e6).toFixed(0)} MB`];
        });
      return [
        make('W1 small app: cold', w1, TARGETS.smallCold, setup),
        make('W2 small app: no-op rebuild', w2, TARGETS.noop),
        make('W3 small app: one source file edited', w3, TARGETS.smallCold),
        make('W4 20,000 files / 300 MB: cold', w4, TARGETS.bigCold, [`kiln: ${rate.toFixed(0)} MB/s of context`]),
        make('W4 20,000 files / 300 MB: unchanged', w4Unchanged, TARGETS.bigUnchanged),
        make('W4 20,000 files / 300 MB: one file touched', w4Touched, TARGETS.bigTouched),
        make(`W5 ${SLEEP_STAGES} independent sleep ${SLEEP_SECONDS} stages: cold`, w5, TARGETS.sleeps, [
          'Buildah runs stages one at a time unless given --jobs (not given: the command is as the issue has it)',
        ]),
        make(`W6 ${CHAINED_STEPS} chained RUNs: cold`, w6, TARGETS.chainCold),
        make(`W6 ${CHAINED_STEPS} chained RUNs: no-op`, w6Noop, TARGETS.noop),
        perStep(runs, w6, w6Noop, peerNames),
        make('W7 save of the W4 image, gzip layers: first save', w7.first, TARGETS.save, [
          'each round on a fresh state, the W4 image built untimed just before',
          "kiln: the build stored the layers uncompressed; this save gzips them (in parallel on the thread pool) and records that form",
          ...saveNotes('gzip'),
        ]),
        make('W7 save of the W4 image, gzip layers: saved again', w7.gzip, TARGETS.save, [
          'on the state the first-save row left',
          'kiln writes the gzip form its first save recorded, compressing nothing; Buildah compresses on every save',
          ...saveNotes('gzip'),
        ]),
        make('W7 save of the W4 image, uncompressed layers', w7.uncompressed, [], [
          'no target: the issue holds W7 to Buildah, which writes gzip layers only (push --disable-compression too, in 1.28)',
          ...saveNotes('uncompressed'),
          "kiln: the build's layers are stored uncompressed; its first run records the form with the base layer decompressed too, later runs reuse it",
        ]),
        make('W8 container start of true', w8, [], [
          `median of ${STARTS_PER_ROUND} starts per round`,
          "kiln: its sandbox in-process (LinuxExecutor, as bench/sandbox.ts; kiln has no run command yet): no process start, no image lookup",
          ...(peerNames.includes('BuildKit') ? ['BuildKit: docker run --rm --network=none busybox true (client, dockerd, containerd, shim, runc, removal)'] : []),
          ...(peerNames.includes('Buildah') ? ['Buildah: buildah from + buildah run --network=none true (the container removed untimed)'] : []),
        ]),
        {
          ...make('W4 cold: peak RSS', { ...rss, load: w4.load }, TARGETS.peakRss, [
            `highest of the runs that reported it, from ${PEAK_RSS_SOURCE}`,
            ...(peerNames.includes('BuildKit') ? ["BuildKit: dockerd's VmHWM since that daemon started (containerd, shims and runc not counted)"] : []),
          ], { BuildKit: "dockerd's high-water mark, not a build's peak" }),
          unit: 'MB',
          ...peakOf(rss, TARGETS.peakRss),
        },
      ];
    } finally {
      release();
      await cleanUp();
    }
  },
};

/** `list` starting at element `by` (mod its length), wrapping round. */
function rotate<T>(list: readonly T[], by: number): T[] {
  const n = list.length === 0 ? 0 : by % list.length;
  return [...list.slice(n), ...list.slice(0, n)];
}

function firstLines(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.trim().split('\n');
  return lines.length <= 4 ? lines.join(' | ') : [...lines.slice(0, 1), '…', ...lines.slice(-3)].join(' | ');
}
