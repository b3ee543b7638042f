import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { kiln } from './kiln.ts';

/*
 * Archives written by a real `docker save` (Debian's docker.io 20.10, so the legacy format
 * with `<id>/layer.tar`; testdata/archives/README.md says how they were made), loaded through
 * the built CLI on a fresh root per test. What docker said about each image (its ID, which
 * is the config digest, its tags and layers) is read back from the archive's own
 * manifest.json, so the expectations cannot drift from the fixture.
 */
const ARCHIVES = new URL('../../testdata/archives/', import.meta.url).pathname;
const work = await mkdtemp(join(tmpdir(), 'kiln-e2e-docker-archive-'));
let n = 0;

interface DockerImage {
  /** `sha256:` + the hex docker named the config file by: the image ID. */
  readonly id: string;
  readonly repoTags: readonly string[];
  readonly layerPaths: readonly string[];
  readonly diffIds: readonly string[];
}

interface Fixture {
  /** The archive exactly as `docker save` wrote it, un-gzipped into the work folder. */
  readonly plain: string;
  readonly gzipped: string;
  readonly images: readonly DockerImage[];
  readonly symlinks: ReadonlyMap<string, string>;
}

async function fixture(name: string): Promise<Fixture> {
  const gzipped = join(ARCHIVES, name);
  const bytes = gunzipSync(await readFile(gzipped));
  const plain = join(work, name.replace(/\.gz$/, ''));
  await writeFile(plain, bytes);
  const files = new Map<string, Buffer>();
  const symlinks = new Map<string, string>();
  const extract = tar.extract();
  Readable.from([bytes]).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
    if (entry.header.type === 'symlink') symlinks.set(entry.header.name, entry.header.linkname ?? '');
    else if (entry.header.name.endsWith('.json')) files.set(entry.header.name, Buffer.concat(chunks));
  }
  const manifest = JSON.parse(String(files.get('manifest.json'))) as { Config: string; RepoTags: string[] | null; Layers: string[] }[];
  const images = manifest.map((entry) => {
    const config = files.get(entry.Config);
    if (config === undefined) throw new Error(`${name}: no ${entry.Config}`);
    const hex = entry.Config.replace(/\.json$/, '');
    // Docker's image ID is the digest of the config bytes; check the fixture says so.
    if (createHash('sha256').update(config).digest('hex') !== hex) throw new Error(`${name}: ${entry.Config} does not hash to its name`);
    const diffIds = (JSON.parse(String(config)) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
    return { id: `sha256:${hex}`, repoTags: entry.RepoTags ?? [], layerPaths: entry.Layers, diffIds };
  });
  return { plain, gzipped, images, symlinks };
}

const twoTags = await fixture('docker-20.10-two-tags.tar.gz');
const sharedLayer = await fixture('docker-20.10-shared-layer.tar.gz');

test.after.always(async () => {
  await rm(work, { recursive: true, force: true });
});

async function freshRoot(): Promise<string> {
  return mkdtemp(join(work, `root${n++}-`));
}

function ok(t: { is: (a: unknown, b: unknown, m?: string) => void }, r: { code: number | null; stderr: string }) {
  t.is(r.code, 0, r.stderr);
}

function sh(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
}

/** `kiln images --format json` as tag → ID. */
function imageIds(root: string): Map<string, string> {
  const lines = kiln(root, ['images', '--format', 'json']).stdout.trim().split('\n');
  return new Map(lines.map((l) => JSON.parse(l) as { Repository: string; Tag: string; ID: string }).map((i) => [`${i.Repository}:${i.Tag}`, i.ID]));
}

/** The full name a familiar one stands for, as docker normalises it. */
function fullName(familiar: string): string {
  const slash = familiar.indexOf('/');
  const domain = slash < 0 ? '' : familiar.slice(0, slash);
  if (slash >= 0 && (domain.includes('.') || domain.includes(':') || domain === 'localhost')) return familiar;
  return `docker.io/${slash < 0 ? 'library/' : ''}${familiar}`;
}

for (const [name, fx] of [
  ['two tags', twoTags],
  ['shared layer', sharedLayer],
] as const) {
  test(`a docker 20.10 save (${name}) loads with docker's image IDs, tags and layers, and fsck finds nothing`, async (t) => {
    const root = await freshRoot();
    const loaded = kiln(root, ['load', '-i', fx.plain]);
    ok(t, loaded);
    t.is(loaded.stdout, fx.images.flatMap((i) => i.repoTags.map((tag) => `Loaded image: ${tag}\n`)).join(''));

    const expected = new Map(fx.images.flatMap((i) => i.repoTags.map((tag) => [tag, i.id] as const)));
    t.deepEqual(imageIds(root), expected);
    for (const image of fx.images) {
      for (const tag of image.repoTags) {
        // The tag is stored under its normalised full name; the familiar one resolves to it.
        const [byFull] = JSON.parse(kiln(root, ['inspect', fullName(tag)]).stdout);
        t.is(byFull.Id, image.id, tag);
        t.deepEqual(byFull.RootFS.Layers, image.diffIds, tag);
        t.is(byFull.RootFS.Layers.length, image.layerPaths.length, tag);
        t.deepEqual([...byFull.RepoTags].sort(), [...image.repoTags].sort(), tag);
      }
    }
    const fsck = kiln(root, ['fsck']);
    ok(t, fsck);
    t.is(fsck.stdout, 'no problems found\n');
  });
}

