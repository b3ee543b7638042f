import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { IntegrityError, NotFoundError, UsageError } from '../../errors/index.ts';
import type { Compression } from '../media-types.ts';
import { compress, decompress, detectCompression, sniffCompression } from './index.ts';
import { pipeThrough } from './pipe-through.ts';
import { spawnFilter } from './process-filter.ts';

const run = promisify(execFile);

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Compressible but not trivial: about 1 MiB of pseudo-random lines. */
function payload(): Buffer {
  const lines: string[] = [];
  let x = 1;
  for (let i = 0; lines.length < 25_000; i++) {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    lines.push(`line ${i} ${x.toString(36)} ${'ab'.repeat(x % 13)}`);
  }
  return Buffer.from(lines.join('\n'));
}

async function tmp(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'kiln-codec-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

test('detectCompression tells each format by its magic number', (t) => {
  t.is(detectCompression(Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0])), 'gzip');
  t.is(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x04, 0])), 'zstd');
  t.is(detectCompression(Buffer.from('BZh91AY')), 'bzip2');
  t.is(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
  t.is(detectCompression(Buffer.from('etc/passwd\0\0\0')), 'uncompressed');
  t.is(detectCompression(Buffer.alloc(0)), 'uncompressed');
  t.is(detectCompression(Buffer.from([0xfd, 0x37])), 'uncompressed');
});

for (const compression of ['uncompressed', 'gzip', 'zstd'] as const) {
  test(`${compression} output decompresses to the input and is sniffed as ${compression}`, async (t) => {
    const input = payload();
    const packed = await bytesOf(compress(Readable.from([input.subarray(0, 1000), input.subarray(1000)]), compression));
    if (compression !== 'uncompressed') t.true(packed.length < input.length / 2);
    const sniffed = await sniffCompression(Readable.from([packed.subarray(0, 3), packed.subarray(3)]));
    t.is(sniffed.compression, compression === 'uncompressed' ? 'uncompressed' : compression);
    t.true((await bytesOf(decompress(sniffed.stream, compression))).equals(input));
  });
}

for (const [compression, command] of [
  ['gzip', ['gzip', '-c', '-9']],
  ['zstd', ['zstd', '-c', '-12', '-q']],
  ['bzip2', ['bzip2', '-c']],
  ['xz', ['xz', '-c', '-T2']],
] as const) {
  test(`${compression} made by the ${command[0]} CLI decompresses to its input`, async (t) => {
    const directory = await tmp(t);
    const input = payload();
    await writeFile(join(directory, 'in'), input);
    const { stdout } = await run(command[0], [...command.slice(1), join(directory, 'in')], { encoding: 'buffer', maxBuffer: 1 << 26 });
    t.is(detectCompression(stdout), compression);
    t.true((await bytesOf(decompress(Readable.from([stdout]), compression))).equals(input));
  });
}

test('concatenated gzip members decompress as one stream (RFC 1952 §2.2)', async (t) => {
  const a = await bytesOf(compress(Readable.from([Buffer.from('first ')]), 'gzip'));
  const b = await bytesOf(compress(Readable.from([Buffer.from('second')]), 'gzip'));
  t.is((await bytesOf(decompress(Readable.from([Buffer.concat([a, b])]), 'gzip'))).toString(), 'first second');
});

test('gzip output has no timestamp or name and is byte-identical run to run', async (t) => {
  const input = payload();
  const first = await bytesOf(compress(Readable.from([input]), 'gzip'));
  const second = await bytesOf(compress(Readable.from(chunks(input, 4096)), 'gzip'));
  t.true(first.equals(second));
  // RFC 1952 §2.3: ID1 ID2 CM=8 FLG=0 (no FNAME, no FCOMMENT) MTIME=0 XFL OS.
  t.deepEqual([...first.subarray(0, 8)], [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]);
});

test('gzip output at level 6 is read by the gzip CLI', async (t) => {
  const directory = await tmp(t);
  const input = payload();
  await writeFile(join(directory, 'in.gz'), await bytesOf(compress(Readable.from([input]), 'gzip', { level: 6 })));
  const { stdout } = await run('gzip', ['-d', '-c', join(directory, 'in.gz')], { encoding: 'buffer', maxBuffer: 1 << 26 });
  t.true(stdout.equals(input));
});

