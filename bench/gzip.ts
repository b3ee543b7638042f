import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, deflateRaw } from 'node:zlib';
import { compress } from '../src/image/layer/index.ts';
import { writeBigContext } from './build-contexts.ts';
import { median } from './sample.ts';
import type { Measurement, Workload, WorkloadOptions } from './workload.ts';

/*
 * bench/gzip: the compression behind W7's first save. The W4 context (bench/build-contexts.ts:
 * 20,000 files, 311 MB, half source text, half random bytes) is written and tarred once
 * (`tar -cf`), then each round compresses that tar, in turn:
 *
 *   kiln        compress(…, 'gzip') at kiln's default level, as a layer is written: libdeflate
 *               on libuv's thread pool through the native addon (src/native/gzip-members.ts)
 *   Node zlib   what Node alone can do, the way kiln did it before the addon compressed:
 *               zlib's deflateRaw at level 1 of 1 MiB pieces on the thread pool, each with
 *               the 32 KiB before it as dictionary, sync-flushed and joined as pigz does
 *   gzip -1     one process, one core; and pigz -1 when it is installed
 *
 * Wall time, CPU time over every thread (process.cpuUsage) for the two in-process ones, and
 * the output's size. The tar is read from the page cache in reads of 1 MiB, as the content
 * store reads a layer; outputs are counted, not written.
 */

const PIECE_BYTES = 1 << 20;
/** Reads of 1 MiB, as the content store streams a blob (src/content/local-content-store.ts). */
const READ_BYTES = 1 << 20;
const WINDOW_BYTES = 32 * 1024;

/** Bytes of `chunks`, wall ms and CPU ms (all threads). */
async function timeInProcess(chunks: () => AsyncIterable<Uint8Array>): Promise<{ ms: number; cpuMs: number; bytes: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let bytes = 0;
  for await (const chunk of chunks()) bytes += chunk.length;
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, bytes };
}

/** Node's zlib over pigz-style pieces, up to four on the thread pool at once: the raw deflate stream only (no header or trailer, 18 bytes). */
async function* nodeZlibPieces(file: string): AsyncGenerator<Buffer> {
  const pending: Promise<Buffer>[] = [];
  let piece: Buffer = Buffer.alloc(0);
  let dictionary: Buffer | undefined;
  const send = (input: Buffer, last: boolean): void => {
    const options = { level: 1, chunkSize: 128 * 1024, finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH, ...(dictionary === undefined ? {} : { dictionary }) };
    pending.push(new Promise((resolve, reject) => deflateRaw(input, options, (error, out) => (error === null ? resolve(out) : reject(error)))));
    dictionary = Buffer.from(input.subarray(input.length - WINDOW_BYTES));
  };
  for await (const chunk of createReadStream(file, { highWaterMark: READ_BYTES }) as AsyncIterable<Buffer>) {
    piece = piece.length === 0 ? chunk : Buffer.concat([piece, chunk]);
    while (piece.length >= PIECE_BYTES) {
      send(piece.subarray(0, PIECE_BYTES), false);
      piece = piece.subarray(PIECE_BYTES);
      while (pending.length >= 4) yield await pending.shift()!;
    }
  }
  send(piece, true);
  while (pending.length > 0) yield await pending.shift()!;
}

/** Wall ms and output bytes of `command` reading `file` on stdin, its output counted by wc. */
function timeCli(command: string, file: string): { ms: number; bytes: number } {
  const start = performance.now();
  const result = spawnSync('sh', ['-c', `${command} < "$0" | wc -c`, file], { encoding: 'utf8' });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return { ms, bytes: Number(result.stdout.trim()) };
}

export const workload: Workload = {
  name: 'gzip',
  description: "gzip of the W4 layer (a tar of the 311 MB context, half text, half random bytes): kiln's compressor against Node's zlib in pigz-style pieces, gzip -1 and pigz -1",
  async measure({ runs = 5, log }: WorkloadOptions): Promise<readonly Measurement[]> {
    const work = await mkdtemp(join(tmpdir(), 'kiln-bench-gzip-'));
    try {
      await writeBigContext(join(work, 'context'));
      const tar = join(work, 'layer.tar');
      const tarred = spawnSync('tar', ['-cf', tar, '-C', join(work, 'context'), '.']);
      if (tarred.status !== 0) throw new Error(`tar -cf failed: ${String(tarred.stderr)}`);
      const tarBytes = (await stat(tar)).size;
      const pigz = spawnSync('sh', ['-c', 'command -v pigz']).status === 0;
      log(`gzip: a ${(tarBytes / 1e6).toFixed(0)} MB tar; ${runs} rounds after one warm-up${pigz ? '' : '; pigz is not installed'}`);
      const kiln = { ms: [] as number[], cpu: [] as number[], bytes: 0 };
      const zlib = { ms: [] as number[], cpu: [] as number[], bytes: 0 };
      const gzip = { ms: [] as number[], bytes: 0 };
      const pigzTimes = { ms: [] as number[], bytes: 0 };
      for (let round = 0; round <= runs; round++) {
        const k = await timeInProcess(() => compress(createReadStream(tar, { highWaterMark: READ_BYTES }), 'gzip'));
        const z = await timeInProcess(() => nodeZlibPieces(tar));
        const g = timeCli('gzip -1 -c', tar);
        const p = pigz ? timeCli('pigz -1 -c', tar) : undefined;
        if (round === 0) continue;
        kiln.ms.push(k.ms);
        kiln.cpu.push(k.cpuMs);
        kiln.bytes = k.bytes;
        zlib.ms.push(z.ms);
        zlib.cpu.push(z.cpuMs);
        zlib.bytes = z.bytes + 18;
        gzip.ms.push(g.ms);
        gzip.bytes = g.bytes;
        if (p !== undefined) {
          pigzTimes.ms.push(p.ms);
          pigzTimes.bytes = p.bytes;
        }
      }
      const share = (bytes: number): string => `${((100 * bytes) / tarBytes).toFixed(2)}% of the tar`;
      const kilnNote = `kiln: ${median(kiln.cpu).toFixed(0)} ms CPU, ${share(kiln.bytes)}`;
      const measurement = (name: string, reference: string, times: number[], notes: string[]): Measurement => ({
        name,
        unit: 'ms',
        better: 'lower',
        runs,
        kiln: median(kiln.ms),
        reference: { name: reference, median: median(times) },
        ratio: median(kiln.ms) / median(times),
        target: undefined,
        notes,
      });
      return [
        measurement('W4 layer: against Node\'s own zlib', 'Node zlib, pigz-style pieces on the thread pool', zlib.ms, [
          kilnNote,
          `Node zlib: ${median(zlib.cpu).toFixed(0)} ms CPU, ${share(zlib.bytes)}`,
        ]),
        measurement('W4 layer: against gzip(1)', 'gzip -1', gzip.ms, [
          kilnNote,
          `gzip -1: ${share(gzip.bytes)}`,
          ...(pigz ? [`pigz -1: ${median(pigzTimes.ms).toFixed(0)} ms, ${share(pigzTimes.bytes)}`] : []),
        ]),
      ];
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};
