import { readFileSync } from 'node:fs';
import test from 'ava';
import { InternalError } from '../errors/index.ts';
import { NO_PARENT_INFO, type MatchInfo, PatternMatcher } from './pattern-matcher.ts';
import { parentPath } from './clean-path.ts';

const TABLES = new URL('../../testdata/ignore/', import.meta.url);

interface Row {
  readonly patterns: readonly string[];
  readonly path: string;
  readonly expected: boolean;
  readonly line: number;
}

/**
 * Rows of a testdata/ignore table: `pattern<TAB>path<TAB>bool`, or with several patterns
 * `p1<TAB>p2<TAB>…<TAB>=><TAB>path<TAB>bool`. `#` lines and blank lines are skipped.
 */
function readTable(name: string): Row[] {
  const rows: Row[] = [];
  readFileSync(new URL(name, TABLES), 'utf8')
    .split('\n')
    .forEach((text, index) => {
      if (text === '' || text.startsWith('#')) return;
      const fields = text.split('\t');
      const arrow = fields.indexOf('=>');
      const patterns = arrow < 0 ? fields.slice(0, 1) : fields.slice(0, arrow);
      const [path, expected] = fields.slice(arrow < 0 ? 1 : arrow + 1);
      if (path === undefined || (expected !== 'true' && expected !== 'false')) {
        throw new Error(`${name}:${index + 1}: malformed row`);
      }
      rows.push({ patterns, path, expected: expected === 'true', line: index + 1 });
    });
  return rows;
}

/** Matches every parent directory of `path` top down, as a walker would, and returns the last info. */
function parentsInfo(matcher: PatternMatcher, path: string): MatchInfo {
  const parent = parentPath(path);
  if (parent === '.') return NO_PARENT_INFO;
  const dirs = parent.split('/');
  let info = NO_PARENT_INFO;
  for (let depth = 1; depth <= dirs.length; depth += 1) {
    info = matcher.matchesUsingParentResults(dirs.slice(0, depth).join('/'), info).info;
  }
  return info;
}

for (const table of ['matches.tsv', 'multi.tsv']) {
  const rows = readTable(table);

  test(`${table}: matchesOrParentMatches answers every row (${rows.length})`, (t) => {
    for (const { patterns, path, expected, line } of rows) {
      const matcher = new PatternMatcher(patterns);
      t.is(matcher.matchesOrParentMatches(path), expected, `${table}:${line} ${JSON.stringify(patterns)} ${JSON.stringify(path)}`);
    }
  });

  test(`${table}: matchesUsingParentResults agrees when fed the parents' results`, (t) => {
    for (const { patterns, path, expected, line } of rows) {
      const matcher = new PatternMatcher(patterns);
      const info = parentsInfo(matcher, path);
      t.is(matcher.matchesUsingParentResults(path, info).matched, expected, `${table}:${line}`);
      t.is(matcher.matchesUsingParentInfo(path, info), expected, `${table}:${line} (no info kept)`);
    }
  });

  test(`${table}: matchesUsingParentResults agrees with no parent results`, (t) => {
    for (const { patterns, path, expected, line } of rows) {
      const matcher = new PatternMatcher(patterns);
      t.is(matcher.matchesUsingParentResults(path).matched, expected, `${table}:${line}`);
    }
  });
}

test('must-walk.tsv: mustWalk answers for every excluded directory', (t) => {
  for (const { patterns, path, expected, line } of readTable('must-walk.tsv')) {
    const matcher = new PatternMatcher(patterns);
    t.true(matcher.matchesOrParentMatches(path), `must-walk.tsv:${line}: the directory is not excluded`);
    t.is(matcher.mustWalk(path), expected, `must-walk.tsv:${line} ${JSON.stringify(patterns)} ${path}`);
  }
});

test('paths with control characters: * and ? cross a newline, ** does not, and \\r is ordinary', (t) => {
  const cases: readonly (readonly [string, string, boolean])[] = [
    ['a*b', 'a\nb', true],
    ['a?b', 'a\nb', true],
    ['[^a]', '\n', true],
    ['a/**/b', 'a/x\ny/b', false],
    ['a/**/b', 'a/x\ry/b', true],
    ['**/x/**', 'a\n/x/y', false],
    ['**', 'x\ny', true],
    ['a\\nb', 'a\nb', true],
    ['a\\tb', 'a\tb', true],
    ['a\\sb', 'a\vb', false],
    ['a[[:space:]]b', 'a\vb', true],
  ];
  for (const [pattern, path, expected] of cases) {
    t.is(new PatternMatcher([pattern]).matchesOrParentMatches(path), expected, `${pattern} ${JSON.stringify(path)}`);
  }
});

