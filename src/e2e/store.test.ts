import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { busyboxRootfsTar } from './busybox.ts';
import { kiln, kilnAsync, startKiln } from './kiln.ts';

/*
 * The store end to end, through the built CLI on a fresh root per test: import, save, load,
 * versions, rmi, prune, fsck, checked with skopeo and umoci (Debian packages) and GNU tar.
 */
const work = await mkdtemp(join(tmpdir(), 'kiln-e2e-store-'));
const rootfs = await busyboxRootfsTar(work);
const epoch = { SOURCE_DATE_EPOCH: '0' };
let n = 0;

async function freshRoot(): Promise<string> {
  return mkdtemp(join(work, `root${n++}-`));
}

function ok(t: { is: (a: unknown, b: unknown, m?: string) => void }, r: { code: number | null; stderr: string }) {
  t.is(r.code, 0, r.stderr);
}

function sh(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
}

function images(root: string): string {
  return kiln(root, ['images', '--no-trunc', '--all-versions']).stdout;
}

test.after.always(async () => {
  await rm(work, { recursive: true, force: true });
});

test('import → save → load keeps the image ID and the manifest digest, and OCI tools accept the archive', async (t) => {
  const a = await freshRoot();
  const imported = kiln(a, ['import', rootfs, 'busybox:e2e', '--change', 'CMD ["sh"]'], { env: epoch });
  ok(t, imported);
  const id = imported.stdout.trim();
  t.regex(id, /^sha256:[0-9a-f]{64}$/);
  const archive = join(work, 'roundtrip.tar');
  ok(t, kiln(a, ['save', '-o', archive, 'busybox:e2e']));

  const b = await freshRoot();
  const loaded = kiln(b, ['load', '-i', archive]);
  ok(t, loaded);
  t.is(loaded.stdout, 'Loaded image: busybox:e2e\n');
  const [before] = JSON.parse(kiln(a, ['inspect', 'busybox:e2e']).stdout);
  const [after] = JSON.parse(kiln(b, ['inspect', 'busybox:e2e']).stdout);
  t.is(after.Id, id);
  t.is(after.Descriptor.digest, before.Descriptor.digest);
  t.deepEqual(after.Config, { Cmd: ['sh'] });

  const oci = JSON.parse(sh('skopeo', ['inspect', `oci-archive:${archive}`]));
  t.is(oci.Digest, before.Descriptor.digest);
  const docker = JSON.parse(sh('skopeo', ['inspect', '--config', `docker-archive:${archive}`]));
  t.deepEqual(docker.rootfs.diff_ids, before.RootFS.Layers);
  sh('skopeo', ['copy', '-q', `oci-archive:${archive}`, `oci:${join(work, 'ocidir')}:e2e`]);
  sh('umoci', ['unpack', '--image', `${join(work, 'ocidir')}:e2e`, join(work, 'bundle')]);
  t.true(existsSync(join(work, 'bundle', 'rootfs', 'bin', 'busybox')));
  t.is(sh('readlink', [join(work, 'bundle', 'rootfs', 'bin', 'sh')]).trim(), 'busybox');
});

/** The snapshot directories of `root` holding the busybox binary (an unpacked busybox layer). */
async function unpackedBusybox(root: string): Promise<string[]> {
  const dir = join(root, 'snapshots');
  const ids = (await readdir(dir).catch(() => [] as string[])).filter((name) => /^\d+$/.test(name));
  return ids.filter((id) => existsSync(join(dir, id, 'fs', 'bin', 'busybox')));
}

test('load unpacks the image into a snapshot, as docker load does, so a first build does not; import only stores it', async (t) => {
  const a = await freshRoot();
  ok(t, kiln(a, ['import', rootfs, 'busybox:unpacked'], { env: epoch }));
  t.is((await unpackedBusybox(a)).length, 0);
  const archive = join(work, 'unpacked.tar');
  ok(t, kiln(a, ['save', '-o', archive, 'busybox:unpacked']));
  const b = await freshRoot();
  ok(t, kiln(b, ['load', '-i', archive]));
  const unpacked = await unpackedBusybox(b);
  t.is(unpacked.length, 1);
  // A build FROM it uses that snapshot: no second copy of the layer appears.
  const context = join(work, 'unpacked-context');
  await mkdir(context);
  await writeFile(join(context, 'Dockerfile'), 'FROM busybox:unpacked\nRUN true\n');
  ok(t, kiln(b, ['build', '--progress', 'plain', context]));
  t.deepEqual(await unpackedBusybox(b), unpacked);
});

