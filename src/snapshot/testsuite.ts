import type { ExecutionContext, TestFn } from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { chmod, chown, link, lstat, mkdir, readdir, readFile, rename, rm, symlink as makeSymlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openContentStore, type ContentStore } from '../content/index.ts';
import { ConflictError, IntegrityError, NotFoundError, UsageError } from '../errors/index.ts';
import { lsetxattr, mknod, S_IFCHR, S_IFIFO } from '../native/index.ts';
import { formatOwner } from '../owner/index.ts';
import { chainIds } from './chain-id.ts';
import {
  buildLayer,
  dir,
  file,
  hardlink,
  listLayer,
  listTree,
  mountsUnder,
  opaque,
  symlink,
  whiteout,
  withMounted,
  type Listed,
} from './snapshot-fixture.ts';
import type { Mount, Snapshotter, UnpackLayer } from './snapshotter.ts';

/** What {@link snapshotterSuite} needs of an implementation. */
export interface SnapshotterFixture {
  /** Prefixes every test title. */
  readonly name: string;
  /** Opens the snapshotter over the kiln root `root`, with `content` for layers; called again on the same root to reopen. */
  open(root: string, content: ContentStore): Promise<Snapshotter>;
  /**
   * How the suite changes an active snapshot: `mount` mounts its mounts with mount(8) and
   * changes the files through them; `direct` changes the directory its bind mount names.
   */
  readonly edit: 'mount' | 'direct';
}

/** One test's world: a fresh root with a content store and the snapshotter under test. */
interface World {
  readonly root: string;
  readonly content: ContentStore;
  readonly snapshotter: Snapshotter;
  /** The base image, unpacked: its chain ID is `base`'s name. */
  readonly base: string;
  readonly baseLayer: UnpackLayer;
  /** Runs `change` on the tree of the active snapshot or view `mounts` show. */
  edit<T>(mounts: readonly Mount[], change: (tree: string) => Promise<T> | T): Promise<T>;
}

/** The base image every change is made on. */
const BASE: readonly Listed[] = [
  dir('bin'),
  file('bin/tool', 'tool', 0o4755),
  dir('data'),
  file('data/file', 'data'),
  dir('etc'),
  file('etc/hostname', 'base\n'),
  file('etc/motd', 'motd'),
  file('etc/passwd', 'root:x:0:0\n'),
  dir('home'),
  dir('home/user', 0o700, 1000, 1000),
  file('home/user/notes', 'notes', 0o600, 1000, 1000),
  dir('lib'),
  file('lib/libc.so', 'libc', 0o755),
  symlink('lib/libc.so.6', 'libc.so'),
  file('lib/twin-a', 'twin'),
  hardlink('lib/twin-b', 'lib/twin-a'),
  dir('tmp', 0o1777),
  dir('var'),
  dir('var/cache'),
  file('var/cache/a', 'a'),
  file('var/cache/b', 'b'),
  dir('var/cache/sub'),
  file('var/cache/sub/c', 'c'),
];

/** A change made through an active snapshot on the base, and the layer entries its diff must hold. */
interface ChangeCase {
  readonly title: string;
  change(tree: string): Promise<void>;
  readonly expected: readonly Listed[];
}

async function put(path: string, content: string, mode = 0o644, uid = 0, gid = 0): Promise<void> {
  await writeFile(path, content);
  await chown(path, uid, gid);
  await chmod(path, mode);
}

