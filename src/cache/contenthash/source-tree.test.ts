import test from 'ava';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError } from '../../errors/index.ts';
import { ContextFilter, loadContextFilter } from './context-filter.ts';
import { SourceTree } from './source-tree.ts';

async function context(t: { teardown(fn: () => Promise<void>): void }, files: Readonly<Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-source-tree-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    if (content.startsWith('->')) await symlink(content.slice(2), join(dir, path));
    else await writeFile(join(dir, path), content);
  }
  return dir;
}

function found(resolution: ReturnType<SourceTree['resolve']>): string {
  return resolution.kind === 'found' ? resolution.path : `absent ${resolution.path} (${resolution.why})`;
}

test('symlinks resolve inside the root: absolute targets restart there, .. stops there', async (t) => {
  const dir = await context(t, {
    'etc/passwd': 'x',
    'abs': '->/etc/passwd',
    'up': '->../../../etc',
    'd/rel': '->../etc',
    'loop': '->loop',
  });
  const tree = await SourceTree.open({ kind: 'rootfs', dir });
  t.is(found(tree.resolve('abs', true)), 'etc/passwd');
  t.is(found(tree.resolve('abs', false)), 'abs');
  t.is(found(tree.resolve('up/passwd', false)), 'etc/passwd');
  t.is(found(tree.resolve('d/rel/passwd', true)), 'etc/passwd');
  t.is(found(tree.resolve('etc/passwd/x', true)), 'absent etc/passwd (not-found)');
  t.is(found(tree.resolve('', true)), '');
  t.throws(() => tree.resolve('loop', true), { instanceOf: InputError, message: /too many levels of symbolic links/ });
});

test('an excluded directory is in the context only when an exception includes something below it', async (t) => {
  const dir = await context(t, { 'a/keep.txt': 'k', 'a/drop.txt': 'd', 'b/drop.txt': 'd', 'c/x.txt': 'x' });
  const ignore = new ContextFilter(['a', 'b', '!a/keep.txt', 'c/*']);
  const tree = await SourceTree.open({ kind: 'context', dir, ignore });
  t.is(found(tree.resolve('a', true)), 'a');
  t.is(found(tree.resolve('a/keep.txt', true)), 'a/keep.txt');
  t.is(found(tree.resolve('a/drop.txt', true)), 'absent a/drop.txt (excluded)');
  t.is(found(tree.resolve('b', true)), 'absent b (excluded)');
  t.is(found(tree.resolve('c', true)), 'c');
  t.is(found(tree.resolve('c/x.txt', true)), 'absent c/x.txt (excluded)');
});

test('a wildcard exception makes every excluded directory walked, present only when it holds an included entry', async (t) => {
  const dir = await context(t, { 'logs/app/keep.md': 'k', 'logs/other/x.log': 'x' });
  const ignore = new ContextFilter(['logs', '!**/*.md']);
  const tree = await SourceTree.open({ kind: 'context', dir, ignore });
  t.is(found(tree.resolve('logs/app/keep.md', true)), 'logs/app/keep.md');
  t.is(found(tree.resolve('logs/other', true)), 'absent logs/other (excluded)');
});

test('the Dockerfile\'s own ignore file wins over the context\'s', async (t) => {
  const dir = await context(t, {
    '.dockerignore': 'from-context\n',
    'app.Dockerfile': 'FROM scratch\n',
    'app.Dockerfile.dockerignore': 'from-dockerfile\n',
  });
  const own = await loadContextFilter(dir, join(dir, 'app.Dockerfile'));
  t.true(own?.excludes('from-dockerfile'));
  t.false(own?.excludes('from-context'));
  const shared = await loadContextFilter(dir, join(dir, 'Dockerfile'));
  t.true(shared?.excludes('from-context'));
  t.is(await loadContextFilter(join(dir, 'nothing-here'), undefined), undefined);
});