test('every input codec gives the same image; plain, gzip, zstd, bzip2 and xz', async (t) => {
  const root = await freshRoot();
  const ids = new Set<string>();
  const inputs: [string, string[]][] = [
    ['plain', []],
    ['gz', ['gzip', '-c']],
    ['zst', ['zstd', '-q', '-c']],
    ['bz2', ['bzip2', '-c']],
    ['xz', ['xz', '-c']],
  ];
  for (const [ext, cmd] of inputs) {
    const file = join(work, `rootfs.${ext}`);
    if (cmd.length === 0) await writeFile(file, await readFile(rootfs));
    else await writeFile(file, execFileSync(cmd[0] ?? '', [...cmd.slice(1), rootfs], { maxBuffer: 1 << 28 }));
    const r = kiln(root, ['import', '-m', 'same', file, `codec:${ext}`], { env: epoch });
    ok(t, r);
    ids.add(r.stdout.trim());
  }
  t.is(ids.size, 1, 'the image ID does not depend on the input codec');
  t.is(kiln(root, ['fsck']).code, 0);
});

test('import from standard input and an unnamed image shows as <none>', async (t) => {
  const root = await freshRoot();
  const r = kiln(root, ['import', '-'], { input: await readFile(rootfs) });
  ok(t, r);
  t.regex(kiln(root, ['images']).stdout, /<none>\s+<none>\s+[0-9a-f]{12}/);
});

test('a tag keeps every image it pointed at; an earlier version can be saved by digest', async (t) => {
  const root = await freshRoot();
  const first = kiln(root, ['import', rootfs, 'app:1', '--change', 'ENV V=1']).stdout.trim();
  const second = kiln(root, ['import', rootfs, 'app:1', '--change', 'ENV V=2']).stdout.trim();
  t.not(first, second);
  const versions = JSON.parse(kiln(root, ['image', 'versions', 'app:1', '--format', 'json']).stdout);
  t.deepEqual(
    versions.versions.map((v: { id: string; source: string }) => [v.id, v.source]),
    [
      [second, 'import'],
      [first, 'import'],
    ],
  );
  t.is(JSON.parse(kiln(root, ['inspect', 'app:1']).stdout)[0].Id, second);
  // The earlier version is still whole: save it by its ID and load it elsewhere.
  const archive = join(work, 'old.tar');
  ok(t, kiln(root, ['save', '-o', archive, first]));
  const other = await freshRoot();
  ok(t, kiln(other, ['load', '-i', archive]));
  t.is(JSON.parse(kiln(other, ['inspect', first.slice(7, 19)]).stdout)[0].Config.Env[0], 'V=1');
  // tag records a new version with source "tag".
  ok(t, kiln(root, ['tag', first.slice(7, 19), 'app:1']));
  t.is(JSON.parse(kiln(root, ['image', 'versions', 'app:1', '--format', 'json']).stdout).versions[0].source, 'tag');
});

test('rmi never removes a blob another image needs, and prune frees what nothing needs', async (t) => {
  const root = await freshRoot();
  ok(t, kiln(root, ['import', rootfs, 'one:1', '--change', 'CMD ["a"]']));
  ok(t, kiln(root, ['import', rootfs, 'two:1', '--change', 'CMD ["b"]']));
  const rmi = kiln(root, ['rmi', 'one:1']);
  ok(t, rmi);
  t.regex(rmi.stdout, /Untagged: one:1\nDeleted: sha256:/);
  t.is(kiln(root, ['fsck']).stdout, 'no problems found\n');
  const archive = join(work, 'two.tar');
  ok(t, kiln(root, ['save', '-o', archive, 'two:1']));
  ok(t, kiln(await freshRoot(), ['load', '-i', archive]));

  // An untagged import is dangling: prune removes it and its own blobs.
  ok(t, kiln(root, ['import', rootfs, '--change', 'CMD ["dangling"]']));
  const pruned = kiln(root, ['prune']);
  ok(t, pruned);
  t.regex(pruned.stdout, /Removed 1 image\(s\)/);
  t.is(JSON.parse(kiln(root, ['du', '--format', 'json']).stdout).reclaimableBlobs, 0);
  t.regex(images(root), /two\s+1/);
});

