import test from 'ava';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checksumSources } from './checksum-sources.ts';
import { ContextFilter } from './context-filter.ts';
import { SourceTree } from './source-tree.ts';

// Alone in its file: it watches SourceTree.prototype.prefetch, which every walk calls.
test('a walk reads ahead exactly the directories it enters, in order: never one the ignore rules or --exclude leave out', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-walk-ahead-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const sub of ['src/lib', 'src/vendor', 'node_modules/big/deep', 'logs/keep', 'logs/run1', 'docs']) {
    await mkdir(join(dir, sub), { recursive: true });
    await writeFile(join(dir, sub, 'f'), sub);
  }
  const asked: string[] = [];
  const prefetch = SourceTree.prototype.prefetch;
  SourceTree.prototype.prefetch = function (this: SourceTree, paths: readonly string[]): void {
    asked.push(...paths);
    prefetch.call(this, paths);
  };
  t.teardown(() => {
    SourceTree.prototype.prefetch = prefetch;
  });
  const ignore = new ContextFilter(['node_modules', 'logs/*', '!logs/keep']);
  await checksumSources({ source: { kind: 'context', dir, ignore }, sources: ['.'], excludes: ['src/vendor'], parents: false, followSymlinks: true });
  // logs is entered for the exception below it; logs/run1, node_modules and src/vendor are not.
  t.deepEqual(asked, ['docs', 'logs', 'src', 'logs/keep', 'src/lib']);
});
