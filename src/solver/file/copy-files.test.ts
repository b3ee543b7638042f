import test from 'ava';
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { chmod, lchown, mkdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContextFilter } from '../../cache/index.ts';
import { ConflictError, NotFoundError, UsageError } from '../../errors/index.ts';
import { lgetxattr, lsetxattr } from '../../native/index.ts';
import { copyFiles, type CopyRequest } from './copy-files.ts';
import { listTree, type Workspace, workspace, writeTree } from './copy-fixture.ts';

/** A COPY from the workspace's context into its root, with COPY's defaults. */
function copy(ws: Workspace, request: Partial<CopyRequest> & Pick<CopyRequest, 'sources' | 'dest'>): Promise<void> {
  return copyFiles({
    source: { kind: 'context', dir: ws.context },
    destRoot: ws.root,
    excludes: [],
    parents: false,
    followSymlinks: true,
    unpack: false,
    ...request,
  });
}

test('a file copied to a file path lands there, and the missing parents are made 0755 and root-owned', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a.txt': { file: 'alpha', mode: 0o640, uid: 1000 } });
  await copy(ws, { sources: ['a.txt'], dest: '/x/y/b.txt' });
  t.deepEqual(listTree(ws.root), ['x/ 0755 0:0', 'x/y/ 0755 0:0', 'x/y/b.txt 0640 0:0 "alpha"']);
});

test('a file copied to a path ending in / lands inside that directory, made when missing', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a.txt': 'alpha' });
  await copy(ws, { sources: ['a.txt'], dest: '/out/' });
  t.deepEqual(listTree(ws.root, { owners: false }), ['out/ 0755', 'out/a.txt 0644 "alpha"']);
});

test('a file copied to an existing directory without a trailing / lands inside it', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a.txt': 'alpha' });
  await mkdir(join(ws.root, 'out'), { mode: 0o700 });
  await copy(ws, { sources: ['a.txt'], dest: '/out' });
  t.deepEqual(listTree(ws.root, { owners: false }), ['out/ 0700', 'out/a.txt 0644 "alpha"']);
});

test('a file copied over an existing file replaces it', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a.txt': 'new' });
  await writeTree(ws.root, { 'etc/conf': { file: 'old', mode: 0o600 } });
  await copy(ws, { sources: ['a.txt'], dest: '/etc/conf' });
  t.deepEqual(listTree(ws.root, { owners: false }), ['etc/ 0755', 'etc/conf 0644 "new"']);
});

test('a directory copies its contents, not itself, merging into what is there', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'src/a.txt': 'a', 'src/sub/b.txt': 'b', 'src/sub': { dir: true, mode: 0o750 } });
  await writeTree(ws.root, { 'app/keep.txt': 'kept', 'app/sub': { dir: true, mode: 0o777 } });
  await copy(ws, { sources: ['src'], dest: '/app' });
  t.deepEqual(listTree(ws.root, { owners: false }), [
    'app/ 0755',
    'app/a.txt 0644 "a"',
    'app/keep.txt 0644 "kept"',
    // A directory below the top takes the source's mode (fsutil overwrites target metadata there).
    'app/sub/ 0750',
    'app/sub/b.txt 0644 "b"',
  ]);
});

test('COPY . copies the whole context into the destination', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a.txt': 'a', 'd/b.txt': 'b' });
  await copy(ws, { sources: ['.'], dest: '/app/' });
  t.deepEqual(listTree(ws.root, { owners: false }), ['app/ 0755', 'app/a.txt 0644 "a"', 'app/d/ 0755', 'app/d/b.txt 0644 "b"']);
});

test('--parents keeps each source path below the root, or below a /./ pivot', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a/b/c.txt': 'c', 'a/b/other.txt': 'o', 'x/./y': { dir: true }, 'x/y/z.txt': 'z' });
  await copy(ws, { sources: ['a/b/c.txt', 'x/./y/z.txt'], dest: '/out/', parents: true });
  t.deepEqual(listTree(ws.root, { owners: false }), [
    'out/ 0755',
    'out/a/ 0755',
    'out/a/b/ 0755',
    'out/a/b/c.txt 0644 "c"',
    'out/y/ 0755',
    'out/y/z.txt 0644 "z"',
  ]);
});