test('rmi of a tagged image by ID is refused without --force', async (t) => {
  const root = await freshRoot();
  const id = kiln(root, ['import', rootfs, 'keep:1']).stdout.trim();
  const r = kiln(root, ['rmi', id]);
  t.is(r.code, 1);
  t.regex(r.stderr, /referenced by docker\.io\/library\/keep:1/);
  ok(t, kiln(root, ['rmi', '-f', id]));
  t.is(kiln(root, ['inspect', 'keep:1']).code, 1);
});

test('prune --all drops earlier versions and the images only they kept', async (t) => {
  const root = await freshRoot();
  ok(t, kiln(root, ['import', rootfs, 'v:1', '--change', 'ENV X=1']));
  ok(t, kiln(root, ['import', rootfs, 'v:1', '--change', 'ENV X=2']));
  t.regex(kiln(root, ['prune']).stdout, /Removed 0 image/);
  const all = kiln(root, ['prune', '--all']);
  ok(t, all);
  t.regex(all.stdout, /Removed 1 image\(s\), 1 earlier version/);
  t.is(JSON.parse(kiln(root, ['image', 'versions', 'v:1', '--format', 'json']).stdout).versions.length, 1);
});

async function tarWith(entries: readonly [string, Buffer | string][]): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of entries) pack.entry({ name }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function storeState(root: string): Promise<string> {
  const listing = kiln(root, ['images', '--all-versions', '--format', 'json']).stdout;
  return JSON.stringify([listing, await readdir(join(root, 'images', 'tags')), await readdir(join(root, 'images', 'records'))]);
}

test('bad archives are refused with a clear error and leave records and tags unchanged', async (t) => {
  const root = await freshRoot();
  ok(t, kiln(root, ['import', rootfs, 'base:1']));
  const archive = join(work, 'good.tar');
  ok(t, kiln(root, ['save', '-o', archive, 'base:1']));
  const good = await readFile(archive);
  const target = await freshRoot();
  ok(t, kiln(target, ['import', rootfs, 'already:1', '--change', 'CMD ["x"]']));
  const before = await storeState(target);

  const truncated = join(work, 'truncated.tar');
  await writeFile(truncated, good.subarray(0, Math.floor(good.length / 2)));
  const r1 = kiln(target, ['load', '-i', truncated]);
  t.is(r1.code, 1);
  t.regex(r1.stderr, /truncated|digest mismatch/);

  // A blob whose bytes do not match its name.
  const entries: [string, Buffer | string][] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const e of extract) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      if (e.header.type === 'file') entries.push([e.header.name, Buffer.concat(chunks)]);
    }
  })();
  extract.end(good);
  await done;
  // Every blob changed in its last byte: the layer the target already holds is skipped
  // (content addressing needs none of its bytes), the others must be caught.
  const tampered = entries.map(([name, body]): [string, Buffer | string] => [
    name,
    name.startsWith('blobs/') && typeof body !== 'string' ? Buffer.concat([body.subarray(0, -1), Buffer.from('x')]) : body,
  ]);
  await writeFile(join(work, 'tampered.tar'), await tarWith(tampered));
  const r2 = kiln(target, ['load', '-i', join(work, 'tampered.tar')]);
  t.is(r2.code, 1);
  t.regex(r2.stderr, /blobs\/sha256\/[0-9a-f]{64}: .*digest mismatch/);

  const index = JSON.parse(String(entries.find(([n]) => n === 'index.json')?.[1]));
  const manifestDigest: string = index.manifests[0].digest;
  const manifest = JSON.parse(String(entries.find(([n]) => n === `blobs/sha256/${manifestDigest.slice(7)}`)?.[1]));

  // A manifest pointing at a blob (the config, which the target lacks) the archive lacks.
  const missing = entries.filter(([name]) => name !== `blobs/sha256/${manifest.config.digest.slice(7)}`);
  await writeFile(join(work, 'missing.tar'), await tarWith(missing));
  const r3 = kiln(target, ['load', '-i', join(work, 'missing.tar')]);
  t.is(r3.code, 1);
  t.regex(r3.stderr, new RegExp(`config: blob ${manifest.config.digest} is missing from the archive`));

  // An unknown layer media type.
  manifest.layers[0].mediaType = 'application/x-unknown';
  const bytes = Buffer.from(JSON.stringify(manifest));
  const hex = execFileSync('sha256sum', { input: bytes }).toString().slice(0, 64);
  index.manifests = [{ mediaType: manifest.mediaType, digest: `sha256:${hex}`, size: bytes.length }];
  const odd = [
    ...entries.filter(([n]) => n !== 'index.json' && n !== 'manifest.json'),
    [`blobs/sha256/${hex}`, bytes] as [string, Buffer],
    ['index.json', JSON.stringify(index)] as [string, string],
  ];
  await writeFile(join(work, 'odd.tar'), await tarWith(odd));
  const r4 = kiln(target, ['load', '-i', join(work, 'odd.tar')]);
  t.is(r4.code, 1);
  t.regex(r4.stderr, /layers\[0\]\.mediaType: "application\/x-unknown" is not a layer media type/);

  const r5 = kiln(target, ['load', '-i', join(work, 'does-not-exist.tar')]);
  t.is(r5.code, 1);
  t.regex(r5.stderr, /does-not-exist\.tar: no such file/);

  t.is(await storeState(target), before);
  t.is(JSON.parse(kiln(target, ['du', '--format', 'json']).stdout).reclaimableBlobs, 0, 'failed loads left no blob behind');
  t.is(kiln(target, ['fsck']).stdout, 'no problems found\n');
});