test('a byte-order mark opening a pattern is skipped by wildcard patterns only, as in Go', (t) => {
  t.true(new PatternMatcher(['\uFEFF*.log']).matchesOrParentMatches('a.log'));
  t.false(new PatternMatcher(['\uFEFFfoo']).matchesOrParentMatches('foo'));
  t.false(new PatternMatcher(['\uFEFF**/foo']).matchesOrParentMatches('a/foo'));
});

test('hasExclusions is true only when some pattern is a ! exception', (t) => {
  t.false(new PatternMatcher(['a', 'b/**']).hasExclusions);
  t.true(new PatternMatcher(['a', '  !a/b']).hasExclusions);
  t.false(new PatternMatcher([]).hasExclusions);
});

test('blank patterns are dropped and the rest are kept cleaned, in order', (t) => {
  const matcher = new PatternMatcher(['docs/', '', '   ', '!docs/./keep.md ']);
  t.deepEqual(
    matcher.patterns.map((pattern) => [pattern.text, pattern.exclusion, pattern.kind]),
    [
      ['docs', false, 'exact'],
      ['docs/keep.md', true, 'exact'],
    ],
  );
});

test('match info from a matcher with another number of patterns is refused', (t) => {
  const info = new PatternMatcher(['a', 'b']).matchesUsingParentResults('a').info;
  t.throws(() => new PatternMatcher(['a']).matchesUsingParentResults('a/b', info), { instanceOf: InternalError });
});

/** A context tree as a sorted list of file paths. */
const TREE = [
  '.dockerignore',
  'Dockerfile',
  'README.md',
  'build/logs/1.log',
  'build/out.bin',
  'docs/a.md',
  'docs/keep.md',
  'node_modules/a/index.js',
  'node_modules/keep/index.js',
  'node_modules/keep/sub/z.js',
  'src/gen/keep/y.go',
  'src/gen/x.go',
  'src/main.go',
] as const;

interface WalkResult {
  readonly files: string[];
  readonly entered: string[];
}

/**
 * Walks TREE the way BuildKit's fsutil filter does: each entry matched with its parent's
 * results, an excluded directory entered only when mustWalk says so, excluded files left out.
 */
function walk(matcher: PatternMatcher): WalkResult {
  const result: WalkResult = { files: [], entered: [] };
  const visit = (dir: string, info: MatchInfo): void => {
    const prefix = dir === '' ? '' : `${dir}/`;
    const children = new Set<string>();
    for (const file of TREE) {
      if (file.startsWith(prefix)) children.add(file.slice(prefix.length).split('/')[0] as string);
    }
    for (const name of [...children].sort()) {
      const path = `${prefix}${name}`;
      const isDir = !(TREE as readonly string[]).includes(path);
      if (!isDir) {
        if (!matcher.matchesUsingParentInfo(path, info)) result.files.push(path);
        continue;
      }
      const { matched, info: childInfo } = matcher.matchesUsingParentResults(path, info);
      if (matched && !matcher.mustWalk(path)) continue;
      result.entered.push(path);
      visit(path, childInfo);
    }
  };
  visit('', NO_PARENT_INFO);
  return result;
}

test('a walk that skips directories mustWalk rejects sends the files that matching each one keeps', (t) => {
  const patternSets = [
    ['node_modules', '!node_modules/keep'],
    ['**', '!src', 'src/gen', '!src/gen/keep'],
    ['*', '!**/*.go'],
    ['build', 'docs', '!docs/keep.md', '*.md'],
    ['**/*.log', 'build/**', '!build/logs'],
    ['node_modules/**', '!node_modules/keep/**'],
  ];
  for (const patterns of patternSets) {
    const matcher = new PatternMatcher(patterns);
    const kept = TREE.filter((file) => !matcher.matchesOrParentMatches(file));
    t.deepEqual(walk(matcher).files, kept, JSON.stringify(patterns));
  }
});

test('an excluded directory no exception reaches is not entered', (t) => {
  const { files, entered } = walk(new PatternMatcher(['node_modules', '!node_modules/keep']));
  t.deepEqual(entered, ['build', 'build/logs', 'docs', 'node_modules', 'node_modules/keep', 'node_modules/keep/sub', 'src', 'src/gen', 'src/gen/keep']);
  t.deepEqual(
    files.filter((file) => file.startsWith('node_modules/')),
    ['node_modules/keep/index.js', 'node_modules/keep/sub/z.js'],
  );
});
