import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { isDigest, type ContentStore, type Digest } from '../content/index.ts';
import { InputError, IntegrityError, KilnError } from '../errors/index.ts';
import { decodeImageConfig, decodeIndex, decodeManifest } from './decode.ts';
import { MediaType } from './media-types.ts';
import type { Descriptor, ImageConfig, Manifest } from './oci.ts';
import { hostArchitecture } from './platform.ts';

/** An image found in an archive; its blobs are in the content store. */
export interface ArchivedImage {
  readonly manifest: Descriptor;
  readonly manifestJson: Manifest;
  readonly config: ImageConfig;
  /** Names as the archive gives them, best source first; not yet normalised. */
  readonly names: readonly string[];
}

export interface ReadArchiveOptions {
  readonly signal?: AbortSignal;
  /** Called for each blob the store already had, so that a lease can protect it. */
  readonly reused?: (digest: Digest) => Promise<void>;
  /** Called for each blob this read added to the store. */
  readonly added?: (digest: Digest) => void;
  /** Platform to pick from a multi-platform index; default linux and the host's architecture. */
  readonly architecture?: string;
}

/** Small metadata files are held in memory; anything larger is not metadata. */
const MAX_METADATA = 32 << 20;
const BLOB_PATH = /^blobs\/sha256\/([0-9a-f]{64})$/;

/**
 * Reads an image archive from a stream: an OCI image layout tar, a docker archive (the old
 * `docker save` format with `<id>/layer.tar`, or Docker ≥ 25's, which is both), in one pass.
 * Blobs go into the content store as they stream past, each verified against the digest its
 * path names; other layer files are stored under the digest of their bytes. Nothing is
 * ever written to a path taken from the archive.
 * @throws IntegrityError for a truncated archive or a blob that does not match its name;
 *   InputError (naming the path or field) for anything malformed or missing.
 */
export async function readArchive(content: ContentStore, source: Readable, options: ReadArchiveOptions = {}): Promise<ArchivedImage[]> {
  const files = new Map<string, Buffer>();
  const stored = new Map<string, Digest>();
  const links = new Map<string, string>();
  const extract = tar.extract();
  source.on('error', (error) => extract.destroy(error));
  source.pipe(extract);
  let last = '(start of archive)';
  try {
    for await (const raw of extract) {
      options.signal?.throwIfAborted();
      // tar-stream's entry is a Readable of Buffers; its types say `unknown`.
      const entry = raw as typeof raw & AsyncIterable<Buffer>;
      const name = cleanName(entry.header.name);
      last = name;
      if (entry.header.type === 'symlink' || entry.header.type === 'link') {
        // Old docker archives share layers between images through links.
        const target = entry.header.linkname ?? '';
        links.set(name, entry.header.type === 'symlink' ? posix.join(posix.dirname(name), target) : cleanName(target));
        entry.resume();
        continue;
      }
      if (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file') {
        entry.resume();
        continue;
      }
      const blob = BLOB_PATH.exec(name);
      if (blob !== null) {
        const digest = `sha256:${blob[1]}` as Digest;
        stored.set(name, await storeBlob(content, entry, name, { digest, size: entry.header.size ?? 0 }, options));
      } else if (isMetadata(name) && (entry.header.size ?? 0) <= MAX_METADATA) {
        files.set(name, await collect(entry));
      } else if (name.endsWith('/layer.tar') || name.endsWith('.tar') || name.endsWith('.tar.gz')) {
        stored.set(name, await storeBlob(content, entry, name, undefined, options));
      } else {
        entry.resume();
      }
    }
  } catch (error) {
    if (error instanceof KilnError) throw error;
    const message = (error as Error).message;
    throw new IntegrityError(`the archive is truncated or corrupt after ${last}: ${message}`, { cause: error });
  }

  const blobOf = (path: string): Digest => {
    const resolved = cleanName(links.get(cleanName(path)) ?? path);
    const digest = stored.get(resolved) ?? (BLOB_PATH.test(resolved) ? (`sha256:${resolved.slice(13)}` as Digest) : undefined);
    if (digest === undefined) throw new InputError(`the archive has no file ${path}`);
    return digest;
  };
  const index = files.get('index.json');
  if (index !== undefined) return readLayout(content, index, files, options);
  const manifest = files.get('manifest.json');
  if (manifest !== undefined) return readDockerArchive(content, manifest, files, blobOf);
  throw new InputError('the archive is neither an OCI image layout (no index.json) nor a docker archive (no manifest.json)');
}