const CASES: readonly ChangeCase[] = [
  {
    title: 'an added file is written with its parent directory',
    change: (t) => put(join(t, 'etc/new.conf'), 'new'),
    expected: [dir('etc'), file('etc/new.conf', 'new')],
  },
  {
    title: "a file added in a private directory comes with the directory's owner and mode",
    change: (t) => put(join(t, 'home/user/todo'), 'todo', 0o600, 1000, 1000),
    expected: [dir('home'), dir('home/user', 0o700, 1000, 1000), file('home/user/todo', 'todo', 0o600, 1000, 1000)],
  },
  {
    title: 'a modified file is written whole',
    change: (t) => writeFile(join(t, 'etc/hostname'), 'changed\n'),
    expected: [dir('etc'), file('etc/hostname', 'changed\n')],
  },
  {
    title: 'a deleted file is a whiteout',
    change: (t) => rm(join(t, 'etc/motd')),
    expected: [dir('etc'), whiteout('etc/motd')],
  },
  {
    title: 'a deleted directory is one whiteout',
    change: (t) => rm(join(t, 'var/cache'), { recursive: true }),
    expected: [dir('var'), whiteout('var/cache')],
  },
  {
    title: 'emptying a directory whites out each child',
    change: async (t) => {
      for (const name of ['a', 'b', 'sub']) await rm(join(t, 'var/cache', name), { recursive: true });
    },
    expected: [dir('var'), dir('var/cache'), whiteout('var/cache/a'), whiteout('var/cache/b'), whiteout('var/cache/sub')],
  },
  {
    title: 'a renamed file is a whiteout and an addition',
    change: (t) => rename(join(t, 'etc/passwd'), join(t, 'etc/passwd.old')),
    expected: [dir('etc'), whiteout('etc/passwd'), file('etc/passwd.old', 'root:x:0:0\n')],
  },
  {
    title: 'a chmod alone writes the whole file',
    change: (t) => chmod(join(t, 'data/file'), 0o600),
    expected: [dir('data'), file('data/file', 'data', 0o600)],
  },
  {
    title: 'a chown alone writes the whole file',
    change: (t) => chown(join(t, 'data/file'), 1000, 1001),
    expected: [dir('data'), file('data/file', 'data', 0o644, 1000, 1001)],
  },
  {
    title: 'a directory deleted and made again is opaque',
    change: async (t) => {
      await rm(join(t, 'var/cache'), { recursive: true });
      await mkdir(join(t, 'var/cache'));
      await chmod(join(t, 'var/cache'), 0o755);
      await put(join(t, 'var/cache/fresh'), 'fresh');
    },
    expected: [dir('var'), dir('var/cache'), opaque('var/cache'), file('var/cache/fresh', 'fresh')],
  },
  {
    title: 'two names of one new file are a file and a hard link',
    change: async (t) => {
      await put(join(t, 'data/h1'), 'h');
      await link(join(t, 'data/h1'), join(t, 'data/h2'));
    },
    expected: [dir('data'), file('data/h1', 'h'), hardlink('data/h2', 'data/h1')],
  },
  {
    title: 'a new name for a lower file writes both names, the first in full',
    change: (t) => link(join(t, 'lib/libc.so'), join(t, 'lib/libc-link')),
    expected: [dir('lib'), file('lib/libc-link', 'libc', 0o755), hardlink('lib/libc.so', 'lib/libc-link', 0o755)],
  },
  {
    title: 'symlinks are written with their targets as written',
    change: async (t) => {
      await makeSymlink('../etc/hostname', join(t, 'data/host'));
      await rm(join(t, 'lib/libc.so.6'));
      await makeSymlink('libc.so.7', join(t, 'lib/libc.so.6'));
    },
    expected: [dir('data'), symlink('data/host', '../etc/hostname'), dir('lib'), symlink('lib/libc.so.6', 'libc.so.7')],
  },
  {
    // overlayfs marks the new directory opaque; over a file that hides nothing, so it is left out.
    title: 'a file replaced by a directory is the directory',
    change: async (t) => {
      await rm(join(t, 'data/file'));
      await mkdir(join(t, 'data/file'));
      await chmod(join(t, 'data/file'), 0o755);
      await put(join(t, 'data/file/inner'), 'inner');
    },
    expected: [dir('data'), dir('data/file'), file('data/file/inner', 'inner')],
  },
  {
    title: 'a directory replaced by a file is the file',
    change: async (t) => {
      await rm(join(t, 'var/cache'), { recursive: true });
      await put(join(t, 'var/cache'), 'now a file');
    },
    expected: [dir('var'), file('var/cache', 'now a file')],
  },
  {
    title: 'a file replaced by a symlink is the symlink',
    change: async (t) => {
      await rm(join(t, 'etc/motd'));
      await makeSymlink('hostname', join(t, 'etc/motd'));
    },
    expected: [dir('etc'), symlink('etc/motd', 'hostname')],
  },
  {
    title: 'setuid, setgid and sticky bits are kept',
    change: async (t) => {
      await chmod(join(t, 'bin/tool'), 0o6711);
      await put(join(t, 'tmp/scratch'), 's');
    },
    expected: [dir('bin'), file('bin/tool', 'tool', 0o6711), dir('tmp', 0o1777), file('tmp/scratch', 's')],
  },
  {
    title: 'FIFOs and devices are written as such',
    change: async (t) => {
      for (const d of ['dev', 'run']) {
        await mkdir(join(t, d));
        await chmod(join(t, d), 0o755);
      }
      mknod(join(t, 'run/fifo'), S_IFIFO | 0o600);
      await chmod(join(t, 'run/fifo'), 0o600);
      mknod(join(t, 'dev/null'), S_IFCHR | 0o666, 1, 3);
      await chmod(join(t, 'dev/null'), 0o666);
    },
    expected: [
      dir('dev'),
      { path: 'dev/null', type: 'char', mode: 0o666, uid: 0, gid: 0, devmajor: 1, devminor: 3 },
      dir('run'),
      { path: 'run/fifo', type: 'fifo', mode: 0o600, uid: 0, gid: 0 },
    ],
  },
  {
    title: 'nothing changed is an empty layer',
    change: async () => undefined,
    expected: [],
  },
  // Extended attributes last: they depend on the native addon (src/native).
  {
    title: 'extended attributes are written, and a change to one alone writes the file',
    change: async (t) => {
      lsetxattr(join(t, 'etc/hostname'), 'user.kiln', Buffer.from('v'));
      await put(join(t, 'etc/tagged'), 'tagged');
      lsetxattr(join(t, 'etc/tagged'), 'user.a', Buffer.from('1'));
    },
    expected: [dir('etc'), file('etc/hostname', 'base\n', 0o644, 0, 0, { 'user.kiln': 'v' }), file('etc/tagged', 'tagged', 0o644, 0, 0, { 'user.a': '1' })],
  },
];

