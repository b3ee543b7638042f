import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './sample.ts';
import type { Measurement, Workload, WorkloadOptions } from './workload.ts';

/*
 * bench/store: `kiln import` and `kiln save` of a generated tree (1 GiB by default:
 * KILN_BENCH_STORE_MB sets it), many small files and a few large ones, half compressible.
 * References measured in the same run on the same tree: `tar -c | gzip -1` for import (the
 * floor of "read a tree, compress it"), `sha256sum` of the layer blob for save (save must
 * read every blob through its digest). Peak RSS of kiln from GNU time. Targets (issue #4):
 * import ≥ 0.8× the throughput of tar | gzip -1; peak RSS under 200 MiB.
 */

const CLI = new URL('../dist/cli.cjs', import.meta.url).pathname;

async function generateTree(dir: string, totalBytes: number): Promise<number> {
  // Deterministic content: a seeded stream of hashes (incompressible) alternating with
  // repeated text (compressible), so gzip has work of both kinds.
  let counter = 0;
  const chunk = (size: number): Buffer => {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < size) {
      const incompressible = createHash('sha512').update(String(counter++)).digest();
      const text = Buffer.from(`line ${counter} of a text file that compresses well; `.repeat(2));
      parts.push(incompressible, text);
      have += incompressible.length + text.length;
    }
    return Buffer.concat(parts).subarray(0, size);
  };
  let written = 0;
  const large = Math.floor(totalBytes * 0.45);
  for (let i = 0; i < 3; i++) {
    const size = Math.floor(large / 3);
    await writeFile(join(dir, `large-${i}.bin`), chunk(size));
    written += size;
  }
  let n = 0;
  while (written < totalBytes) {
    const sub = join(dir, `d${Math.floor(n / 500)}`);
    if (n % 500 === 0) await mkdir(sub, { recursive: true });
    const size = 2_000 + ((n * 7919) % 40_000);
    await writeFile(join(sub, `f${n}.dat`), chunk(size));
    written += size;
    n++;
  }
  return written;
}

function timed(command: string, env: NodeJS.ProcessEnv = {}): { ms: number; rssKiB: number } {
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'bash', '-o', 'pipefail', '-c', command], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${command} failed: ${r.stderr}`);
  const rss = Number(/(\d+)\s*$/.exec(r.stderr)?.[1] ?? Number.NaN);
  return { ms, rssKiB: rss };
}

export const workload: Workload = {
  name: 'store',
  description: 'kiln import and save of a generated tree, against tar | gzip -1 and sha256sum',
  async measure(options: WorkloadOptions): Promise<readonly Measurement[]> {
    const runs = options.runs ?? 3;
    const megabytes = Number(process.env['KILN_BENCH_STORE_MB'] ?? 1024);
    const work = await mkdtemp(join(tmpdir(), 'kiln-bench-store-'));
    try {
      const tree = join(work, 'tree');
      await mkdir(tree);
      options.log(`store: generating a ${megabytes} MiB tree`);
      const bytes = await generateTree(tree, megabytes << 20);
      const tar = `tar -C ${tree} -cf - .`;
      const mb = bytes / 1e6;
      const imports: number[] = [];
      const gzips: number[] = [];
      const saves: number[] = [];
      const hashes: number[] = [];
      let peakImport = 0;
      let peakSave = 0;
      for (let i = 0; i < runs + 1; i++) {
        const root = join(work, `root${i}`);
        await rm(root, { recursive: true, force: true });
        // Alternate the contenders so that drift in the machine touches both alike.
        const g = timed(`${tar} | gzip -1 > ${join(work, 'ref.tar.gz')}`);
        const k = timed(`${tar} | node ${CLI} --root ${root} import - bench:1 > /dev/null`);
        const s = timed(`node ${CLI} --root ${root} save -o ${join(work, 'saved.tar')} bench:1`);
        const blob = execFileSync('node', [CLI, '--root', root, 'inspect', 'bench:1'], { encoding: 'utf8' });
        const layerBlob = (JSON.parse(blob) as { Descriptor: { digest: string } }[])[0]?.Descriptor.digest ?? '';
        const manifest = JSON.parse(execFileSync('cat', [join(root, 'blobs', 'sha256', layerBlob.slice(7))], { encoding: 'utf8' }));
        const h = timed(`sha256sum ${join(root, 'blobs', 'sha256', manifest.layers[0].digest.slice(7))} > /dev/null`);
        if (i === 0) continue; // warm-up: page cache, JIT
        gzips.push(g.ms);
        imports.push(k.ms);
        saves.push(s.ms);
        hashes.push(h.ms);
        peakImport = Math.max(peakImport, k.rssKiB);
        peakSave = Math.max(peakSave, s.rssKiB);
        await rm(root, { recursive: true, force: true });
      }
      const importRate = mb / (median(imports) / 1000);
      const gzipRate = mb / (median(gzips) / 1000);
      const saveMs = median(saves);
      const hashMs = median(hashes);
      return [
        {
          name: 'import throughput',
          unit: 'MB/s',
          better: 'higher',
          runs,
          kiln: importRate,
          reference: { name: 'tar -c | gzip -1', median: gzipRate },
          ratio: importRate / gzipRate,
          target: { statement: 'at least 0.8x tar | gzip -1', met: importRate / gzipRate >= 0.8 },
          notes: [`tree: ${mb.toFixed(0)} MB`, `kiln import peak RSS: ${(peakImport / 1024).toFixed(0)} MiB`],
        },
        {
          name: 'import peak RSS',
          unit: 'MiB',
          better: 'lower',
          runs,
          kiln: peakImport / 1024,
          reference: { name: 'the 200 MiB budget', median: 200 },
          ratio: peakImport / 1024 / 200,
          target: { statement: 'under 200 MiB', met: peakImport / 1024 < 200 },
          notes: [],
        },
        {
          name: 'save time',
          unit: 'ms',
          better: 'lower',
          runs,
          kiln: saveMs,
          reference: { name: 'sha256sum of the layer blob', median: hashMs },
          ratio: saveMs / hashMs,
          target: { statement: 'peak RSS under 200 MiB', met: peakSave / 1024 < 200 },
          notes: [`kiln save peak RSS: ${(peakSave / 1024).toFixed(0)} MiB`],
        },
      ];
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};

