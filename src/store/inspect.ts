import type { ContentStore } from '../content/index.ts';
import {
  decodeImageConfig,
  familiarString,
  parseReference,
  repositoryName,
  type History,
  type ImageConfig,
} from '../image/index.ts';
import type { ImageStore } from './image-store.ts';
import { currentVersion, type ImageRecord } from './records.ts';

/** An image's config, read from the content store and checked. */
export async function readImageConfig(content: ContentStore, record: ImageRecord): Promise<ImageConfig> {
  return decodeImageConfig(await content.read(record.config.digest), `config ${record.config.digest}`);
}

/** Total uncompressed size of an image's layers, as `docker images` shows it. */
export function imageSize(record: ImageRecord): number {
  return record.layers.reduce((sum, l) => sum + l.size, 0);
}

/** The full tag names that currently point at each image. */
export async function tagsByImage(store: ImageStore): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  for (const tag of await store.tags()) {
    const id = currentVersion(tag)?.id;
    if (id !== undefined) result.set(id, [...(result.get(id) ?? []), tag.name]);
  }
  return result;
}

/**
 * `kiln inspect`: the JSON docker image inspect prints (Id, RepoTags, RepoDigests, Created,
 * Size, Config, RootFS, Metadata…), for one image.
 */
export async function inspectImage(store: ImageStore, record: ImageRecord): Promise<Record<string, unknown>> {
  const config = await readImageConfig(store.content, record);
  const names = (await tagsByImage(store)).get(record.id) ?? [];
  const repos = [...new Set(names.map((n) => repositoryName(parseReference(n))))];
  const lastTagTime = (await store.tags())
    .flatMap((t) => t.versions.filter((v) => v.id === record.id).map((v) => v.time))
    .sort()
    .pop();
  return {
    Id: record.id,
    RepoTags: names.map((n) => familiarString(parseReference(n))),
    RepoDigests: repos.flatMap((repo) =>
      record.manifests.map((m) => familiarString(parseReference(`${repo}@${m.digest}`))),
    ),
    Parent: '',
    Comment: config.history?.[config.history.length - 1]?.comment ?? '',
    Created: config.created ?? '',
    DockerVersion: '',
    Author: config.author ?? '',
    Config: config.config ?? {},
    Architecture: config.architecture,
    ...(config.variant === undefined ? {} : { Variant: config.variant }),
    Os: config.os,
    Size: imageSize(record),
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Metadata: { LastTagTime: lastTagTime ?? '' },
    Descriptor: record.manifests[record.manifests.length - 1],
  };
}

/** One row of `kiln history`: a history entry, with the layer it made. */
export interface HistoryRow {
  /** The image ID for the top row, undefined (docker's `<missing>`) for the others. */
  readonly id: string | undefined;
  readonly created: string | undefined;
  readonly createdBy: string;
  /** Uncompressed bytes of the layer the step made; 0 for a metadata-only step. */
  readonly size: number;
  readonly comment: string;
  readonly emptyLayer: boolean;
}

/**
 * The image's history, newest first, as `docker history`: each config history entry that
 * is not `empty_layer` is paired with the next layer in order.
 */
export async function imageHistory(store: ImageStore, record: ImageRecord): Promise<HistoryRow[]> {
  const config = await readImageConfig(store.content, record);
  const history: readonly History[] =
    config.history ?? record.layers.map(() => ({ created_by: '', empty_layer: false }));
  let layer = 0;
  const rows = history.map((h): HistoryRow => {
    const empty = h.empty_layer === true;
    const size = empty ? 0 : (record.layers[layer++]?.size ?? 0);
    return {
      id: undefined,
      created: h.created,
      createdBy: h.created_by ?? '',
      size,
      comment: h.comment ?? '',
      emptyLayer: empty,
    };
  });
  rows.reverse();
  const [top] = rows;
  if (top !== undefined) rows[0] = { ...top, id: record.id };
  return rows;
}