/**
 * The conformance suite every snapshotter runs (containerd's core/snapshots/testsuite): the
 * lifecycle (kinds, names, parents, removal, reopening), unpack by ChainID, and for each kind
 * of change made through an active snapshot exactly the layer entries its diff must hold,
 * read back with readLayerTar; determinism; and a diff unpacked again showing the same tree.
 * Each test works in its own root under one directory of the suite; after the last, no mount
 * may be left under it.
 */
export function snapshotterSuite(test: TestFn, fixture: SnapshotterFixture): void {
  // Short: an overlay mount lists every layer's path in one page.
  const base = mkdtempSync(join(tmpdir(), 'ks-'));
  let roots = 0;

  async function world(t: ExecutionContext): Promise<World> {
    const root = join(base, `r${roots++}`);
    await mkdir(root);
    t.teardown(() => rm(root, { recursive: true, force: true }));
    const content = await openContentStore(root);
    const snapshotter = await fixture.open(root, content);
    const baseLayer = await buildLayer(content, BASE);
    const { chainId } = await snapshotter.unpack([baseLayer]);
    const edit = <T>(mounts: readonly Mount[], change: (tree: string) => Promise<T> | T): Promise<T> => {
      if (fixture.edit === 'mount') return withMounted(base, mounts, change);
      const mount = mounts[0];
      if (mounts.length !== 1 || mount?.type !== 'bind') throw new Error(`direct edits need one bind mount, got ${JSON.stringify(mounts)}`);
      return Promise.resolve(change(mount.source));
    };
    return { root, content, snapshotter, base: chainId!, baseLayer, edit };
  }

  const title = (text: string): string => `${fixture.name}: ${text}`;

  for (const { title: caseTitle, change, expected } of CASES) {
    test(title(caseTitle), async (t) => {
      const w = await world(t);
      await w.edit(await w.snapshotter.prepare('work', w.base), change);
      const layer = await w.snapshotter.diff(w.base, 'work');
      t.deepEqual(await listLayer(w.content, layer), expected);
    });
  }

  test(title('the same changes give the same layer, before and after commit'), async (t) => {
    const w = await world(t);
    await w.edit(await w.snapshotter.prepare('work', w.base), async (tree) => {
      await put(join(tree, 'etc/new'), 'new');
      await rm(join(tree, 'var/cache'), { recursive: true });
      await link(join(tree, 'lib/libc.so'), join(tree, 'lib/other'));
    });
    const first = await w.snapshotter.diff(w.base, 'work');
    const second = await w.snapshotter.diff(w.base, 'work');
    await w.snapshotter.commit('done', 'work');
    const third = await w.snapshotter.diff(w.base, 'done');
    t.is(second.descriptor.digest, first.descriptor.digest);
    t.is(third.descriptor.digest, first.descriptor.digest);
    t.is(third.diffId, first.diffId);
    t.true(first.size > 0);
    const uncompressed = await w.snapshotter.diff(w.base, 'done', { compression: 'uncompressed' });
    t.is(uncompressed.diffId, first.diffId);
    t.is(uncompressed.size, first.size);
  });

  test(title('a diff unpacked on the same parent shows the same tree'), async (t) => {
    const w = await world(t);
    await w.edit(await w.snapshotter.prepare('work', w.base), async (tree) => {
      for (const { change } of CASES.filter((c) => /added|modified|renamed|opaque|hard link|symlinks|chown|FIFOs|extended/.test(c.title))) {
        await change(tree);
      }
    });
    const layer = await w.snapshotter.diff(w.base, 'work');
    await w.snapshotter.commit('built', 'work');
    const unpacked = await w.snapshotter.unpack([w.baseLayer, { descriptor: layer.descriptor, diffId: layer.diffId }]);
    t.is(unpacked.applied, 1);
    const built = await w.edit(await w.snapshotter.view('v1', 'built'), (tree) => listTree(tree));
    const again = await w.edit(await w.snapshotter.view('v2', unpacked.chainId), (tree) => listTree(tree));
    t.deepEqual(again, built);
  });

  test(title('prepare, commit and stat follow a snapshot through its kinds'), async (t) => {
    const { snapshotter: s, base: b } = await world(t);
    t.deepEqual(await s.prepare('a'), await s.mounts('a'));
    t.like(await s.stat('a'), { kind: 'active', name: 'a', parent: undefined });
    await s.commit('A', 'a');
    await t.throwsAsync(s.stat('a'), { instanceOf: NotFoundError });
    t.like(await s.stat('A'), { kind: 'committed', name: 'A', parent: undefined });
    await s.prepare('b', b);
    t.like(await s.stat('b'), { kind: 'active', parent: b });
    await s.view('v', 'A');
    t.like(await s.stat('v'), { kind: 'view', parent: 'A' });
    t.deepEqual((await s.list()).map((i) => `${i.kind} ${i.name}`).sort(), ['active b', `committed ${b}`, 'committed A', 'view v'].sort());
    await t.throwsAsync(s.mounts('A'), { instanceOf: ConflictError });
  });

  test(title('keys and names share one space'), async (t) => {
    const { snapshotter: s, base: b } = await world(t);
    await s.prepare('x', b);
    await t.throwsAsync(s.prepare('x', b), { instanceOf: ConflictError });
    await t.throwsAsync(s.view(b), { instanceOf: ConflictError });
    await t.throwsAsync(s.commit(b, 'x'), { instanceOf: ConflictError });
    t.is((await s.stat('x')).kind, 'active');
  });

  test(title('only a committed snapshot can be a parent, and only an active one committed'), async (t) => {
    const { snapshotter: s, base: b } = await world(t);
    await s.prepare('active', b);
    await s.view('view', b);
    await t.throwsAsync(s.prepare('child', 'active'), { instanceOf: ConflictError });
    await t.throwsAsync(s.prepare('child', 'view'), { instanceOf: ConflictError });
    await t.throwsAsync(s.prepare('child', 'missing'), { instanceOf: NotFoundError });
    await t.throwsAsync(s.commit('named', 'view'), { instanceOf: ConflictError });
    await t.throwsAsync(s.commit('named', b), { instanceOf: ConflictError });
    await t.throwsAsync(s.diff(undefined, 'active'), { instanceOf: UsageError });
  });

  test(title('a parent is removed only after its children'), async (t) => {
    const { snapshotter: s, base: b } = await world(t);
    await s.prepare('child', b);
    await t.throwsAsync(s.remove(b), { instanceOf: ConflictError });
    await s.remove('child');
    await s.remove(b);
    await t.throwsAsync(s.stat(b), { instanceOf: NotFoundError });
    await t.throwsAsync(s.remove(b), { instanceOf: NotFoundError });
    t.deepEqual(await s.list(), []);
  });

  test(title('an active snapshot mounts writable, a view read-only'), async (t) => {
    const w = await world(t);
    const active = await w.snapshotter.prepare('a', w.base);
    const view = await w.snapshotter.view('v', w.base);
    const writable = (mounts: readonly Mount[]): boolean =>
      mounts.every((m) => (m.type === 'bind' ? m.options.includes('rw') : m.options.some((o) => o.startsWith('upperdir='))));
    t.true(writable(active));
    t.false(view.some((m) => m.options.includes('rw') || m.options.some((o) => o.startsWith('upperdir='))));
    t.is(await w.edit(view, (tree) => readFile(join(tree, 'etc/hostname'), 'utf8')), 'base\n');
    if (fixture.edit === 'mount') {
      const error = await w.edit(view, (tree) => writeFile(join(tree, 'etc/x'), 'x').then(() => undefined, (e: NodeJS.ErrnoException) => e.code));
      t.is(error, 'EROFS');
    }
  });

  test(title('unpack applies each layer of a shared stack once'), async (t) => {
    const w = await world(t);
    const s = w.snapshotter;
    const second = await buildLayer(w.content, [dir('etc'), file('etc/second', '2')]);
    const third = await buildLayer(w.content, [dir('etc'), whiteout('etc/motd'), file('etc/third', '3')]);
    const other = await buildLayer(w.content, [file('other', 'o')]);
    const stack = [w.baseLayer, second, third];
    t.like(await s.unpack(stack.slice(0, 2)), { applied: 1 });
    const full = await s.unpack(stack);
    t.is(full.applied, 1);
    t.deepEqual(full.chainIds, chainIds(stack.map((l) => l.diffId)));
    t.is(full.chainId, full.chainIds[2]);
    t.like(await s.unpack(stack), { applied: 0 });
    t.like(await s.unpack([w.baseLayer, second, other]), { applied: 1 });
    t.like(await s.stat(full.chainId!), { kind: 'committed', parent: full.chainIds[1] });
    t.deepEqual(await s.unpack([]), { chainId: undefined, chainIds: [], applied: 0 });
    const tree = await w.edit(await s.view('v', full.chainId), (root) => listTree(root, { skipDirTimes: true }).map((e) => e.path));
    t.true(tree.includes('etc/second') && tree.includes('etc/third'));
    t.false(tree.includes('etc/motd'));
  });

  test(title('unpack keeps nothing of a layer whose DiffID differs'), async (t) => {
    const w = await world(t);
    const second = await buildLayer(w.content, [file('second', '2')]);
    const before = await w.snapshotter.list();
    await t.throwsAsync(w.snapshotter.unpack([w.baseLayer, { descriptor: second.descriptor, diffId: w.baseLayer.diffId }]), {
      instanceOf: IntegrityError,
    });
    t.deepEqual(await w.snapshotter.list(), before);
  });

  test(title('reopening removes the snapshots of dead processes and keeps committed ones'), async (t) => {
    const w = await world(t);
    await w.snapshotter.prepare('orphan', w.base);
    await w.snapshotter.prepare('live', w.base);
    // A process that has exited: its PID with a start time it never had.
    const dead = formatOwner({ pid: 2 ** 22 + 1, start: 1 });
    const snapshots = join(w.root, 'snapshots');
    for (const id of await readdir(snapshots)) {
      const info = await readFile(join(snapshots, id, 'info.json'), 'utf8').catch(() => '');
      if (info.includes('"orphan"')) await writeFile(join(snapshots, id, 'owner'), dead);
    }
    await mkdir(join(snapshots, 'tmp', 'left-over'));
    await writeFile(join(snapshots, 'tmp', 'left-over', 'owner'), dead);
    // As a process that dies with the store open leaves its registration.
    await mkdir(join(snapshots, 'users', 'dead-user'));
    await writeFile(join(snapshots, 'users', 'dead-user', 'owner'), dead);
    const reopened = await fixture.open(w.root, w.content);
    await t.throwsAsync(reopened.stat('orphan'), { instanceOf: NotFoundError });
    t.is((await reopened.stat('live')).kind, 'active');
    t.is((await reopened.stat(w.base)).kind, 'committed');
    t.deepEqual(await readdir(join(snapshots, 'tmp')), []);
    await t.throwsAsync(lstat(join(snapshots, 'tmp', 'left-over')));
    t.false((await readdir(join(snapshots, 'users'))).includes('dead-user'));
  });

  test.after.always(title('no mount is left behind'), (t) => {
    const left = mountsUnder(base);
    for (const point of left.reverse()) execFileSync('umount', ['-l', point]);
    rmSync(base, { recursive: true, force: true });
    t.deepEqual(left, []);
  });
}