test('--parents with a wildcard keeps the matched paths', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'p1/go.mod': '1', 'p2/go.mod': '2', 'p2/main.go': 'm' });
  await copy(ws, { sources: ['*/go.mod'], dest: '/src/', parents: true });
  t.deepEqual(listTree(ws.root, { owners: false }), [
    'src/ 0755',
    'src/p1/ 0755',
    'src/p1/go.mod 0644 "1"',
    'src/p2/ 0755',
    'src/p2/go.mod 0644 "2"',
  ]);
});

test('--parents fails naming a source without wildcards that selects nothing', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a/b.txt': 'b' });
  const error = await t.throwsAsync(copy(ws, { sources: ['a/missing.txt'], dest: '/out/', parents: true }), {
    instanceOf: NotFoundError,
  });
  t.regex(error.message, /"a\/missing.txt"/);
});

test('wildcards select with Go filepath.Match: *, ?, classes, one directory level per element', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, {
    'a.txt': 'a',
    'b.txt': 'b',
    'c.md': 'c',
    'deep/d.txt': 'd',
    'dir/x': 'x',
    'dir/y/z': 'z',
  });
  await copy(ws, { sources: ['*.txt'], dest: '/t/' });
  await copy(ws, { sources: ['[ab].txt', '?.md'], dest: '/c/' });
  await copy(ws, { sources: ['dir/*'], dest: '/d/' });
  t.deepEqual(listTree(ws.root, { owners: false }), [
    'c/ 0755',
    'c/a.txt 0644 "a"',
    'c/b.txt 0644 "b"',
    'c/c.md 0644 "c"',
    // dir/y is matched as a directory: its contents land in /d.
    'd/ 0755',
    'd/x 0644 "x"',
    'd/z 0644 "z"',
    't/ 0755',
    't/a.txt 0644 "a"',
    't/b.txt 0644 "b"',
  ]);
});

test('a wildcard that matches nothing copies nothing and is no error (BuildKit AllowEmptyWildcard)', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a.txt': 'a' });
  await copy(ws, { sources: ['*.none'], dest: '/out/' });
  t.deepEqual(listTree(ws.root), []);
});

test('several files to a destination without a trailing / fail with the classic message', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a.txt': 'a', 'b.txt': 'b' });
  const error = await t.throwsAsync(copy(ws, { sources: ['*.txt'], dest: '/out' }), { instanceOf: UsageError });
  t.regex(error.message, /more than one source file, the destination must be a directory and end with a \//);
  t.regex(error.message, /"a.txt", "b.txt"/);
  t.deepEqual(listTree(ws.root), []);
});

test('several files go into an existing directory even without a trailing /', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a.txt': 'a', 'b.txt': 'b' });
  await mkdir(join(ws.root, 'out'));
  await copy(ws, { sources: ['a.txt', 'b.txt'], dest: '/out' });
  t.deepEqual(listTree(ws.root, { owners: false }), ['out/ 0755', 'out/a.txt 0644 "a"', 'out/b.txt 0644 "b"']);
});

test('a missing source fails naming it and saying it is not found', async (t) => {
  const ws = await workspace(t);
  const error = await t.throwsAsync(copy(ws, { sources: ['nope/file.txt'], dest: '/out/' }), { instanceOf: NotFoundError });
  t.regex(error.message, /"nope\/file.txt": not found in the build context/);
});

test('a source the .dockerignore excludes fails naming it and the rule file', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'secret.txt': 's', 'ok.txt': 'o' });
  const ignore = new ContextFilter(['secret.txt'], join(ws.context, '.dockerignore'));
  const error = await t.throwsAsync(
    copy(ws, { source: { kind: 'context', dir: ws.context, ignore }, sources: ['secret.txt'], dest: '/out/' }),
    { instanceOf: NotFoundError },
  );
  t.regex(error.message, /"secret.txt".*excluded by .*\.dockerignore/);
});

