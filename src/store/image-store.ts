import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, digestOf, isDigest, openContentStore, type ContentStore, type Digest } from '../content/index.ts';
import { ConflictError, InternalError, NotFoundError } from '../errors/index.ts';
import { decodeIndex, decodeManifest, MediaType, validateImage, type Descriptor } from '../image/index.ts';
import { claimDirectory, isAbandoned } from '../owner/index.ts';
import { readJsonIfExists, writeFileAtomic } from './atomic-file.ts';
import { acquireLock, type Lock } from './lock.ts';
import { currentVersion, type ImageRecord, type ImageSource, type LayerRecord, type TagRecord } from './records.ts';

/** Options of {@link ImageStore.open}. */
export interface StoreOptions {
  /** Blobs that are GC roots besides the images' (the build cache's layers). */
  readonly extraRoots?: () => Promise<Iterable<string>>;
}

/** What {@link ImageStore.recordImage} needs: the content is already in the content store. */
export interface NewImage {
  readonly config: Descriptor;
  readonly layers: readonly LayerRecord[];
  readonly manifest: Descriptor;
  readonly created: string | undefined;
}

/** A guard that keeps blobs written during an operation from being collected before they are recorded. */
export interface Lease extends AsyncDisposable {
  release(): Promise<void>;
}

/** What a garbage collection removed. */
export interface CollectResult {
  readonly images: readonly Digest[];
  readonly blobs: number;
  readonly bytes: number;
}

/**
 * Image records over a content store, under `root`:
 *
 *     images/records/<config hex>.json   one {@link ImageRecord} per image
 *     images/tags/<sha256 of name>.json  one {@link TagRecord} per tag, with its versions
 *     leases/<id>/                       live operations' leases (owned, see src/owner)
 *     locks/store.lock                   the mutation lock
 *
 * Several kiln processes may use one root at once: every change happens under the lock
 * file and every record is replaced atomically, so readers need no lock and see whole
 * records. Blobs are written without the lock; a lease taken before writing them keeps the
 * collector away from them until the image that uses them is recorded.
 */
export class ImageStore {
  readonly content: ContentStore;
  readonly #root: string;
  readonly #extraRoots: (() => Promise<Iterable<string>>) | undefined;

  private constructor(root: string, content: ContentStore, extraRoots: (() => Promise<Iterable<string>>) | undefined) {
    this.#root = root;
    this.content = content;
    this.#extraRoots = extraRoots;
  }

  /**
   * Opens (creating) the store at `root`, removing what dead processes left behind.
   * `extraRoots` names blobs that collection must keep although no image needs them (the
   * build cache's layers): the composition root passes it, so the store need not know who
   * else holds blobs.
   */
  static async open(root: string, options: StoreOptions = {}): Promise<ImageStore> {
    // Small metadata calls here and below are synchronous: a tenth of a thread-pool round trip.
    for (const dir of ['images/records', 'images/tags', 'leases', 'locks', 'tmp']) mkdirSync(join(root, dir), { recursive: true });
    const store = new ImageStore(root, await openContentStore(root), options.extraRoots);
    await store.#cleanOwned('leases');
    await store.#cleanOwned('tmp');
    return store;
  }

  get root(): string {
    return this.#root;
  }

