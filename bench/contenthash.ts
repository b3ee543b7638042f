import { execFileSync } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checksumSources, openStatCache } from '../src/cache/index.ts';
import { median } from './sample.ts';
import type { Measurement, Workload, WorkloadOptions } from './workload.ts';

/*
 * bench/contenthash: the cache key of `COPY . /app` over a generated context of 20,000
 * files and 300 MB (200 directories of 99 small files, 1 to 9 KiB, and one 1 MiB file
 * each). Cold: no stat cache, every file read and hashed; reference `sha256sum` of every
 * file (find | xargs, one process at a time). Warm: the stat cache saved by the cold run,
 * reopened from disk, so only metadata is read; reference `find -printf` of each file's
 * size, times and inode (the stat walk alone). Touched: as warm, one file given a new mtime
 * first, so it is read again and the stat cache saved (the no-op rebuild after a `touch`);
 * same reference. The page cache is warm for all: what is measured is kiln's work, not the
 * disk.
 */

const DIRECTORIES = 200;
const SMALL_PER_DIRECTORY = 99;
const BIG_SIZE = 1024 * 1024;

function generate(root: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const small = Buffer.alloc(9 * 1024);
  const big = Buffer.alloc(BIG_SIZE);
  for (let d = 0; d < DIRECTORIES; d++) {
    const dir = join(root, `pkg${Math.floor(d / 20)}`, `mod${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < SMALL_PER_DIRECTORY; f++) {
      const size = 1024 + ((d * SMALL_PER_DIRECTORY + f) * 2654435761) % (8 * 1024);
      small.fill(d * 7 + f);
      writeFileSync(join(dir, `f${f}.ts`), small.subarray(0, size));
      files += 1;
      bytes += size;
    }
    big.fill(d);
    writeFileSync(join(dir, 'bundle.bin'), big);
    files += 1;
    bytes += BIG_SIZE;
  }
  return { files, bytes };
}

export const workload: Workload = {
  name: 'contenthash',
  description: 'cache key of COPY . over a 20,000-file, 300 MB context: cold (no stat cache), warm (stat cache reopened), one file touched',
  async measure({ runs = 5, log }: WorkloadOptions): Promise<readonly Measurement[]> {
    const work = await mkdtemp(join(tmpdir(), 'kiln-bench-contenthash-'));
    try {
      const context = join(work, 'context');
      const { files, bytes } = generate(context);
      log(`contenthash: ${files} files, ${(bytes / 1e6).toFixed(0)} MB; ${runs} runs after one warm-up`);
      const request = { source: { kind: 'context' as const, dir: context }, sources: ['.'], excludes: [], parents: false, followSymlinks: true };
      const times = { cold: [] as number[], warm: [] as number[], touched: [] as number[], sha: [] as number[], find: [] as number[] };
      for (let round = 0; round <= runs; round++) {
        const cacheFile = join(work, `stat-cache-${round}`);
        let start = performance.now();
        const cold = await openStatCache(cacheFile);
        const first = await checksumSources({ ...request, statCache: cold });
        await cold.save();
        const coldTime = performance.now() - start;
        // The cold run's entries settle once RACY_NS has passed since the files were written.
        start = performance.now();
        const warm = await openStatCache(cacheFile);
        const second = await checksumSources({ ...request, statCache: warm });
        const warmTime = performance.now() - start;
        if (first !== second) throw new Error('the warm digest differs from the cold one');
        // A new mtime for one file, a minute back (settled): it alone is read, and the cache saved.
        const when = new Date(Date.now() - 60_000 + round);
        utimesSync(join(context, 'pkg0', 'mod0', 'f0.ts'), when, when);
        start = performance.now();
        const touched = await openStatCache(cacheFile);
        const third = await checksumSources({ ...request, statCache: touched });
        await touched.save();
        const touchedTime = performance.now() - start;
        if (third !== first) throw new Error('the digest after a touch differs from the cold one');
        start = performance.now();
        execFileSync('sh', ['-c', 'find . -type f -print0 | xargs -0 sha256sum > /dev/null'], { cwd: context });
        const shaTime = performance.now() - start;
        start = performance.now();
        execFileSync('sh', ['-c', "find . -printf '%s %T@ %C@ %i\\n' > /dev/null"], { cwd: context });
        const findTime = performance.now() - start;
        if (round === 0) continue;
        times.cold.push(coldTime);
        times.warm.push(warmTime);
        times.touched.push(touchedTime);
        times.sha.push(shaTime);
        times.find.push(findTime);
      }
      const measurement = (name: string, kiln: number[], referenceName: string, reference: number[], notes: string[]): Measurement => ({
        name,
        unit: 'ms',
        better: 'lower',
        runs,
        kiln: median(kiln),
        reference: { name: referenceName, median: median(reference) },
        ratio: median(kiln) / median(reference),
        target: undefined,
        notes,
      });
      return [
        measurement('cold: every file read and hashed', times.cold, 'find | xargs sha256sum', times.sha, [
          `${((bytes / 1e6) / (median(times.cold) / 1000)).toFixed(0)} MB/s`,
        ]),
        measurement('warm: stat cache reopened from disk, no file read', times.warm, "find -printf (stat walk)", times.find, [
          `${(median(times.warm) / files * 1000).toFixed(1)} µs per file`,
        ]),
        measurement('touched: one file read again, the stat cache saved', times.touched, 'find -printf (stat walk)', times.find, []),
      ];
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};
