import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

/*
 * Test fixtures of the layer applier (imported by its *.test.ts only): layer tars written
 * entry by entry with tar-stream, so tests can say exactly what a hostile archive holds.
 */

/** One entry of a fixture tar: tar-stream's header with a body for files. */
export interface FixtureEntry {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  readonly content?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** Seconds since the epoch; 1_700_000_000 when absent. */
  readonly mtime?: number;
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly pax?: Readonly<Record<string, string>>;
}

/** The bytes of a tar holding `entries` in order. */
export async function tarBytes(entries: readonly FixtureEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const header = {
      name: entry.name,
      type,
      mode: entry.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: entry.uid ?? 0,
      gid: entry.gid ?? 0,
      mtime: new Date((entry.mtime ?? 1_700_000_000) * 1000),
      ...(entry.linkname === undefined ? {} : { linkname: entry.linkname }),
      ...(entry.devmajor === undefined ? {} : { devmajor: entry.devmajor, devminor: entry.devminor ?? 0 }),
      ...(entry.pax === undefined ? {} : { pax: entry.pax }),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (type === 'file') pack.entry(header, entry.content ?? '', done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** A readable layer stream of `entries`, in chunks of 512 bytes to exercise streaming. */
export async function layerStream(entries: readonly FixtureEntry[]): Promise<Readable> {
  const bytes = await tarBytes(entries);
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < bytes.length; offset += 512) yield bytes.subarray(offset, offset + 512);
    })(),
  );
}

/**
 * A fresh `<tmp>/kiln-apply-…/root` directory, and its parent to check for escapes; both are
 * removed when the test ends.
 */
export async function freshRoot(t: {
  teardown(fn: () => Promise<void>): void;
}): Promise<{ readonly parent: string; readonly root: string }> {
  const parent = await mkdtemp(join(tmpdir(), 'kiln-apply-'));
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  const root = join(parent, 'root');
  await mkdir(root);
  return { parent, root };
}

/** The names in `dir`, sorted. */
export async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