test('a truncated rootfs tar is refused by import, naming the source', async (t) => {
  const root = await freshRoot();
  const bytes = await readFile(rootfs);
  const cut = join(work, 'cut.tar');
  await writeFile(cut, bytes.subarray(0, 700_000));
  const r = kiln(root, ['import', cut, 'cut:1']);
  t.is(r.code, 1);
  t.regex(r.stderr, /cut\.tar/);
  t.is(kiln(root, ['images', '--format', 'json']).stdout, '');
});

test('a load killed midway leaves no partial blob visible, and the next run cleans up', async (t) => {
  const root = await freshRoot();
  const big = join(work, 'big.tar');
  await writeFile(join(work, 'blob.bin'), Buffer.alloc(64 << 20, 7));
  execFileSync('tar', ['-C', work, '-cf', join(work, 'bigroot.tar'), 'blob.bin']);
  const src = await freshRoot();
  ok(t, kiln(src, ['import', join(work, 'bigroot.tar'), 'big:1']));
  ok(t, kiln(src, ['save', '-o', big, 'big:1']));
  const child = startKiln(root, ['load', '-i', big]);
  // Kill it while it streams the large blob: poll for its ingest, then SIGKILL.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const ingests = existsSync(join(root, 'ingest')) ? await readdir(join(root, 'ingest')) : [];
    if (ingests.length > 0) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  process.kill(child.pid, 'SIGKILL');
  await child.result;
  const blobsBefore = existsSync(join(root, 'blobs', 'sha256')) ? await readdir(join(root, 'blobs', 'sha256')) : [];
  for (const b of blobsBefore) {
    const body = await readFile(join(root, 'blobs', 'sha256', b));
    t.is(execFileSync('sha256sum', { input: body }).toString().slice(0, 64), b, 'every visible blob is whole');
  }
  ok(t, kiln(root, ['images']));
  t.deepEqual(await readdir(join(root, 'ingest')), [], 'the next run removed the dead ingest');
  ok(t, kiln(root, ['load', '-i', big]));
  t.is(kiln(root, ['fsck']).code, 0);
});

