import test, { type ExecutionContext } from 'ava';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DirectoryListing } from '../../native/index.ts';
import { ContextFilter } from './context-filter.ts';
import { selectSources } from './select-sources.ts';
import { SourceTree } from './source-tree.ts';
import { type KnownListings, type KnownWalkEvent, walkMatch } from './walk-selection.ts';

async function context(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-walk-known-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const path of ['a', 'b/x', 'b/y/z', 'c.log', 'd/w', 'e']) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), path);
  }
  return dir;
}

/** The walk's events in short: `dir b`, `node a`, `run <text>`, `cut`, `cut last`. */
async function walk(dir: string, known: KnownListings, excludes: string[] = []): Promise<string[]> {
  const source = { kind: 'context' as const, dir, ignore: new ContextFilter(['*.log']) };
  const tree = await SourceTree.open(source);
  try {
    const selection = selectSources(tree, { source, sources: ['.'], excludes, parents: false, followSymlinks: true });
    const selected = selection.sources[0]!;
    const events: string[] = [];
    for (const match of selected.matches) {
      for (const event of walkMatch(tree, selected, match, selection.exclude, known) as Generator<KnownWalkEvent>) {
        if (event.kind === 'run') events.push(`run ${Buffer.from(event.run).toString()}`);
        else if (event.kind === 'cut') events.push(event.last ? 'cut last' : 'cut');
        else if (event.kind !== 'leave') events.push(`${event.kind} ${event.rel}`);
      }
    }
    return events;
  } finally {
    tree.close();
  }
}

test('a directory the consumer does not know is walked with a cut before each directory entry and after the last entry', async (t) => {
  const dir = await context(t);
  const asked: [string, string, number][] = [];
  const unknown: KnownListings = {
    runs: (path, rel, _listing, count) => {
      asked.push([path, rel, count]);
      return undefined;
    },
  };
  t.deepEqual(await walk(dir, unknown), [
    'dir ',
    'node a',
    'cut',
    'dir b',
    'node b/x',
    'cut',
    'dir b/y',
    'node b/y/z',
    'cut last',
    'cut last',
    // c.log is ignored: its run is empty.
    'cut',
    'dir d',
    'node d/w',
    'cut last',
    'node e',
    'cut last',
  ]);
  t.deepEqual(asked, [
    [dir, '', 3],
    [join(dir, 'b'), 'b', 2],
    [join(dir, 'b/y'), 'b/y', 1],
    [join(dir, 'd'), 'd', 1],
  ]);
});

test('a directory the consumer knows gives its runs in place of its other entries; its subdirectories are walked as ever', async (t) => {
  const dir = await context(t);
  const known: KnownListings = {
    runs: (path: string, _rel: string, listing: DirectoryListing, count: number) => {
      if (path !== dir) return undefined;
      t.deepEqual(listing.names, ['a', 'b', 'c.log', 'd', 'e']);
      return Array.from({ length: count }, (_, run) => Buffer.from(run === 1 ? '' : `R${run}`));
    },
  };
  t.deepEqual(await walk(dir, known), [
    'dir ',
    'run R0',
    'dir b',
    'node b/x',
    'cut',
    'dir b/y',
    'node b/y/z',
    'cut last',
    'cut last',
    // The empty run between b and d gives nothing.
    'dir d',
    'node d/w',
    'cut last',
    'run R2',
  ]);
  // With --exclude the walk asks nothing, and gives no runs and no cuts.
  const events = await walk(dir, known, ['b/x']);
  t.false(events.some((event) => event.startsWith('run') || event.startsWith('cut')));
  t.true(events.includes('node a'));
});
