import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openContentStore } from '../src/content/index.ts';
import { openOverlaySnapshotter, overlaySupported, type Mount } from '../src/snapshot/index.ts';
import { buildLayer, dir, file } from '../src/snapshot/snapshot-fixture.ts';
import { median } from './sample.ts';
import type { Measurement, Workload, WorkloadOptions } from './workload.ts';

/*
 * bench/snapshot: the RUN step's file-system side on a step that writes 10,000 small files
 * (100 directories of 100 files, 100 to 1,100 bytes each). Each round prepares an active
 * overlay snapshot on a one-layer base, mounts it with mount(8), writes the files through the
 * mount, unmounts, reads the upper directory once untimed (`tar -cf`, so that no contender
 * pays for the first read after the writes: atime updates under relatime, the page cache),
 * then times `diff` into the content store as an uncompressed layer, `diff` as a gzip layer
 * (what kiln writes by default), and `tar -cf` of the same upper directory into a file on the
 * same file system: the floor of "read the tree, write a tar", which both diffs are held to.
 * `tar -c | gzip -1` is noted beside the gzip diff: the same compression work done by gzip(1).
 * kiln's diff also hashes the layer and fsyncs the blob, which tar does not.
 */

const DIRECTORIES = 100;
const FILES_PER_DIRECTORY = 100;

function writeFiles(tree: string): void {
  for (let d = 0; d < DIRECTORIES; d++) {
    const sub = join(tree, 'app', `d${d}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < FILES_PER_DIRECTORY; f++) {
      const n = d * FILES_PER_DIRECTORY + f;
      writeFileSync(join(sub, `f${f}.txt`), `file ${n} `.repeat(10 + (n % 100)));
    }
  }
}

function option(mount: Mount, name: string): string {
  const found = mount.options.find((o) => o.startsWith(`${name}=`));
  if (found === undefined) throw new Error(`the prepared mount has no ${name}: ${JSON.stringify(mount)}`);
  return found.slice(name.length + 1);
}

export const workload: Workload = {
  name: 'snapshot',
  description: 'overlay snapshot diff of a step writing 10,000 small files, against tar -c of its upper directory',
  async measure({ runs = 7, log }: WorkloadOptions): Promise<readonly Measurement[]> {
    if (!overlaySupported()) throw new Error('this kernel has no overlayfs');
    // Short: overlay mount options hold the paths.
    const work = await mkdtemp('/tmp/kb-');
    try {
      const content = await openContentStore(work);
      const snapshotter = await openOverlaySnapshotter({ root: work, content });
      const { chainId } = await snapshotter.unpack([await buildLayer(content, [dir('etc'), file('etc/hostname', 'bench\n')])]);
      const target = join(work, 'mnt');
      await mkdir(target);
      const times = { diff: [] as number[], gzip: [] as number[], tar: [] as number[], tarGzip: [] as number[], step: [] as number[] };
      let layerBytes = 0;
      let gzipBytes = 0;
      log(`snapshot: ${DIRECTORIES * FILES_PER_DIRECTORY} files, ${runs} runs after one warm-up`);
      for (let round = 0; round <= runs; round++) {
        const key = `bench-${round}`;
        const start = performance.now();
        const mounts = await snapshotter.prepare(key, chainId);
        const mount = mounts[0]!;
        execFileSync('mount', ['-t', 'overlay', '-o', mount.options.join(','), 'overlay', target]);
        try {
          writeFiles(target);
        } finally {
          execFileSync('umount', [target]);
        }
        const upper = option(mount, 'upperdir');
        const tarFile = join(work, 'reference.tar');
        const stepEnd = performance.now();
        execFileSync('tar', ['-cf', tarFile, '-C', upper, '.']);
        await rm(tarFile);
        const diffStart = performance.now();
        const layer = await snapshotter.diff(chainId, key, { compression: 'uncompressed' });
        const diffEnd = performance.now();
        const gzip = await snapshotter.diff(chainId, key, { compression: 'gzip' });
        const gzipEnd = performance.now();
        execFileSync('tar', ['-cf', tarFile, '-C', upper, '.']);
        const tarEnd = performance.now();
        execFileSync('sh', ['-c', 'tar -cf - -C "$1" . | gzip -1 > "$2"', 'sh', upper, `${tarFile}.gz`]);
        const tarGzipEnd = performance.now();
        await rm(tarFile);
        await rm(`${tarFile}.gz`);
        await snapshotter.remove(key);
        await content.delete(layer.descriptor.digest);
        await content.delete(gzip.descriptor.digest);
        if (round === 0) continue; // warm-up: page cache, JIT
        times.step.push(stepEnd - start + (diffEnd - diffStart));
        times.diff.push(diffEnd - diffStart);
        times.gzip.push(gzipEnd - diffEnd);
        times.tar.push(tarEnd - gzipEnd);
        times.tarGzip.push(tarGzipEnd - tarEnd);
        layerBytes = layer.size;
        gzipBytes = gzip.descriptor.size;
      }
      await rmdir(target);
      const tar = median(times.tar);
      const reference = { name: 'tar -cf of the upper directory', median: tar };
      const uncompressed = median(times.diff);
      const gzipped = median(times.gzip);
      return [
        {
          name: 'diff of 10,000 small files (uncompressed layer)',
          unit: 'ms',
          better: 'lower',
          runs,
          kiln: uncompressed,
          reference,
          ratio: uncompressed / tar,
          target: { statement: 'at most 2x tar -cf', met: uncompressed <= 2 * tar },
          notes: [
            `whole step (prepare, mount, write, unmount, uncompressed diff) ${median(times.step).toFixed(0)} ms`,
            `layer ${(layerBytes / 1e6).toFixed(1)} MB uncompressed`,
          ],
        },
        {
          name: 'diff of 10,000 small files (gzip layer, as an export writes it)',
          unit: 'ms',
          better: 'lower',
          runs,
          kiln: gzipped,
          reference,
          ratio: gzipped / tar,
          target: undefined,
          notes: [
            `tar -c | gzip -1 of the upper directory ${median(times.tarGzip).toFixed(0)} ms (ratio ${(gzipped / median(times.tarGzip)).toFixed(2)})`,
            `blob ${(gzipBytes / 1e6).toFixed(2)} MB`,
          ],
        },
      ];
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};
