import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openContentStore, type ContentStore } from '../content/index.ts';
import { openCopySnapshotter } from './copy-snapshotter.ts';
import { openOverlaySnapshotter, overlaySupported } from './overlay-snapshotter.ts';
import { buildLayer, dir, file, hardlink, listLayer, listTree, mountsUnder, opaque, symlink, whiteout, withMounted, type Listed } from './snapshot-fixture.ts';
import type { Mount, UnpackLayer } from './snapshotter.ts';
import { snapshotterSuite } from './testsuite.ts';

if (!overlaySupported()) {
  test('overlayfs is available', (t) => {
    t.fail('this kernel has no overlayfs (no /sys/module/overlay, no overlay in /proc/filesystems): the overlay snapshotter cannot be tested');
  });
} else {
  snapshotterSuite(test, { name: 'overlay', edit: 'mount', open: (root, content) => openOverlaySnapshotter({ root, content }) });
  overlayTests();
}

function overlayTests(): void {
  const base = mkdtempSync(join(tmpdir(), 'ko-'));
  let roots = 0;

  async function fresh(t: ExecutionContext): Promise<{ root: string; content: ContentStore }> {
    const root = join(base, `r${roots++}`);
    await mkdir(root);
    t.teardown(() => rm(root, { recursive: true, force: true }));
    return { root, content: await openContentStore(root) };
  }

  /** Layer i of a deep image: adds l/<i> and l/tmp-<i>, deletes l/tmp-<i−1>, rewrites top. */
  function deepLayer(i: number): Listed[] {
    return [dir('l'), file(`l/${i}`, String(i)), file(`l/tmp-${i}`, 't'), ...(i > 1 ? [whiteout(`l/tmp-${i - 1}`)] : []), file('top', String(i))];
  }

  async function deepLayers(content: ContentStore, count: number): Promise<UnpackLayer[]> {
    const layers: UnpackLayer[] = [];
    for (let i = 1; i <= count; i++) layers.push(await buildLayer(content, deepLayer(i)));
    return layers;
  }

  function lowerdirs(mounts: readonly Mount[]): string[] {
    const option = mounts[0]?.options.find((o) => o.startsWith('lowerdir='));
    return option === undefined ? [] : option.slice('lowerdir='.length).split(':');
  }

  async function flats(root: string): Promise<string[]> {
    const snapshots = join(root, 'snapshots');
    return (await readdir(snapshots)).filter((id) => existsSync(join(snapshots, id, 'flat')));
  }

  /** What the copy snapshotter, whose applier is src/image/apply's on a plain tree, makes of `layers`. */
  async function reference(t: ExecutionContext, layers: readonly UnpackLayer[], source: ContentStore, skipDirTimes = false): Promise<ReturnType<typeof listTree>> {
    const { root, content } = await fresh(t);
    for (const layer of layers) await content.ingest(source.open(layer.descriptor.digest));
    const copy = await openCopySnapshotter({ root, content });
    const { chainId } = await copy.unpack(layers);
    const [mount] = await copy.view('reference', chainId);
    return listTree(mount!.source, { skipDirTimes });
  }

  test('an active snapshot stacks its parents as lower directories, nearest first', async (t) => {
    const { root, content } = await fresh(t);
    const s = await openOverlaySnapshotter({ root, content });
    const layers = [await buildLayer(content, [file('one', '1')]), await buildLayer(content, [file('two', '2')]), await buildLayer(content, [file('three', '3')])];
    const { chainId } = await s.unpack(layers);
    const [mount] = await s.prepare('work', chainId);
    t.is(mount?.type, 'overlay');
    t.is(mount?.source, 'overlay');
    const lowers = lowerdirs([mount!]);
    t.deepEqual(await Promise.all(lowers.map((d) => readdir(d))), [['three'], ['two'], ['one']]);
    t.true(mount!.options.some((o) => o.startsWith('upperdir=') && o.endsWith('/fs')));
    t.true(mount!.options.some((o) => o.startsWith('workdir=') && o.endsWith('/work')));
    if (existsSync('/sys/module/overlay/parameters/index')) t.true(mount!.options.includes('index=off'));
    t.deepEqual(await s.view('one-layer', (await s.unpack(layers.slice(0, 1))).chainId), [{ type: 'bind', source: lowers[2]!, options: ['rbind', 'ro'] }]);
    t.deepEqual(await s.prepare('empty'), [{ type: 'bind', source: join(root, 'snapshots', (await readdir(join(root, 'snapshots'))).filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(b) - Number(a))[0]!, 'fs'), options: ['rbind', 'rw'] }]);
    await s.commit('c', 'work');
    // Its work directory (empty directories) goes with the snapshot.
    const workdir = mount!.options.find((o) => o.startsWith('workdir='))!.slice('workdir='.length);
    t.true(existsSync(workdir));
    await s.remove('c');
    t.false(existsSync(workdir));
  });

  test('an active snapshot mounts volatile (no sync at unmount) and can be mounted again after', async (t) => {
    const [major = 0, minor = 0] = release().split('.').map((part) => Number.parseInt(part, 10));
    if (major < 5 || (major === 5 && minor < 10)) {
      t.fail(`Linux ${release()} has no overlayfs volatile option (5.10): this test needs a newer kernel`);
      return;
    }
    const { root, content } = await fresh(t);
    const s = await openOverlaySnapshotter({ root, content });
    const { chainId } = await s.unpack([await buildLayer(content, [file('base', 'b')])]);
    const mounts = await s.prepare('twice', chainId);
    t.true(mounts[0]!.options.includes('volatile'));
    await withMounted(base, mounts, (tree) => writeFile(join(tree, 'first'), '1'));
    // The volatile mount left work/work/incompat/volatile, which would fail this mount.
    await withMounted(base, await s.mounts('twice'), (tree) => writeFile(join(tree, 'second'), '2'));
    const diff = await s.diff(chainId, 'twice');
    t.deepEqual((await listLayer(content, diff)).map((entry) => entry.path), ['first', 'second']);
  });

  test('a 120-layer image mounts in one page, its bottom flattened once and shared', async (t) => {
    const { root, content } = await fresh(t);
    const s = await openOverlaySnapshotter({ root, content });
    const layers = await deepLayers(content, 120);
    const { chainId, applied } = await s.unpack(layers);
    t.is(applied, 120);
    const mounts = await s.prepare('deep', chainId);
    const options = mounts[0]!.options.join(',');
    t.true(options.length <= 4095 - 128, `${options.length} bytes of options`);
    const lowers = lowerdirs(mounts);
    t.true(lowers.length < 120, `${lowers.length} lower directories`);
    t.true(lowers[lowers.length - 1]!.endsWith('/flat'));
    t.log(`${lowers.length} lower directories, ${options.length} bytes of options (unflattened ${120 * (lowers[0]!.length + 1)})`);

    const merged = await withMounted(base, mounts, async (tree) => {
      const listing = listTree(tree);
      await writeFile(join(tree, 'new'), 'x');
      return listing;
    });
    const paths = merged.map((e) => e.path);
    for (let i = 1; i <= 120; i++) t.true(paths.includes(`l/${i}`), `l/${i}`);
    t.deepEqual(paths.filter((p) => p.startsWith('l/tmp-')), ['l/tmp-120']);
    t.is(merged.find((e) => e.path === 'top')?.content, '120');
    t.deepEqual(merged, await reference(t, layers, content));
    t.deepEqual(await listLayer(content, await s.diff(chainId, 'deep')), [file('new', 'x')]);

    const [flat] = await flats(root);
    const before = await stat(join(root, 'snapshots', flat!, 'flat'));
    t.deepEqual(lowerdirs(await s.prepare('deep-2', chainId)), lowers);
    t.deepEqual(lowerdirs(await s.view('deep-view', chainId)), lowers);
    t.deepEqual(await flats(root), [flat]);
    t.is((await stat(join(root, 'snapshots', flat!, 'flat'))).ino, before.ino);
  });

  test('a stack that fits is not flattened', async (t) => {
    const { root, content } = await fresh(t);
    const s = await openOverlaySnapshotter({ root, content });
    const { chainId } = await s.unpack(await deepLayers(content, 8));
    t.is(lowerdirs(await s.prepare('work', chainId)).length, 8);
    t.deepEqual(await flats(root), []);
  });

  test('flattening to a small budget shows the same tree, and builds on a flattened ancestor', async (t) => {
    const { root, content } = await fresh(t);
    const s = await openOverlaySnapshotter({ root, content, optionsBudget: 700 });
    const layers = await deepLayers(content, 36);
    // One page of 700 bytes holds 17 of these paths: blocks of 16 layers are flattened.
    const twenty = (await s.unpack(layers.slice(0, 20))).chainId;
    const mounts = await s.view('v20', twenty);
    t.true(mounts[0]!.options.join(',').length <= 700);
    t.is(lowerdirs(mounts).length, 5);
    t.deepEqual(await withMounted(base, mounts, (tree) => listTree(tree)), await reference(t, layers.slice(0, 20), content));
    t.is((await flats(root)).length, 1);
    // Depth 36: the ancestor at depth 32 is flattened, starting from the copy at depth 16.
    const { chainId } = await s.unpack(layers);
    const deeper = await s.view('v36', chainId);
    t.is(lowerdirs(deeper).length, 5);
    t.deepEqual(await withMounted(base, deeper, (tree) => listTree(tree)), await reference(t, layers, content));
    t.is((await flats(root)).length, 2);
  });

  test('an unpacked layer shows through overlayfs what the plain applier makes of it', async (t) => {
    const { root, content } = await fresh(t);
    const layers = [
      await buildLayer(content, [
        dir('opt', 0o700, 1000, 1000),
        dir('opt/app', 0o750, 1000, 1000),
        file('opt/app/run', 'run', 0o755, 1000, 1000),
        dir('usr'),
        dir('usr/lib'),
        file('usr/lib/x', 'x'),
        symlink('lib', 'usr/lib'),
        dir('gone'),
        file('gone/a', 'a'),
        dir('keep'),
        file('keep/old', 'old'),
        dir('keep/deep'),
        file('keep/deep/older', 'older'),
        file('file-to-dir', 'f'),
        dir('dir-to-file'),
        file('dir-to-file/child', 'c'),
        file('twin-a', 'twin'),
        hardlink('twin-b', 'twin-a'),
      ]),
      await buildLayer(content, [
        file('lib/y', 'y'),
        file('opt/app/new', 'new', 0o644, 1000, 1000),
        whiteout('gone'),
        dir('keep'),
        opaque('keep'),
        file('keep/fresh', 'fresh'),
        dir('links'),
        hardlink('links/x-again', 'lib/x'),
        dir('file-to-dir'),
        file('file-to-dir/child', 'child'),
        file('dir-to-file', 'now a file'),
        whiteout('nothing'),
        whiteout('gone-later'),
        dir('gone-later'),
        file('gone-later/kept', 'kept'),
      ]),
      await buildLayer(content, [whiteout('opt/app/new'), whiteout('usr/lib/x'), dir('keep'), file('keep/deep', 'not a dir any more')]),
    ];
    const s = await openOverlaySnapshotter({ root, content });
    for (let n = 1; n <= layers.length; n++) {
      const { chainId } = await s.unpack(layers.slice(0, n));
      const tree = await withMounted(base, await s.view(`v${n}`, chainId), (mounted) => listTree(mounted, { skipDirTimes: true }));
      t.deepEqual(tree, await reference(t, layers.slice(0, n), content, true), `after ${n} layers`);
      if (n !== 2) continue;
      const at = (path: string) => tree.find((e) => e.path === path);
      t.like(at('lib'), { type: 'symlink', linkname: 'usr/lib' });
      t.like(at('usr/lib/y'), { type: 'file', content: 'y' });
      t.like(at('opt'), { type: 'dir', mode: 0o700, uid: 1000 });
      t.like(at('opt/app'), { type: 'dir', mode: 0o750, uid: 1000 });
      t.deepEqual(tree.filter((e) => e.path.startsWith('keep/')).map((e) => e.path), ['keep/fresh']);
      t.is(at('gone'), undefined);
      t.like(at('usr/lib/x'), { type: 'hardlink', linkname: 'links/x-again' });
      t.like(at('file-to-dir'), { type: 'dir' });
      t.like(at('dir-to-file'), { type: 'file', content: 'now a file' });
      t.deepEqual(tree.filter((e) => e.path.startsWith('gone-later')).map((e) => e.path), ['gone-later', 'gone-later/kept']);
    }
  });

  test.after.always('no overlay test leaves a mount behind', (t) => {
    const left = mountsUnder(base);
    for (const point of left.reverse()) execFileSync('umount', ['-l', point]);
    rmSync(base, { recursive: true, force: true });
    t.deepEqual(left, []);
  });
}

