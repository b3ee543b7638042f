import type { Digest } from '../content/index.ts';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import { formatReference, parseImageLookup, withDefaultTag, type Reference } from '../image/index.ts';
import type { ImageStore } from './image-store.ts';
import { currentVersion, type ImageRecord } from './records.ts';

/** An image a user named, and how: through a tag, or by ID or digest. */
export interface Resolved {
  readonly record: ImageRecord;
  /** The full tag name when the image was named by one. */
  readonly tag: string | undefined;
  /** The manifest meant, when a digest or a tag's version says which form. */
  readonly manifest: Digest | undefined;
}

/**
 * Finds the image a user means, as docker does: a name (normalised, `latest` when it has no
 * tag) through its tag's current version; `name@sha256:…` by manifest digest (and the name's
 * repository); an image ID, full or `sha256:`-prefixed or a unique prefix of 4+ hex digits
 * when no tag has that name.
 * @throws NotFoundError when nothing matches; ConflictError for an ambiguous prefix.
 */
export async function resolveImage(store: ImageStore, text: string): Promise<Resolved> {
  const lookup = parseImageLookup(text);
  if (lookup.kind === 'id') {
    const record = await store.image(lookup.digest);
    if (record === undefined) throw notFound(text);
    return { record, tag: undefined, manifest: undefined };
  }
  const byName = await resolveName(store, lookup.ref);
  if (byName !== undefined) return byName;
  if (lookup.kind === 'reference-or-id') {
    const matches = (await store.images()).filter((r) => r.id.startsWith(`sha256:${lookup.prefix}`));
    if (matches.length > 1) {
      throw new ConflictError(`${text} is ambiguous: it begins ${matches.length} image IDs`, {
        hint: 'give more digits of the ID',
      });
    }
    const [record] = matches;
    if (record !== undefined) return { record, tag: undefined, manifest: undefined };
  }
  throw notFound(text);
}

async function resolveName(store: ImageStore, ref: Reference): Promise<Resolved | undefined> {
  if (ref.digest !== undefined) {
    const digest = ref.digest;
    const record = (await store.images()).find((r) => r.manifests.some((m) => m.digest === digest) || r.id === digest);
    return record === undefined ? undefined : { record, tag: undefined, manifest: digest };
  }
  const name = formatReference(withDefaultTag(ref));
  const tag = await store.tag(name);
  const version = tag === undefined ? undefined : currentVersion(tag);
  if (version === undefined) return undefined;
  const record = await store.image(version.id);
  return record === undefined ? undefined : { record, tag: name, manifest: version.manifest };
}

function notFound(text: string): NotFoundError {
  return new NotFoundError(`no such image: ${text}`, { hint: 'kiln images lists the images in the store' });
}
