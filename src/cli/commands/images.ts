import {
  currentVersion,
  imageSize,
  ImageStore,
  resolveImage,
  normaliseName,
  type ImageRecord,
} from '../../store/index.ts';
import { familiarName, familiarString, parseReference } from '../../image/index.ts';
import { humanSize, table, timeAgo } from '../format.ts';
import { EXIT } from '../exit-codes.ts';

/** `kiln images [--all-versions] [--format json] [--no-trunc]`. */
export async function runImages(
  store: ImageStore,
  options: { readonly allVersions: boolean; readonly format: string | undefined; readonly noTrunc: boolean },
): Promise<number> {
  const records = new Map((await store.images()).map((r) => [r.id, r]));
  const rows: { repo: string; tag: string; record: ImageRecord; version: number | undefined; time: string }[] = [];
  const shown = new Set<string>();
  for (const t of await store.tags()) {
    const ref = parseReference(t.name);
    const versions = options.allVersions ? t.versions.map((v, i) => ({ v, i })) : [{ v: currentVersion(t), i: t.versions.length - 1 }];
    for (const { v, i } of versions.reverse()) {
      const record = v === undefined ? undefined : records.get(v.id);
      if (record === undefined || v === undefined) continue;
      shown.add(record.id);
      rows.push({ repo: familiarName(ref), tag: ref.tag ?? '<none>', record, version: options.allVersions ? i + 1 : undefined, time: v.time });
    }
  }
  for (const record of records.values()) {
    if (!shown.has(record.id)) rows.push({ repo: '<none>', tag: '<none>', record, version: undefined, time: record.recorded });
  }
  if (options.format === 'json') {
    for (const r of rows) {
      process.stdout.write(
        `${JSON.stringify({
          Repository: r.repo,
          Tag: r.tag,
          ID: r.record.id,
          CreatedAt: r.record.created ?? '',
          Size: imageSize(r.record),
          ...(r.version === undefined ? {} : { Version: r.version, VersionTime: r.time }),
        })}\n`,
      );
    }
    return EXIT.ok;
  }
  const id = (r: ImageRecord) => (options.noTrunc ? r.id : r.id.slice(7, 19));
  const header = ['REPOSITORY', 'TAG', ...(options.allVersions ? ['VERSION'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
  process.stdout.write(
    table(
      header,
      rows.map((r) => [
        r.repo,
        r.tag,
        ...(options.allVersions ? [String(r.version ?? '')] : []),
        id(r.record),
        timeAgo(r.record.created),
        humanSize(imageSize(r.record)),
      ]),
    ),
  );
  return EXIT.ok;
}

/** `kiln image versions REF`: every image a tag has pointed at, newest first. */
export async function runVersions(store: ImageStore, name: string, options: { readonly format: string | undefined }): Promise<number> {
  const full = normaliseName(name);
  const tag = await store.tag(full);
  if (tag === undefined) {
    // Let the resolver produce the standard not-found error.
    await resolveImage(store, name);
    return EXIT.failed;
  }
  const rows = tag.versions.map((v, i) => ({ version: i + 1, ...v })).reverse();
  if (options.format === 'json') {
    process.stdout.write(`${JSON.stringify({ name: familiarString(parseReference(full)), versions: rows }, null, 2)}\n`);
    return EXIT.ok;
  }
  process.stdout.write(
    table(
      ['VERSION', 'IMAGE ID', 'SET', 'SOURCE', 'MANIFEST'],
      rows.map((r, i) => [
        `${r.version}${i === 0 ? ' (current)' : ''}`,
        r.id.slice(7, 19),
        `${r.time} (${timeAgo(r.time)})`,
        r.source,
        r.manifest ?? '',
      ]),
    ),
  );
  return EXIT.ok;
}
