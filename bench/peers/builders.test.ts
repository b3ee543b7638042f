import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { busyboxRoot, removeRoot } from '../../src/sandbox/sandbox-test-kit.ts';
import { createBuildahBuilder, findBuildah } from './buildah.ts';
import type { Builder, LayerCompression } from './builder.ts';
import { createBuildKitBuilder, findBuildKit } from './buildkit.ts';
import { PrivateDockerd } from './dockerd.ts';
import { createKilnBuilder } from './kiln-builder.ts';
import { snapshotKilnPackage } from './kiln-package.ts';
import { mountsUnder } from './unmount-under.ts';

/*
 * The Builder contract, on kiln and on each peer installed here: the same small context
 * builds cold and again, the image saves to a tar, `true` starts in a container, and close
 * leaves no process and no mount behind. Peers are optional (bench/ only): a missing one is a
 * skipped test, never a pass.
 */

const work = await mkdtemp(join(tmpdir(), 'kiln-bench-builders-'));
const rootfs = await busyboxRoot();
const baseTar = join(work, 'busybox.tar');
execFileSync('tar', ['-C', rootfs, '-cf', baseTar, '.']);
const cli = await snapshotKilnPackage(join(work, 'kiln-package'));
const kiln = await createKilnBuilder({ cli, dir: join(work, 'kiln'), baseTar, baseRoot: rootfs });
await kiln.fresh();
const baseImage = join(work, 'busybox-image.tar');
await kiln.saveImage('busybox:latest', baseImage, 'gzip', '');
const context = join(work, 'context');
await mkdir(context);
await writeFile(join(context, 'Dockerfile'), 'FROM busybox\nCOPY hello /hello\nRUN cat /hello > /copy\n');
await writeFile(join(context, 'hello'), 'hello\n');

// Every await before the first declaration: ava takes tests declared synchronously only.
const buildKit = await findBuildKit();
const buildah = await findBuildah();

test.after.always(async () => {
  await removeRoot(rootfs);
  await rm(work, { recursive: true, force: true });
});

/**
 * What the layers of a saved image tar are: every blob or layer.tar that is not JSON, by its
 * first bytes (gzip's magic 1f 8b; a tar's "ustar" at offset 257), without repeats.
 */
async function layerKinds(saved: string, into: string): Promise<string[]> {
  await mkdir(into);
  execFileSync('tar', ['-xf', saved, '-C', into]);
  const kinds = new Set<string>();
  for (const entry of await readdir(into, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const inBlobs = entry.parentPath.includes('/blobs/sha256');
    if (!inBlobs && entry.name !== 'layer.tar') continue;
    const file = await open(join(entry.parentPath, entry.name));
    const head = Buffer.alloc(512);
    const { bytesRead } = await file.read(head, 0, 512, 0);
    await file.close();
    if (head[0] === 0x7b) continue; // '{': a manifest, index or config
    if (head[0] === 0x1f && head[1] === 0x8b) kinds.add('gzip');
    else if (bytesRead >= 262 && head.subarray(257, 262).toString() === 'ustar') kinds.add('uncompressed');
    else kinds.add(`unknown (${head.subarray(0, 8).toString('hex')})`);
  }
  return [...kinds];
}

async function contract(t: import('ava').ExecutionContext, builder: Builder, dir: string): Promise<void> {
  try {
    await builder.fresh();
    const cold = await builder.build(context, 'bench/contract');
    const again = await builder.build(context, 'bench/contract');
    t.true(cold.ms > 0 && again.ms > 0);
    const compressions = Object.keys(builder.saves) as LayerCompression[];
    t.true(compressions.length > 0);
    for (const compression of compressions) {
      const saved = join(dir, `saved-${compression}.tar`);
      await builder.saveImage('bench/contract', saved, compression, context);
      t.deepEqual(await layerKinds(saved, join(dir, `unpacked-${compression}`)), [compression], `${builder.name} ${compression}`);
    }
    t.true((await builder.startTrue()) > 0);
  } finally {
    await builder.close();
  }
  t.deepEqual(await mountsUnder(dir), []);
}

test('kiln builds, rebuilds, saves and starts true through the Builder contract', async (t) => {
  await contract(t, kiln, join(work, 'kiln'));
});

// These run by path only, when the peers are wanted: a missing peer fails, saying what is missing.
test('BuildKit builds, rebuilds, saves and starts true, and close stops its dockerd', async (t) => {
  if ('missing' in buildKit) return void t.fail(`BuildKit is not usable here: ${buildKit.missing}`);
  const dir = join(work, 'buildkit');
  const builder = await createBuildKitBuilder({ dir, baseImage, ...buildKit });
  await contract(t, builder, dir);
  t.regex(builder.description, /storage driver \w+/);
  // Every daemon fresh() started is gone, and so is its containerd.
  const daemons = execFileSync('sh', ['-c', `ps -eo args | grep -F -- "${dir}/" | grep -v grep || true`], { encoding: 'utf8' });
  t.is(daemons.trim(), '');
});

test('Buildah builds, rebuilds, saves and starts true', async (t) => {
  if ('missing' in buildah) return void t.fail(`Buildah is not usable here: ${buildah.missing}`);
  const dir = join(work, 'buildah');
  const builder = await createBuildahBuilder({ dir, baseImage, buildah: buildah.buildah });
  await contract(t, builder, dir);
  t.regex(builder.description, /isolation (oci|chroot)/);
});

test('a private dockerd answers on its own socket and stop() ends it by PID', async (t) => {
  if ('missing' in buildKit) return void t.fail(`dockerd is not usable here: ${buildKit.missing}`);
  const dir = join(work, 'dockerd');
  const daemon = await PrivateDockerd.start({ dir, dockerd: buildKit.dockerd });
  const pid = daemon.pid;
  t.true(pid > 0);
  t.is(daemon.socket, join(dir, 'docker.sock'));
  t.notThrows(() => process.kill(pid, 0));
  t.true((daemon.peakRssKiB() ?? 0) > 0);
  await daemon.stop();
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  t.is(daemon.peakRssKiB(), undefined);
  t.deepEqual(await mountsUnder(dir), []);
  await daemon.stop(); // idempotent
});