async function readLayout(
  content: ContentStore,
  indexBytes: Buffer,
  files: Map<string, Buffer>,
  options: ReadArchiveOptions,
): Promise<ArchivedImage[]> {
  const index = decodeIndex(indexBytes, 'index.json');
  const repoTags = dockerRepoTags(files);
  const images: ArchivedImage[] = [];
  const byManifest = new Map<string, number>();
  for (const [i, descriptor] of index.manifests.entries()) {
    const manifest = await resolveManifest(content, descriptor, `index.json: manifests[${i}]`, options);
    const names = [
      descriptor.annotations?.['io.containerd.image.name'],
      // Docker ≥ 25 writes only the bare tag here; a bare tag names nothing on its own.
      fullName(descriptor.annotations?.['org.opencontainers.image.ref.name']),
    ].filter((n): n is string => n !== undefined && n !== '');
    const seen = byManifest.get(manifest.descriptor.digest);
    if (seen !== undefined) {
      const previous = images[seen];
      if (previous !== undefined) images[seen] = { ...previous, names: [...new Set([...previous.names, ...names])] };
      continue;
    }
    const config = await readConfig(content, manifest.json);
    byManifest.set(manifest.descriptor.digest, images.length);
    images.push({
      manifest: manifest.descriptor,
      manifestJson: manifest.json,
      config,
      names: [...names, ...(repoTags.get(manifest.json.config.digest) ?? [])],
    });
  }
  return images;
}

async function resolveManifest(
  content: ContentStore,
  descriptor: Descriptor,
  where: string,
  options: ReadArchiveOptions,
): Promise<{ descriptor: Descriptor; json: Manifest }> {
  const bytes = await readBlob(content, descriptor, where);
  if (descriptor.mediaType === MediaType.ociIndex || descriptor.mediaType === MediaType.dockerManifestList) {
    const nested = decodeIndex(bytes, where);
    const arch = options.architecture ?? hostArchitecture();
    const pick =
      nested.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ??
      nested.manifests.find((m) => m.platform === undefined);
    if (pick === undefined) throw new InputError(`${where}: no manifest for linux/${arch} in the nested index`);
    return resolveManifest(content, pick, `${where} (linux/${arch})`, options);
  }
  if (descriptor.mediaType !== MediaType.ociManifest && descriptor.mediaType !== MediaType.dockerManifest) {
    throw new InputError(`${where}.mediaType: unknown media type ${JSON.stringify(descriptor.mediaType)}`);
  }
  return { descriptor, json: decodeManifest(bytes, `${where} (${descriptor.digest})`) };
}

