import { familiarString, parseReference } from '../../image/index.ts';
import {
  diskUsage,
  fsck,
  imageHistory,
  inspectImage,
  normaliseName,
  resolveImage,
  type ImageStore,
} from '../../store/index.ts';
import { UsageError } from '../../errors/index.ts';
import { parseSize, pruneAll } from '../../cache/index.ts';
import { EXIT } from '../exit-codes.ts';
import { humanSize, parseUntil, table, timeAgo } from '../format.ts';

/** `kiln tag SOURCE TARGET`: a new version of TARGET pointing at SOURCE's image. */
export async function runTag(store: ImageStore, source: string, target: string): Promise<number> {
  const resolved = await resolveImage(store, source);
  await store.setTag(normaliseName(target), resolved.record.id, 'tag', resolved.manifest);
  return EXIT.ok;
}

/** `kiln rmi [-f] IMAGE…`: untags names; removes images by ID; frees what nothing else needs. */
export async function runRmi(store: ImageStore, names: readonly string[], options: { readonly force: boolean }): Promise<number> {
  for (const name of names) {
    const resolved = await resolveImage(store, name);
    const result =
      resolved.tag !== undefined
        ? await store.remove({ tags: [resolved.tag] })
        : await store.remove({ images: [resolved.record.id], force: options.force });
    if (resolved.tag !== undefined) process.stdout.write(`Untagged: ${familiarString(parseReference(resolved.tag))}\n`);
    for (const id of result.images) process.stdout.write(`Deleted: ${id}\n`);
  }
  return EXIT.ok;
}

/** `kiln inspect IMAGE…`: a JSON array shaped like `docker image inspect`. */
export async function runInspect(store: ImageStore, names: readonly string[]): Promise<number> {
  const out = [];
  for (const name of names) out.push(await inspectImage(store, (await resolveImage(store, name)).record));
  process.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
  return EXIT.ok;
}

/** `kiln history [--no-trunc] [--format json] IMAGE`, like `docker history`. */
export async function runHistory(store: ImageStore, name: string, options: { readonly noTrunc: boolean; readonly format: string | undefined }): Promise<number> {
  const rows = await imageHistory(store, (await resolveImage(store, name)).record);
  if (options.format === 'json') {
    for (const r of rows) {
      process.stdout.write(
        `${JSON.stringify({ ID: r.id ?? '<missing>', CreatedAt: r.created ?? '', CreatedBy: r.createdBy, Size: r.size, Comment: r.comment })}\n`,
      );
    }
    return EXIT.ok;
  }
  const trunc = (s: string, n: number) => (options.noTrunc || s.length <= n ? s : `${s.slice(0, n - 1)}…`);
  process.stdout.write(
    table(
      ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'],
      rows.map((r) => [
        r.id === undefined ? '<missing>' : options.noTrunc ? r.id : r.id.slice(7, 19),
        timeAgo(r.created),
        trunc(r.createdBy.replace(/\s+/g, ' '), 45),
        humanSize(r.size),
        r.comment,
      ]),
    ),
  );
  return EXIT.ok;
}

/** `kiln prune [--all] [--filter until=…]`. */
export async function runPrune(
  store: ImageStore,
  options: { readonly all: boolean; readonly filter: readonly string[]; readonly keepStorage?: string | undefined; readonly cache?: boolean },
): Promise<number> {
  let until: number | undefined;
  for (const f of options.filter) {
    const [key, value] = f.split('=', 2);
    if (key !== 'until' || value === undefined) throw new UsageError(`--filter ${f}: only until=DURATION|TIMESTAMP is supported`);
    until = parseUntil(value);
    if (until === undefined) throw new UsageError(`--filter ${f}: expected a duration (24h, 90m) or a timestamp`);
  }
  let keepStorage: number | undefined;
  if (options.keepStorage !== undefined) {
    try {
      keepStorage = parseSize(options.keepStorage, '--keep-storage');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const result = await pruneAll(store, {
    all: options.all,
    ...(until === undefined ? {} : { until }),
    ...(keepStorage === undefined ? {} : { keepStorage }),
    cacheMounts: options.cache === true,
  });
  for (const id of result.images) process.stdout.write(`Deleted: ${id}\n`);
  process.stdout.write(
    `Removed ${result.images.length} image(s), ${result.versions} earlier version(s), ${result.cacheRecords} build cache record(s), ` +
      `${result.snapshots} snapshot(s), ${result.cacheMounts} cache mount(s) and ${result.blobs} blob(s)\nTotal reclaimed space: ${humanSize(result.bytes)}\n`,
  );
  return EXIT.ok;
}

/** `kiln du [--format json]`: what uses the space. */
export async function runDu(store: ImageStore, options: { readonly format: string | undefined }): Promise<number> {
  const u = await diskUsage(store);
  if (options.format === 'json') {
    process.stdout.write(`${JSON.stringify(u, null, 2)}\n`);
    return EXIT.ok;
  }
  process.stdout.write(
    table(
      ['TYPE', 'TOTAL', 'SIZE', 'RECLAIMABLE'],
      [
        ['Images', `${u.images} (${u.tags} tags, ${u.versions} versions)`, humanSize(u.imageBytes), '0B'],
        ['Build cache', `${u.buildCacheBlobs} blobs`, humanSize(u.buildCacheBytes), humanSize(u.buildCacheBytes)],
        ['Unreferenced blobs', String(u.reclaimableBlobs), humanSize(u.reclaimableBytes), humanSize(u.reclaimableBytes)],
        ['All blobs', String(u.totalBlobs), humanSize(u.totalBytes), humanSize(u.reclaimableBytes)],
      ],
    ),
  );
  return EXIT.ok;
}

/** `kiln fsck`: exit 0 when everything is whole (after repairs), 1 when something is not. */
export async function runFsck(store: ImageStore): Promise<number> {
  const findings = await fsck(store);
  for (const f of findings) process.stdout.write(`${f.problem}${f.repair === undefined ? '' : `: ${f.repair}`}\n`);
  const broken = findings.filter((f) => f.broken);
  process.stdout.write(findings.length === 0 ? 'no problems found\n' : `${findings.length} finding(s), ${broken.length} not repaired\n`);
  return broken.length === 0 ? EXIT.ok : EXIT.failed;
}