test('ignored files are absent from a copied directory; a directory re-included by ! is walked', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, {
    'keep.txt': 'k',
    'logs/a.log': 'a',
    'node_modules/x/index.js': 'x',
    'node_modules/keep/index.js': 'kept',
    'secret.env': 's',
  });
  const ignore = new ContextFilter(['*.env', 'logs', 'node_modules', '!node_modules/keep']);
  await copy(ws, { source: { kind: 'context', dir: ws.context, ignore }, sources: ['.'], dest: '/app/' });
  t.deepEqual(listTree(ws.root, { owners: false }), [
    'app/ 0755',
    'app/keep.txt 0644 "k"',
    'app/node_modules/ 0755',
    'app/node_modules/keep/ 0755',
    'app/node_modules/keep/index.js 0644 "kept"',
  ]);
});

test('modes (setuid, sticky) and mtimes are kept', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, {
    'bin/tool': { file: '#!/bin/sh', mode: 0o4755, mtime: 1_600_000_000 },
    'tmp': { dir: true, mode: 0o1777 },
  });
  await utimes(join(ws.context, 'tmp'), 1_500_000_000, 1_500_000_000);
  await copy(ws, { sources: ['bin', 'tmp'], dest: '/' });
  t.is(statSync(join(ws.root, 'tool')).mode & 0o7777, 0o4755);
  t.is(statSync(join(ws.root, 'tool')).mtimeMs, 1_600_000_000_000);
  // The top directory of a copy into an existing one keeps its mode but takes the source's times.
  t.is(statSync(ws.root).mtimeMs, 1_500_000_000_000);
});

test('context files are owned by 0:0 without --chown; --chown sets every entry and the parents made', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'd/f': { file: 'f', uid: 1234, gid: 5678 }, 'd': { dir: true, uid: 1234 } });
  await copy(ws, { sources: ['d'], dest: '/plain/' });
  await copy(ws, { sources: ['d'], dest: '/owned/sub/', owner: { uid: 1000, gid: 1001 } });
  t.deepEqual(listTree(ws.root), [
    'owned/ 0755 1000:1001',
    'owned/sub/ 0755 1000:1001',
    'owned/sub/f 0644 1000:1001 "f"',
    'plain/ 0755 0:0',
    'plain/f 0644 0:0 "f"',
  ]);
});

test('a copy from another stage keeps the source owners', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'home/app/.profile': { file: 'p', uid: 1000, gid: 1000 }, 'home/app': { dir: true, uid: 1000 } });
  await copy(ws, { source: { kind: 'rootfs', dir: ws.context }, sources: ['/home'], dest: '/home' });
  t.deepEqual(listTree(ws.root), ['home/ 0755 0:0', 'home/app/ 0755 1000:1000', 'home/app/.profile 0644 1000:1000 "p"']);
});

test('--chmod in octal sets files, directories and the parents made', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'd/f': { file: 'f', mode: 0o600 }, 'd/s': { dir: true, mode: 0o700 } });
  await copy(ws, { sources: ['d'], dest: '/p/q/', chmod: '0751' });
  t.deepEqual(listTree(ws.root, { owners: false }), ['p/ 0751', 'p/q/ 0751', 'p/q/f 0751 "f"', 'p/q/s/ 0751']);
});

test('--chmod symbolic edits each mode, X adding x to directories and executables only', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, {
    'd/plain': { file: 'p', mode: 0o640 },
    'd/exec': { file: 'e', mode: 0o700 },
    'd/sub': { dir: true, mode: 0o700 },
  });
  await copy(ws, { sources: ['d'], dest: '/o/', chmod: 'go+rX' });
  t.deepEqual(listTree(ws.root, { owners: false }), ['o/ 0755', 'o/exec 0755 "e"', 'o/plain 0644 "p"', 'o/sub/ 0755']);
});

test('a symlink named as a source is followed; symlinks inside a directory are copied as links', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, {
    'real/data.txt': 'data',
    'real/link-in': { symlink: 'data.txt' },
    'real/abs': { symlink: '/etc/passwd' },
    'file-link': { symlink: 'real/data.txt' },
    'dir-link': { symlink: 'real' },
  });
  await copy(ws, { sources: ['file-link', 'dir-link'], dest: '/o/' });
  t.deepEqual(listTree(ws.root, { owners: false }), [
    'o/ 0755',
    'o/abs -> /etc/passwd',
    'o/data.txt 0644 "data"',
    // The followed link keeps its own name in a directory destination.
    'o/file-link 0644 "data"',
    'o/link-in -> data.txt',
  ]);
});