async function readDockerArchive(
  content: ContentStore,
  manifestBytes: Buffer,
  files: Map<string, Buffer>,
  blobOf: (path: string) => Digest,
): Promise<ArchivedImage[]> {
  let entries: unknown;
  try {
    entries = JSON.parse(manifestBytes.toString('utf8'));
  } catch (cause) {
    throw new InputError(`manifest.json: not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (!Array.isArray(entries)) throw new InputError('manifest.json: expected an array');
  const images: ArchivedImage[] = [];
  for (const [i, raw] of entries.entries()) {
    const where = `manifest.json[${i}]`;
    const entry = raw as { Config?: unknown; RepoTags?: unknown; Layers?: unknown };
    if (typeof entry.Config !== 'string') throw new InputError(`${where}.Config: expected a path`);
    if (!Array.isArray(entry.Layers) || entry.Layers.some((l) => typeof l !== 'string')) {
      throw new InputError(`${where}.Layers: expected an array of paths`);
    }
    const configPath = cleanName(entry.Config);
    const inline = files.get(configPath);
    const configInfo = inline !== undefined ? await content.put(inline) : await content.info(blobOf(configPath));
    if (configInfo === undefined) throw new InputError(`${where}.Config: the archive has no file ${configPath}`);
    const layers: Descriptor[] = [];
    for (const [n, path] of (entry.Layers as string[]).entries()) {
      const digest = blobOf(path);
      const info = await content.info(digest);
      if (info === undefined) throw new InputError(`${where}.Layers[${n}]: the archive has no file ${path}`);
      layers.push({ mediaType: await sniffLayerMediaType(content, digest), digest, size: info.size });
    }
    // The archive has no manifest: write an OCI one, as Docker ≥ 25 does when it saves an
    // image it holds none for (moby image/tarexport/save.go). skopeo's oci: transport looks a
    // name up only among OCI-typed entries of index.json, so a docker-typed manifest would
    // leave every name `kiln save` writes for this image out of its reach.
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configInfo.digest, size: configInfo.size },
      layers,
    };
    const manifestInfo = await content.put(JSON.stringify(manifest));
    const repoTags = Array.isArray(entry.RepoTags) ? entry.RepoTags.filter((t): t is string => typeof t === 'string') : [];
    images.push({
      manifest: { mediaType: MediaType.ociManifest, digest: manifestInfo.digest, size: manifestInfo.size },
      manifestJson: manifest,
      config: await readConfig(content, manifest),
      names: [...repoTags, ...(repositoriesNames(files).get(configInfo.digest) ?? [])],
    });
  }
  return images;
}

async function readConfig(content: ContentStore, manifest: Manifest): Promise<ImageConfig> {
  const bytes = await readBlob(content, manifest.config, 'config');
  const config = decodeImageConfig(bytes, `config ${manifest.config.digest}`);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new InputError(
      `config ${manifest.config.digest}: rootfs.diff_ids lists ${config.rootfs.diff_ids.length} layers, the manifest ${manifest.layers.length}`,
    );
  }
  return config;
}

async function readBlob(content: ContentStore, descriptor: Descriptor, where: string): Promise<Buffer> {
  const info = await content.info(descriptor.digest);
  if (info === undefined) throw new InputError(`${where}: blob ${descriptor.digest} is missing from the archive`);
  if (info.size !== descriptor.size) {
    throw new IntegrityError(`${where}: blob ${descriptor.digest} has ${info.size} bytes, the descriptor says ${descriptor.size}`);
  }
  return content.read(descriptor.digest);
}

async function storeBlob(
  content: ContentStore,
  entry: AsyncIterable<Uint8Array> & { resume(): void },
  name: string,
  expected: { digest: Digest; size: number } | undefined,
  options: ReadArchiveOptions,
): Promise<Digest> {
  if (expected !== undefined && (await content.info(expected.digest)) !== undefined) {
    for await (const _chunk of entry);
    await options.reused?.(expected.digest);
    return expected.digest;
  }
  try {
    const before = expected === undefined ? undefined : await content.info(expected.digest);
    const info = await content.ingest(entry, expected);
    if (before === undefined) options.added?.(info.digest);
    return info.digest;
  } catch (error) {
    if (error instanceof IntegrityError) throw new IntegrityError(`${name}: ${error.message}`, { cause: error });
    throw error;
  }
}

async function sniffLayerMediaType(content: ContentStore, digest: Digest): Promise<string> {
  const stream = content.open(digest);
  let head = Buffer.alloc(0);
  for await (const chunk of stream) {
    head = Buffer.concat([head, chunk as Buffer]);
    if (head.length >= 6) break;
  }
  stream.destroy();
  if (head[0] === 0x1f && head[1] === 0x8b) return MediaType.ociLayerGzip;
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return MediaType.ociLayerZstd;
  return MediaType.ociLayer;
}

function dockerRepoTags(files: Map<string, Buffer>): Map<string, string[]> {
  const result = new Map<string, string[]>();
  const bytes = files.get('manifest.json');
  if (bytes === undefined) return result;
  try {
    const entries = JSON.parse(bytes.toString('utf8')) as { Config?: string; RepoTags?: string[] }[];
    for (const e of entries) {
      const hex = /([0-9a-f]{64})(?:\.json)?$/.exec(e.Config ?? '')?.[1];
      if (hex !== undefined && Array.isArray(e.RepoTags)) result.set(`sha256:${hex}`, e.RepoTags);
    }
  } catch {
    // manifest.json is only a source of names when index.json is present.
  }
  return result;
}

function repositoriesNames(files: Map<string, Buffer>): Map<string, string[]> {
  const result = new Map<string, string[]>();
  const bytes = files.get('repositories');
  if (bytes === undefined) return result;
  try {
    const repos = JSON.parse(bytes.toString('utf8')) as Record<string, Record<string, string>>;
    for (const [repo, tags] of Object.entries(repos)) {
      for (const [tag, id] of Object.entries(tags)) {
        const digest = `sha256:${id.replace(/^sha256:/, '')}`;
        if (isDigest(digest)) result.set(digest, [...(result.get(digest) ?? []), `${repo}:${tag}`]);
      }
    }
  } catch {
    // A malformed legacy file only loses names.
  }
  return result;
}

function fullName(refName: string | undefined): string | undefined {
  // A name with a repository has a '/' or a ':' before any tag; a bare tag ("1") has neither.
  return refName !== undefined && /[/:]/.test(refName) ? refName : undefined;
}

function isMetadata(name: string): boolean {
  return (
    name === 'index.json' ||
    name === 'manifest.json' ||
    name === 'repositories' ||
    name === 'oci-layout' ||
    name.endsWith('.json') ||
    name.endsWith('/json') ||
    name.endsWith('/VERSION')
  );
}

function cleanName(name: string): string {
  return posix.normalize(`/${name}`).slice(1).replace(/\/$/, '');
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
