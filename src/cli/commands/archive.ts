import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { unpackImages } from '../../build/index.ts';
import { InputError, UsageError } from '../../errors/index.ts';
import { applyConfigChanges } from '../../frontend/index.ts';
import { familiarString, parseReference } from '../../image/index.ts';
import { exportImages } from '../../exporter/index.ts';
import { importRootfs, loadArchive, type ImageStore } from '../../store/index.ts';
import { EXIT } from '../exit-codes.ts';

/** `kiln import FILE|- [REF] [--change INSTRUCTION]…`: prints the new image's ID. */
export async function runImport(
  store: ImageStore,
  file: string,
  ref: string | undefined,
  options: { readonly change: readonly string[]; readonly message: string | undefined },
  signal: AbortSignal,
): Promise<number> {
  const epoch = sourceDateEpoch();
  const result = await importRootfs(store, await input(file), {
    ...(ref === undefined ? {} : { ref }),
    sourceName: options.message ?? (file === '-' ? '-' : file),
    configure: (config) => applyConfigChanges(config, options.change),
    ...(epoch === undefined ? {} : { epoch }),
    signal,
  });
  process.stdout.write(`${result.id}\n`);
  return EXIT.ok;
}

/** `kiln load [-i FILE|-] [-q]`: prints each image loaded, as docker load does. */
export async function runLoad(store: ImageStore, options: { readonly input: string; readonly quiet: boolean }, signal: AbortSignal): Promise<number> {
  const recorded = await loadArchive(store, await input(options.input), {
    signal,
    sourceName: options.input === '-' ? 'standard input' : options.input,
  });
  warnUnpacked(
    await unpackImages(
      store,
      recorded.map((r) => r.id),
      signal,
    ),
  );
  for (const r of recorded) {
    if (r.tags.length === 0) process.stdout.write(`Loaded image ID: ${r.id}\n`);
    for (const t of r.tags) process.stdout.write(`Loaded image: ${familiarString(parseReference(t))}\n`);
  }
  return EXIT.ok;
}

/**
 * `kiln save -o FILE REF…`: one tar that is an OCI layout and a docker archive at once, its
 * layers gzip (those stored uncompressed are compressed once, and the form recorded).
 */
export async function runSave(store: ImageStore, refs: readonly string[], options: { readonly output: string | undefined }, signal: AbortSignal): Promise<number> {
  const target = options.output;
  if (target === undefined || target === '-') {
    if (process.stdout.isTTY) {
      throw new UsageError('refusing to write an archive to a terminal', { hint: 'use -o FILE, or redirect standard output' });
    }
    await exportImages(store, refs, process.stdout, { signal });
    return EXIT.ok;
  }
  // Written beside the target and renamed into place, so a failed save leaves no half file.
  const partial = `${target}.kiln-partial`;
  try {
    const out: Writable = createWriteStream(partial, { mode: 0o644 });
    await exportImages(store, refs, out, { signal });
    await finished(out);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return EXIT.ok;
}

async function input(file: string): Promise<Readable> {
  if (file === '-') return process.stdin;
  const stream = createReadStream(file);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) =>
      reject(new InputError(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, { file, cause: error })),
    );
  });
  return stream;
}

/** SOURCE_DATE_EPOCH from the environment (reproducible-builds.org), when set. */
function sourceDateEpoch(): number | undefined {
  const text = process.env['SOURCE_DATE_EPOCH'];
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`SOURCE_DATE_EPOCH=${text}: expected seconds since the epoch`);
  return Number(text);
}

/** Says which images were stored but not unpacked (their first build unpacks them). */
function warnUnpacked(failed: readonly { readonly id: string; readonly error: unknown }[]): void {
  for (const { id, error } of failed) {
    process.stderr.write(`kiln: warning: image ${id} is stored but not unpacked: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}