  /** Runs `fn` holding the store's mutation lock. */
  async locked<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const lock: Lock = await acquireLock(join(this.#root, 'locks', 'store.lock'), signal ? { signal } : {});
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  /** Takes a lease: until it is released, blobs written or reused from now on are kept. */
  async lease(): Promise<Lease> {
    const dir = join(this.#root, 'leases', `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
    mkdirSync(dir);
    await claimDirectory(dir);
    const release = async (): Promise<void> => {
      rmSync(dir, { recursive: true, force: true });
    };
    return { release, [Symbol.asyncDispose]: release };
  }

  /**
   * Marks a blob that an operation under a lease reuses instead of writing, so that the
   * collector treats it as new (it keeps blobs touched after the oldest live lease began).
   */
  async touch(digest: Digest): Promise<void> {
    const now = new Date();
    utimesSync(join(this.#root, 'blobs', 'sha256', digestHex(digest)), now, now);
  }

  /**
   * Deletes blobs a failed operation added, unless a recorded image needs them (another
   * operation may have recorded one meanwhile), so that bad input leaves the store as it
   * was. Records check their blobs under the lock, so an operation that raced with this
   * fails cleanly rather than recording a missing blob.
   */
  async discard(added: Iterable<Digest>): Promise<void> {
    const digests = [...added];
    if (digests.length === 0) return;
    await this.locked(async () => {
      const live = await this.liveBlobs();
      for (const digest of digests) if (!live.has(digest)) await this.content.delete(digest);
    });
  }

  /** A fresh temporary directory under the root, owned by this process. */
  async tempDir(): Promise<string> {
    const dir = join(this.#root, 'tmp', `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
    mkdirSync(dir);
    await claimDirectory(dir);
    return dir;
  }

  async image(id: Digest): Promise<ImageRecord | undefined> {
    return (await readJsonIfExists(this.#recordPath(id))) as ImageRecord | undefined;
  }

  async tag(name: string): Promise<TagRecord | undefined> {
    return (await readJsonIfExists(this.#tagPath(name))) as TagRecord | undefined;
  }

  async images(): Promise<ImageRecord[]> {
    return (await this.#readAll<ImageRecord>('records')).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async tags(): Promise<TagRecord[]> {
    return (await this.#readAll<TagRecord>('tags')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Every record in images/<dir>; one removed while listing is skipped. */
  async #readAll<T>(dir: 'records' | 'tags'): Promise<T[]> {
    const records: T[] = [];
    for (const file of await readdir(join(this.#root, 'images', dir))) {
      if (!file.endsWith('.json')) continue;
      const record = (await readJsonIfExists(join(this.#root, 'images', dir, file))) as T | undefined;
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  /**
   * Records an image whose config, layers and manifest are in the content store, or adds
   * the manifest as a new form of an image already recorded.
   */
  async recordImage(image: NewImage): Promise<ImageRecord> {
    return this.locked(async () => {
      const id = image.config.digest;
      // Checked under the lock, so a collector cannot remove a blob between this and the
      // write: every image recorded is whole and valid (validateImage, not deep: the caller
      // has just hashed its layers).
      const valid = await validateImage(this.content, image.manifest);
      if (valid.manifest.config.digest !== id) {
        throw new InternalError(`cannot record image ${id}: its manifest names config ${valid.manifest.config.digest}`);
      }
      const existing = await this.image(id);
      const now = new Date().toISOString();
      const manifests = existing?.manifests ?? [];
      const record: ImageRecord = {
        kind: 'image',
        schema: 1,
        id,
        config: image.config,
        layers: image.layers,
        manifests: manifests.some((m) => m.digest === image.manifest.digest) ? manifests : [...manifests, image.manifest],
        created: image.created,
        recorded: existing?.recorded ?? now,
        updated: now,
      };
      await writeFileAtomic(this.#recordPath(id), `${JSON.stringify(record, null, 2)}\n`);
      return record;
    });
  }

  /**
   * Points tag `name` (a normalised reference) at image `id`, adding a version unless it
   * already points there.
   * @throws NotFoundError when the image is not recorded.
   */
  async setTag(name: string, id: Digest, source: ImageSource, manifest?: Digest): Promise<TagRecord> {
    return this.locked(async () => {
      if ((await this.image(id)) === undefined) throw new NotFoundError(`image ${id} is not in the store`);
      const existing = await this.tag(name);
      const versions = existing?.versions ?? [];
      if (existing !== undefined && currentVersion(existing)?.id === id) return existing;
      const record: TagRecord = {
        kind: 'tag',
        schema: 1,
        name,
        versions: [...versions, { id, manifest, time: new Date().toISOString(), source }],
      };
      await writeFileAtomic(this.#tagPath(name), `${JSON.stringify(record, null, 2)}\n`);
      return record;
    });
  }

  /**
   * Removes tags and images, then the blobs no remaining image needs. A tag removed takes
   * its versions with it; an image is removed only when no remaining tag (current or
   * earlier version) refers to it.
   * @throws ConflictError when an image in `images` is still tagged and `force` is false.
   */
  async remove(options: {
    readonly tags?: readonly string[];
    readonly images?: readonly Digest[];
    readonly force?: boolean;
  }): Promise<CollectResult> {
    return this.locked(async () => {
      const candidates = new Set<Digest>(options.images ?? []);
      for (const name of options.tags ?? []) {
        const tag = await this.tag(name);
        if (tag === undefined) throw new NotFoundError(`no such image: ${name}`);
        for (const v of tag.versions) candidates.add(v.id);
        await rm(this.#tagPath(name), { force: true });
      }
      for (const id of options.images ?? []) {
        const users = (await this.tags()).filter((t) => t.versions.some((v) => v.id === id));
        if (users.length > 0 && options.force !== true) {
          throw new ConflictError(`image ${id.slice(7, 19)} is referenced by ${users.map((t) => t.name).join(', ')}`, {
            hint: 'remove those tags first (kiln rmi NAME), or use --force to remove them too',
          });
        }
        for (const t of users) await rm(this.#tagPath(t.name), { force: true });
      }
      // An image goes when no remaining tag, current or earlier version, refers to it.
      const referenced = new Set((await this.tags()).flatMap((t) => t.versions.map((v) => v.id)));
      const removed: Digest[] = [];
      for (const id of candidates) {
        if (referenced.has(id) || (await this.image(id)) === undefined) continue;
        await rm(this.#recordPath(id), { force: true });
        removed.push(id);
      }
      return { images: removed, ...(await this.#sweep()) };
    });
  }

  /**
   * Drops tag versions other than each tag's current one, keeping those at or after
   * `before` (ms since the epoch) when given. Returns how many were dropped.
   */
  async trimVersions(before?: number): Promise<number> {
    return this.locked(async () => {
      let dropped = 0;
      for (const tag of await this.tags()) {
        const current = currentVersion(tag);
        const kept = tag.versions.filter(
          (v) => v === current || (before !== undefined && Date.parse(v.time) >= before),
        );
        if (kept.length === tag.versions.length) continue;
        dropped += tag.versions.length - kept.length;
        await writeFileAtomic(this.#tagPath(tag.name), `${JSON.stringify({ ...tag, versions: kept }, null, 2)}\n`);
      }
      return dropped;
    });
  }

  /** Rewrites a tag record (fsck's repairs); removes it when `versions` is empty. */
  async replaceTag(tag: TagRecord): Promise<void> {
    await this.locked(async () => {
      if (tag.versions.length === 0) await rm(this.#tagPath(tag.name), { force: true });
      else await writeFileAtomic(this.#tagPath(tag.name), `${JSON.stringify(tag, null, 2)}\n`);
    });
  }

  /** The blobs each recorded image needs: config, manifests and their layers. */
  async liveBlobs(): Promise<Set<string>> {
    const live = await this.imageBlobs();
    if (this.#extraRoots !== undefined) for (const digest of await this.#extraRoots()) live.add(digest);
    return live;
  }

  /** The blobs recorded images need (not the extra roots). */
  async imageBlobs(): Promise<Set<string>> {
    const live = new Set<string>();
    for (const record of await this.images()) {
      live.add(record.config.digest);
      for (const manifest of record.manifests) await this.#markManifest(manifest, live);
    }
    return live;
  }

  /** The blobs one image needs. */
  async blobsOf(record: ImageRecord): Promise<Set<string>> {
    const live = new Set<string>([record.config.digest]);
    for (const manifest of record.manifests) await this.#markManifest(manifest, live);
    return live;
  }

  /**
   * Mark and sweep: removes images no tag version refers to (dangling ones), unless `keep`
   * says otherwise, then every blob no remaining image needs. Blobs written or touched after
   * the oldest live lease began are kept: an operation is still recording them.
   */
  async collect(options: { readonly keep?: (record: ImageRecord) => boolean } = {}): Promise<CollectResult> {
    return this.locked(async () => {
      const referenced = new Set((await this.tags()).flatMap((t) => t.versions.map((v) => v.id)));
      // An image recorded during a live operation (an import that has yet to tag it) is
      // not dangling yet: spared like the blobs such an operation writes.
      const since = await this.#oldestLease();
      const removed: Digest[] = [];
      for (const record of await this.images()) {
        if (referenced.has(record.id) || options.keep?.(record) === true) continue;
        if (since !== undefined && Date.parse(record.updated ?? record.recorded) >= since - 1000) continue;
        await rm(this.#recordPath(record.id), { force: true });
        removed.push(record.id);
      }
      return { images: removed, ...(await this.#sweep()) };
    });
  }

  /**
   * Deletes the blobs nothing needs (no image, no extra root), as {@link collect} does, but
   * removes no image record: what a build's cache policy runs after dropping cache records.
   * `keep` adds roots for this sweep.
   */
  async sweep(keep: Iterable<string> = []): Promise<{ blobs: number; bytes: number }> {
    return this.locked(() => this.#sweep(keep));
  }

  /** Deletes unreferenced blobs; call holding the lock. */
  async #sweep(keep: Iterable<string> = []): Promise<{ blobs: number; bytes: number }> {
    const live = await this.liveBlobs();
    for (const digest of keep) live.add(digest);
    const since = await this.#oldestLease();
    let blobs = 0;
    let bytes = 0;
    for await (const blob of this.content.list()) {
      if (live.has(blob.digest)) continue;
      const s = await stat(join(this.#root, 'blobs', 'sha256', digestHex(blob.digest))).catch(() => undefined);
      if (s === undefined || (since !== undefined && s.mtimeMs >= since - 1000)) continue;
      if (await this.content.delete(blob.digest)) {
        blobs++;
        bytes += blob.size;
      }
    }
    return { blobs, bytes };
  }

  async #markManifest(descriptor: Descriptor, live: Set<string>): Promise<void> {
    live.add(descriptor.digest);
    let bytes: Buffer;
    try {
      bytes = await this.content.read(descriptor.digest);
    } catch (error) {
      if (error instanceof NotFoundError) return;
      throw error;
    }
    const where = `blobs/sha256/${digestHex(descriptor.digest)}`;
    if (descriptor.mediaType === MediaType.ociIndex || descriptor.mediaType === MediaType.dockerManifestList) {
      for (const child of decodeIndex(bytes, where).manifests) await this.#markManifest(child, live);
      return;
    }
    const manifest = decodeManifest(bytes, where);
    live.add(manifest.config.digest);
    for (const layer of manifest.layers) live.add(layer.digest);
  }

  /** Creation time (ms) of the oldest live lease, if any. */
  async #oldestLease(): Promise<number | undefined> {
    let oldest: number | undefined;
    for (const name of await readdir(join(this.#root, 'leases'))) {
      const dir = join(this.#root, 'leases', name);
      if (await isAbandoned(dir)) continue;
      const s = await stat(dir).catch(() => undefined);
      if (s !== undefined && (oldest === undefined || s.birthtimeMs < oldest)) oldest = s.birthtimeMs || s.mtimeMs;
    }
    return oldest;
  }

  async #cleanOwned(dir: string): Promise<void> {
    for (const name of readdirSync(join(this.#root, dir))) {
      const path = join(this.#root, dir, name);
      if (await isAbandoned(path)) await rm(path, { recursive: true, force: true });
    }
  }

  #recordPath(id: Digest): string {
    if (!isDigest(id)) throw new NotFoundError(`${JSON.stringify(id)} is not an image ID`);
    return join(this.#root, 'images', 'records', `${digestHex(id)}.json`);
  }

  #tagPath(name: string): string {
    // Named by the hash of the reference, which holds ':', '/' and '@'.
    return join(this.#root, 'images', 'tags', `${digestHex(digestOf(name))}.json`);
  }
}

