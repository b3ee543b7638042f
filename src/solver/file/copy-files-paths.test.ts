import test from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContextFilter } from '../../cache/index.ts';
import { ConflictError, InputError, NotFoundError } from '../../errors/index.ts';
import { copyFiles, type CopyRequest } from './copy-files.ts';
import { listTree, type Workspace, workspace, writeTree } from './copy-fixture.ts';

/*
 * Paths that try to leave their root: a COPY reads only below the source directory and
 * writes only below the destination root, resolving symlinks as the container would.
 */

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

/** A host path no run has used: where a breakout would land. */
function unique(prefix: string): string {
  return `/tmp/${prefix}-kiln-${randomBytes(6).toString('hex')}`;
}

test('a symlink in the destination path pointing at a host path resolves inside the root', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a.txt': 'a' });
  const host = unique('etc');
  await symlink(host, join(ws.root, 'etc'));
  await copy(ws, { sources: ['a.txt'], dest: '/etc/x' });
  t.false(existsSync(host));
  t.is(readFileSync(join(ws.root, host, 'x'), 'utf8'), 'a');
});

test('a destination symlink climbing with .. stays at the root', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a.txt': 'a' });
  await symlink('../../../../..', join(ws.root, 'up'));
  await copy(ws, { sources: ['a.txt'], dest: '/up/x' });
  t.is(readFileSync(join(ws.root, 'x'), 'utf8'), 'a');
  t.deepEqual(await readdirSorted(ws.parent), ['context', 'root']);
});

test('a destination whose last element is a dangling absolute symlink is written at its target inside the root', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'a.txt': 'a' });
  const host = unique('evil');
  await symlink(host, join(ws.root, 'l'));
  await copy(ws, { sources: ['a.txt'], dest: '/l' });
  t.false(existsSync(host));
  t.is(readFileSync(join(ws.root, host), 'utf8'), 'a');
  t.true(lstatSync(join(ws.root, 'l')).isSymbolicLink());
});

test('a symlink in the destination where a copied file goes is replaced, not written through', async (t) => {
  const ws = await workspace(t);
  const victim = join(ws.parent, 'victim');
  await writeFile(victim, 'untouched');
  await writeTree(ws.context, { 'd/f': 'new' });
  await mkdir(join(ws.root, 'o'));
  await symlink(victim, join(ws.root, 'o/f'));
  await copy(ws, { sources: ['d'], dest: '/o' });
  t.is(await readFile(victim, 'utf8'), 'untouched');
  t.deepEqual(listTree(ws.root, { owners: false }), ['o/ 0755', 'o/f 0644 "new"']);
});

test('a symlink in the destination where a copied directory goes is a conflict, not followed', async (t) => {
  const ws = await workspace(t);
  const outside = join(ws.parent, 'outside');
  await mkdir(outside);
  await writeTree(ws.context, { 'd/sub/f': 'new' });
  await mkdir(join(ws.root, 'o'));
  await symlink(outside, join(ws.root, 'o/sub'));
  await t.throwsAsync(copy(ws, { sources: ['d'], dest: '/o' }), { instanceOf: ConflictError });
  t.deepEqual(await readdirSorted(outside), []);
});

test('COPY ../x fails naming the path: a context source never climbs above the context', async (t) => {
  const ws = await workspace(t);
  await writeFile(join(ws.parent, 'x'), 'outside');
  // Even with an x at the context root, which BuildKit would read for ../x.
  await writeTree(ws.context, { x: 'inside' });
  for (const source of ['../x', 'a/../../x', '..']) {
    const error = await t.throwsAsync(copy(ws, { sources: [source], dest: '/o' }), { instanceOf: InputError });
    t.is(error.message, `source ${JSON.stringify(source)}: forbidden path outside the build context`);
  }
  t.deepEqual(listTree(ws.root), []);
});

test('an absolute source is read from the context root', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { x: 'inside' });
  await copy(ws, { sources: ['/x'], dest: '/o/' });
  t.deepEqual(listTree(ws.root, { owners: false }), ['o/ 0755', 'o/x 0644 "inside"']);
});

test('a source symlink to an absolute host path resolves inside the context', async (t) => {
  const ws = await workspace(t);
  await symlink('/etc/hostname', join(ws.context, 'host'));
  await t.throwsAsync(copy(ws, { sources: ['host'], dest: '/o' }), { instanceOf: NotFoundError });
  await writeTree(ws.context, { 'etc/hostname': 'the context one' });
  await copy(ws, { sources: ['host'], dest: '/o' });
  t.is(readFileSync(join(ws.root, 'o'), 'utf8'), 'the context one');
});

test('a source symlink climbing out with .. stays at the context root', async (t) => {
  const ws = await workspace(t);
  await writeFile(join(ws.parent, 'secret'), 'outside');
  await symlink('../../../secret', join(ws.context, 'esc'));
  await mkdir(join(ws.context, 'd'));
  await symlink('../..', join(ws.context, 'd/up'));
  const error = await t.throwsAsync(copy(ws, { sources: ['esc'], dest: '/o' }), { instanceOf: NotFoundError });
  t.regex(error.message, /"\/secret" is not there/);
  await t.throwsAsync(copy(ws, { sources: ['d/up/secret'], dest: '/o' }), { instanceOf: NotFoundError });
  // A wildcard below the clamped link matches in the context only: here, nothing.
  await copy(ws, { sources: ['d/up/*ecret'], dest: '/o/' });
  t.deepEqual(listTree(ws.root), []);
});

test('a symlink to an ignored file is not a way around .dockerignore', async (t) => {
  const ws = await workspace(t);
  await writeTree(ws.context, { 'secret.txt': 's', 'alias': { symlink: 'secret.txt' } });
  const ignore = new ContextFilter(['secret.txt']);
  const error = await t.throwsAsync(
    copy(ws, { source: { kind: 'context', dir: ws.context, ignore }, sources: ['alias'], dest: '/o' }),
    { instanceOf: NotFoundError },
  );
  t.regex(error.message, /"\/secret.txt" is excluded by/);
});

async function readdirSorted(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