test('concurrent imports, loads and prunes on one root lose nothing', async (t) => {
  const root = await freshRoot();
  const archive = join(work, 'conc.tar');
  const src = await freshRoot();
  ok(t, kiln(src, ['import', rootfs, 'shared:1', '--change', 'CMD ["conc"]']));
  ok(t, kiln(src, ['save', '-o', archive, 'shared:1']));
  const runs = await Promise.all([
    kilnAsync(root, ['import', rootfs, 'c:1', '--change', 'ENV N=1']),
    kilnAsync(root, ['import', rootfs, 'c:2', '--change', 'ENV N=2']),
    kilnAsync(root, ['load', '-i', archive]),
    kilnAsync(root, ['prune']),
    kilnAsync(root, ['import', rootfs, 'c:3', '--change', 'ENV N=3']),
    kilnAsync(root, ['prune', '--all']),
  ]);
  for (const r of runs) t.is(r.code, 0, r.stderr);
  for (const name of ['c:1', 'c:2', 'c:3', 'shared:1']) {
    const out = join(work, `conc-${name.replace(':', '-')}.tar`);
    ok(t, kiln(root, ['save', '-o', out, name]));
  }
  const fsck = kiln(root, ['fsck']);
  t.is(fsck.code, 0, fsck.stdout);
});

test('fsck deletes a corrupt blob, reports the image it breaks, and exits 1 until it is loaded again', async (t) => {
  const root = await freshRoot();
  ok(t, kiln(root, ['import', rootfs, 'fix:1']));
  const archive = join(work, 'fix.tar');
  ok(t, kiln(root, ['save', '-o', archive, 'fix:1']));
  const [info] = JSON.parse(kiln(root, ['inspect', 'fix:1']).stdout);
  const manifest = JSON.parse(await readFile(join(root, 'blobs', 'sha256', info.Descriptor.digest.slice(7)), 'utf8'));
  const layer = join(root, 'blobs', 'sha256', manifest.layers[0].digest.slice(7));
  execFileSync('chmod', ['u+w', layer]);
  await writeFile(layer, 'not the layer');
  await writeFile(join(root, 'images', 'records', '.half.json.1.tmp'), '{');
  const broken = kiln(root, ['fsck']);
  t.is(broken.code, 1);
  t.regex(broken.stdout, new RegExp(`blob ${manifest.layers[0].digest} does not match its digest: deleted`));
  t.regex(broken.stdout, /half-written record images\/records\/\.half\.json\.1\.tmp: removed/);
  t.regex(broken.stdout, new RegExp(`image ${info.Id} is missing 1 blob`));
  // Loading the image again restores the blob, and fsck is clean.
  ok(t, kiln(root, ['load', '-i', archive]));
  const fixed = kiln(root, ['fsck']);
  t.is(fixed.code, 0, fixed.stdout);
  t.is(fixed.stdout, 'no problems found\n');
});

test('load takes a compressed archive, as docker load does (docker save | xz)', async (t) => {
  const root = await freshRoot();
  ok(t, kiln(root, ['import', rootfs, 'packed:1']));
  const archive = join(work, 'packed.tar');
  ok(t, kiln(root, ['save', '-o', archive, 'packed:1']));
  for (const [tool, ext] of [
    ['xz', 'xz'],
    ['gzip', 'gz'],
    ['zstd', 'zst'],
    ['bzip2', 'bz2'],
  ] as const) {
    const packed = join(work, `packed.tar.${ext}`);
    await writeFile(packed, execFileSync(tool, ['-c', archive], { maxBuffer: 1 << 28 }));
    const other = await freshRoot();
    const r = kiln(other, ['load', '-i', packed]);
    ok(t, r);
    t.is(r.stdout, 'Loaded image: packed:1\n', tool);
  }
});

test('prune --filter until keeps what is newer, and du shows what prune would free', async (t) => {
  const root = await freshRoot();
  ok(t, kiln(root, ['import', rootfs, '--change', 'CMD ["old"]']));
  await new Promise((resolve) => setTimeout(resolve, 3000));
  ok(t, kiln(root, ['import', rootfs, '--change', 'CMD ["new"]']));
  const du = JSON.parse(kiln(root, ['du', '--format', 'json']).stdout);
  t.is(du.images, 2);
  t.is(du.reclaimableBlobs, 0, 'dangling images still hold their blobs until pruned');
  const kept = kiln(root, ['prune', '--filter', 'until=2s']);
  ok(t, kept);
  t.regex(kept.stdout, /Removed 1 image\(s\)/);
  t.is(JSON.parse(kiln(root, ['du', '--format', 'json']).stdout).images, 1);
  const bad = kiln(root, ['prune', '--filter', 'label=x']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--filter label=x: only until=/);
});