test('hard links inside a copied tree stay hard links', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'd/a': 'shared', 'd/b': { hardlink: 'd/a' }, 'd/c': 'alone' });
  await copy(ws, { sources: ['d'], dest: '/o/' });
  const a = lstatSync(join(ws.root, 'o/a'));
  const b = lstatSync(join(ws.root, 'o/b'));
  t.is(a.ino, b.ino);
  t.is(a.nlink, 2);
  t.is(lstatSync(join(ws.root, 'o/c')).nlink, 1);
  t.not(a.ino, lstatSync(join(ws.context, 'd/a')).ino);
});

test('extended attributes of files and directories are copied', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'f': 'f', 'd/sub/g': 'g' });
  lsetxattr(join(ws.context, 'f'), 'user.kiln.test', Buffer.from('one'));
  lsetxattr(join(ws.context, 'd/sub'), 'user.kiln.dir', Buffer.from('two'));
  await copy(ws, { sources: ['f', 'd'], dest: '/o/' });
  t.is(lgetxattr(join(ws.root, 'o/f'), 'user.kiln.test').toString(), 'one');
  t.is(lgetxattr(join(ws.root, 'o/sub'), 'user.kiln.dir').toString(), 'two');
});

test('--exclude leaves out what it matches below each source, ! exceptions included again', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, {
    'src/a.go': 'a',
    'src/a_test.go': 't',
    'src/README.md': 'r',
    'src/docs/x.md': 'x',
    'src/docs/keep.md': 'k',
  });
  await copy(ws, { sources: ['src'], dest: '/o/', excludes: ['*_test.go', 'docs', '!docs/keep.md'] });
  t.deepEqual(listTree(ws.root, { owners: false }), [
    'o/ 0755',
    'o/README.md 0644 "r"',
    'o/a.go 0644 "a"',
    'o/docs/ 0755',
    'o/docs/keep.md 0644 "k"',
  ]);
});

test('a directory of the source over a file of the destination is a conflict naming the path', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'd/sub/f': 'f' });
  await writeTree(ws.root, { 'o/sub': 'a file' });
  const error = await t.throwsAsync(copy(ws, { sources: ['d'], dest: '/o' }), { instanceOf: ConflictError });
  t.regex(error.message, /non-directory: \/o\/sub/);
});

test('a big file is copied whole', async (t) => {
  const ws = await workspace(t);
  const big = Buffer.alloc(5 * 1024 * 1024 + 7, 'k');
  await writeFile(join(ws.context, 'big.bin'), big);
  await copy(ws, { sources: ['big.bin'], dest: '/big.bin' });
  t.true(readFileSync(join(ws.root, 'big.bin')).equals(big));
});

test('an aborted signal stops the copy with its reason', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a.txt': 'a' });
  const controller = new AbortController();
  controller.abort(new Error('stop now'));
  await t.throwsAsync(copy(ws, { sources: ['a.txt'], dest: '/o/', signal: controller.signal }), { message: 'stop now' });
  t.deepEqual(listTree(ws.root), []);
});

test('a source file whose owner cannot be read is copied owned by root when from the context', async (t) => {
  const ws = await workspace(t);
  await writeFile(join(ws.context, 'f'), 'f');
  await chmod(join(ws.context, 'f'), 0o000);
  await lchown(join(ws.context, 'f'), 4242, 4242);
  await copy(ws, { sources: ['f'], dest: '/f' });
  t.deepEqual(listTree(ws.root), ['f 0000 0:0 "f"']);
  t.is(await readFile(join(ws.root, 'f'), 'utf8'), 'f');
});

test('a dangling symlink named by a wildcard match fails as not found', async (t) => {
  const ws = await workspace(t);
  await symlink('missing-target', join(ws.context, 'x.lnk'));
  const error = await t.throwsAsync(copy(ws, { sources: ['*.lnk'], dest: '/o/' }), { instanceOf: NotFoundError });
  t.regex(error.message, /"\*\.lnk"/);
});
