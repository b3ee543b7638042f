import { isDigest, type Digest } from '../content/index.ts';
import { InputError } from '../errors/index.ts';
import { MediaType } from './media-types.ts';
import type { Descriptor, DiffId, ImageConfig, Index, Manifest } from './oci.ts';

/*
 * Decoding of the image JSON documents, each field checked, each error naming the document
 * and the field (`blobs/sha256/ab…: layers[2].digest: …`). What is not checked is kept as
 * it was: unknown fields pass through, since the spec says implementations must ignore them.
 */

type Json = unknown;

function fail(where: string, field: string, problem: string): never {
  throw new InputError(`${where}: ${field}: ${problem}`);
}

function object(value: Json, where: string, field: string): Record<string, Json> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, field, 'expected an object');
  return value as Record<string, Json>;
}

function string(value: Json, where: string, field: string): string {
  if (typeof value !== 'string') fail(where, field, 'expected a string');
  return value;
}

function array(value: Json, where: string, field: string): readonly Json[] {
  if (!Array.isArray(value)) fail(where, field, 'expected an array');
  return value;
}

function parseJson(bytes: Uint8Array | string, where: string): Json {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (cause) {
    throw new InputError(`${where}: not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** A digest field, checked. */
export function digestField(value: Json, where: string, field: string): Digest {
  const text = string(value, where, field);
  if (!isDigest(text)) fail(where, field, `${JSON.stringify(text)} is not a sha256 digest`);
  return text;
}

/** A descriptor (descriptor.md): mediaType, digest and a non-negative integer size. */
export function decodeDescriptor(value: Json, where: string, field: string): Descriptor {
  const o = object(value, where, field);
  const mediaType = string(o['mediaType'], where, `${field}.mediaType`);
  const digest = digestField(o['digest'], where, `${field}.digest`);
  const size = o['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    fail(where, `${field}.size`, 'expected a non-negative integer');
  }
  return { ...(o as object), mediaType, digest, size } as Descriptor;
}

/** An image manifest, OCI or Docker schema 2. */
export function decodeManifest(bytes: Uint8Array | string, where: string): Manifest {
  const o = object(parseJson(bytes, where), where, 'manifest');
  if (o['schemaVersion'] !== 2) fail(where, 'schemaVersion', 'expected 2');
  const mediaType = o['mediaType'];
  if (mediaType !== undefined && mediaType !== MediaType.ociManifest && mediaType !== MediaType.dockerManifest) {
    fail(where, 'mediaType', `${JSON.stringify(mediaType)} is not an image manifest`);
  }
  return {
    ...(o as object),
    schemaVersion: 2,
    config: decodeDescriptor(o['config'], where, 'config'),
    layers: array(o['layers'], where, 'layers').map((l, i) => decodeDescriptor(l, where, `layers[${i}]`)),
  } as Manifest;
}

/** An image index or Docker manifest list. */
export function decodeIndex(bytes: Uint8Array | string, where: string): Index {
  const o = object(parseJson(bytes, where), where, 'index');
  if (o['schemaVersion'] !== 2) fail(where, 'schemaVersion', 'expected 2');
  const mediaType = o['mediaType'];
  if (mediaType !== undefined && mediaType !== MediaType.ociIndex && mediaType !== MediaType.dockerManifestList) {
    fail(where, 'mediaType', `${JSON.stringify(mediaType)} is not an image index`);
  }
  return {
    ...(o as object),
    schemaVersion: 2,
    manifests: array(o['manifests'], where, 'manifests').map((m, i) => decodeDescriptor(m, where, `manifests[${i}]`)),
  } as Index;
}

/** An image configuration; rootfs.diff_ids are checked and branded. */
export function decodeImageConfig(bytes: Uint8Array | string, where: string): ImageConfig {
  const o = object(parseJson(bytes, where), where, 'config');
  const rootfs = object(o['rootfs'], where, 'rootfs');
  if (rootfs['type'] !== 'layers') fail(where, 'rootfs.type', 'expected "layers"');
  const diffIds = array(rootfs['diff_ids'], where, 'rootfs.diff_ids').map(
    (d, i) => digestField(d, where, `rootfs.diff_ids[${i}]`) as string as DiffId,
  );
  return {
    ...(o as object),
    architecture: string(o['architecture'], where, 'architecture'),
    os: string(o['os'], where, 'os'),
    rootfs: { type: 'layers', diff_ids: diffIds },
  } as ImageConfig;
}

/** The media type a document declares, or a guess from its shape when it declares none. */
export function sniffMediaType(bytes: Uint8Array | string, where: string): string {
  const o = object(parseJson(bytes, where), where, 'document');
  if (typeof o['mediaType'] === 'string') return o['mediaType'];
  if (Array.isArray(o['manifests'])) return MediaType.ociIndex;
  if (o['config'] !== undefined && Array.isArray(o['layers'])) return MediaType.ociManifest;
  fail(where, 'mediaType', 'missing, and the document is neither a manifest nor an index');
}