test('zstd output is byte-identical run to run and readable by the zstd CLI', async (t) => {
  const directory = await tmp(t);
  const input = payload();
  const first = await bytesOf(compress(Readable.from([input]), 'zstd'));
  const second = await bytesOf(compress(Readable.from(chunks(input, 1000)), 'zstd'));
  t.true(first.equals(second));
  await writeFile(join(directory, 'in.zst'), first);
  const { stdout } = await run('zstd', ['-d', '-c', '-q', join(directory, 'in.zst')], { encoding: 'buffer', maxBuffer: 1 << 26 });
  t.true(stdout.equals(input));
});

test('truncated gzip fails with IntegrityError', async (t) => {
  const packed = await bytesOf(compress(Readable.from([payload()]), 'gzip'));
  await t.throwsAsync(bytesOf(decompress(Readable.from([packed.subarray(0, packed.length - 100)]), 'gzip')), {
    instanceOf: IntegrityError,
    message: /corrupt gzip data: unexpected end of file/,
  });
});

for (const [compression, args] of [
  ['zstd', ['-c', '-q']],
  ['bzip2', ['-c']],
  ['xz', ['-c']],
] as const) {
  test(`truncated ${compression} fails with IntegrityError carrying the tool's stderr`, async (t) => {
    const directory = await tmp(t);
    await writeFile(join(directory, 'in'), payload());
    const { stdout } = await run(compression, [...args, join(directory, 'in')], { encoding: 'buffer', maxBuffer: 1 << 26 });
    const error = await t.throwsAsync(bytesOf(decompress(Readable.from([stdout.subarray(0, stdout.length >> 1)]), compression)), {
      instanceOf: IntegrityError,
    });
    t.regex(error.message, new RegExp(`corrupt ${compression} data: ${compression} exited with status [12]: .+`));
  });
}

test('an error of the source reaches the reader unchanged', async (t) => {
  const failure = new IntegrityError('blob digest mismatch');
  async function* failing(): AsyncGenerator<Buffer> {
    yield Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
    throw failure;
  }
  for (const compression of ['gzip', 'zstd'] as const) {
    const error = await t.throwsAsync(bytesOf(decompress(failing(), compression)));
    t.is(error, failure, compression);
  }
});

test('a missing CLI fails with NotFoundError naming the Debian package', async (t) => {
  const filter = spawnFilter({ command: 'kiln-no-such-tool', args: [], debianPackage: 'kiln-tools' });
  const error = await t.throwsAsync(bytesOf(pipeThrough(Readable.from([Buffer.from('x')]), filter)), { instanceOf: NotFoundError });
  t.is(error.message, 'kiln-no-such-tool is not installed');
  t.regex(error.hint ?? '', /apt-get install -y kiln-tools/);
});

test('aborting a decompression kills the process', async (t) => {
  const controller = new AbortController();
  const frame = await bytesOf(compress(Readable.from([Buffer.alloc(1 << 16)]), 'zstd'));
  // An endless source: only the abort can end this.
  async function* endless(): AsyncGenerator<Buffer> {
    for (;;) yield frame;
  }
  const filter = spawnFilter({ command: 'zstd', args: ['-d', '-c', '-q'], debianPackage: 'zstd' });
  const pid = filter.pid;
  if (pid === undefined) return t.fail('zstd did not start');
  const output = pipeThrough(endless(), filter, { signal: controller.signal });
  let read = 0;
  const error = await t.throwsAsync(
    (async () => {
      for await (const chunk of output) {
        read += (chunk as Buffer).length;
        if (read > 1 << 20) controller.abort();
      }
    })(),
  );
  t.is(error.name, 'AbortError');
  // Node reaps its children: once killed, the pid is gone (ESRCH).
  const gone = async (): Promise<boolean> => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  await waitFor(gone);
  t.true(await gone(), 'the compressor process is gone');
});

test('compress refuses levels out of range and formats kiln does not write', (t) => {
  t.throws(() => compress(Readable.from([]), 'gzip', { level: 12 }), { instanceOf: UsageError });
  t.throws(() => compress(Readable.from([]), 'xz' as unknown as 'gzip'), { instanceOf: UsageError });
});

test('detectCompression on real files matches the extension', async (t) => {
  const directory = await tmp(t);
  await writeFile(join(directory, 'f'), 'hello');
  for (const [tool, compression] of [['gzip', 'gzip'], ['bzip2', 'bzip2'], ['xz', 'xz'], ['zstd', 'zstd']] as const) {
    const { stdout } = await run(tool, ['-c', join(directory, 'f')], { encoding: 'buffer' });
    t.is(detectCompression(stdout.subarray(0, 6)), compression satisfies Compression);
  }
});

function* chunks(data: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function waitFor(check: () => Promise<boolean>, deadlineMs = 5000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