test('the gzipped fixture loads as the plain docker save output does', async (t) => {
  const plain = await freshRoot();
  const gzipped = await freshRoot();
  ok(t, kiln(plain, ['load', '-i', twoTags.plain]));
  ok(t, kiln(gzipped, ['load', '-i', twoTags.gzipped]));
  t.deepEqual(imageIds(gzipped), imageIds(plain));
  const [a] = JSON.parse(kiln(plain, ['inspect', 'hello-kiln']).stdout);
  const [b] = JSON.parse(kiln(gzipped, ['inspect', 'hello-kiln']).stdout);
  t.is(b.Descriptor.digest, a.Descriptor.digest);
});

test('a layer docker saved once and linked from a second layer directory is shared by both images', async (t) => {
  // The fixture must really hold a symlinked layer.tar, or this test proves nothing.
  t.true([...sharedLayer.symlinks.keys()].some((k) => k.endsWith('/layer.tar')));
  const root = await freshRoot();
  ok(t, kiln(root, ['load', '-i', sharedLayer.plain]));
  const [base] = JSON.parse(kiln(root, ['inspect', 'kiln-fixture/busybox:imported']).stdout);
  const [top] = JSON.parse(kiln(root, ['inspect', 'hello-kiln:latest']).stdout);
  t.is(base.RootFS.Layers.length, 1);
  t.is(top.RootFS.Layers.length, 2);
  t.is(top.RootFS.Layers[0], base.RootFS.Layers[0]);
  ok(t, kiln(root, ['fsck']));
});

// Regression: a docker archive's image got a docker-typed manifest, and skopeo's oci:
// transport skips such entries of index.json when it looks a name up ("no descriptor found
// for reference"), so no name in a `kiln save` of it could be opened as oci-archive:FILE:TAG.
test('kiln save of a loaded docker image passes skopeo docker-archive: and oci-archive:, by each tag', async (t) => {
  const root = await freshRoot();
  ok(t, kiln(root, ['load', '-i', twoTags.plain]));
  const [image] = twoTags.images;
  if (image === undefined) return t.fail('the fixture holds no image');
  const [inspected] = JSON.parse(kiln(root, ['inspect', 'hello-kiln:latest']).stdout);
  t.is(inspected.Descriptor.mediaType, 'application/vnd.oci.image.manifest.v1+json');

  const both = join(work, 'saved-both.tar');
  ok(t, kiln(root, ['save', '-o', both, ...image.repoTags]));
  // docker 20.10 saved its layers as plain tars: kiln save writes them gzip, a form of the
  // image it records beside the loaded one (same image ID), which is now the latest.
  const [saved] = JSON.parse(kiln(root, ['inspect', 'hello-kiln:latest']).stdout);
  t.is(saved.Id, inspected.Id);
  t.not(saved.Descriptor.digest, inspected.Descriptor.digest);
  for (const tag of image.repoTags) {
    const raw = JSON.parse(sh('skopeo', ['inspect', '--raw', `docker-archive:${both}:${tag}`]));
    t.is(raw.config.digest, image.id, tag);
    const config = JSON.parse(sh('skopeo', ['inspect', '--config', `docker-archive:${both}:${tag}`]));
    t.deepEqual(config.rootfs.diff_ids, image.diffIds, tag);
    const refName = tag.slice(tag.lastIndexOf(':') + 1);
    const oci = JSON.parse(sh('skopeo', ['inspect', `oci-archive:${both}:${refName}`]));
    t.is(oci.Digest, saved.Descriptor.digest, tag);
    t.is(oci.Layers.length, image.diffIds.length, tag);
    const manifest = JSON.parse(sh('skopeo', ['inspect', '--raw', `oci-archive:${both}:${refName}`]));
    t.deepEqual([...new Set(manifest.layers.map((l: { mediaType: string }) => l.mediaType))], ['application/vnd.oci.image.layer.v1.tar+gzip'], tag);
  }

  // One name, one index entry: skopeo opens it with no reference at all.
  const one = join(work, 'saved-one.tar');
  ok(t, kiln(root, ['save', '-o', one, 'hello-kiln:latest']));
  t.is(JSON.parse(sh('skopeo', ['inspect', `oci-archive:${one}`])).Digest, saved.Descriptor.digest);
  t.is(JSON.parse(sh('skopeo', ['inspect', '--raw', `docker-archive:${one}`])).config.digest, image.id);

  // And kiln reads its own save back to the same image and names.
  const again = await freshRoot();
  ok(t, kiln(again, ['load', '-i', both]));
  t.deepEqual(imageIds(again), imageIds(root));
});
