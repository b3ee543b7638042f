import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { InputError } from '../errors/index.ts';
import { selectIgnoreFile } from './select-ignore-file.ts';

/** Makes a temp dir with `files` (path → content; a trailing / makes a directory). */
async function tree(t: { teardown: (fn: () => Promise<void>) => void }, files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'kiln-ignore-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    if (path.endsWith('/')) {
      await mkdir(join(root, path), { recursive: true });
    } else {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), content);
    }
  }
  return root;
}

const patterns = (selected: Awaited<ReturnType<typeof selectIgnoreFile>>): string[] | undefined =>
  selected?.ignore.rules.map((rule) => rule.pattern);

test('with no ignore file nothing is selected', async (t) => {
  const root = await tree(t, { Dockerfile: 'FROM scratch\n' });
  t.is(await selectIgnoreFile(root, join(root, 'Dockerfile')), undefined);
});

test("the context root's .dockerignore applies when the Dockerfile has none", async (t) => {
  const root = await tree(t, { Dockerfile: '', '.dockerignore': 'node_modules\n' });
  const selected = await selectIgnoreFile(root, join(root, 'Dockerfile'));
  t.is(selected?.source, 'context');
  t.is(selected?.ignore.path, join(root, '.dockerignore'));
  t.deepEqual(patterns(selected), ['node_modules']);
});

test("the Dockerfile's own <name>.dockerignore wins over the context's .dockerignore", async (t) => {
  const root = await tree(t, {
    'app.Dockerfile': '',
    'app.Dockerfile.dockerignore': 'dist\n',
    '.dockerignore': 'node_modules\n',
  });
  const selected = await selectIgnoreFile(root, join(root, 'app.Dockerfile'));
  t.is(selected?.source, 'dockerfile');
  t.is(selected?.ignore.path, join(root, 'app.Dockerfile.dockerignore'));
  t.deepEqual(patterns(selected), ['dist']);
});

test('Dockerfile pairs with Dockerfile.dockerignore', async (t) => {
  const root = await tree(t, { Dockerfile: '', 'Dockerfile.dockerignore': 'a\n', '.dockerignore': 'b\n' });
  t.deepEqual(patterns(await selectIgnoreFile(root, join(root, 'Dockerfile'))), ['a']);
});

test('the per-Dockerfile file is looked for next to the Dockerfile, even outside the context', async (t) => {
  const root = await tree(t, {
    'ctx/.dockerignore': 'from-context\n',
    'build/web.Dockerfile': '',
    'build/web.Dockerfile.dockerignore': 'from-dockerfile\n',
    'ctx/web.Dockerfile.dockerignore': 'wrong-place\n',
  });
  t.deepEqual(patterns(await selectIgnoreFile(join(root, 'ctx'), join(root, 'build/web.Dockerfile'))), ['from-dockerfile']);
});

test('an empty per-Dockerfile ignore file still wins', async (t) => {
  const root = await tree(t, { 'app.Dockerfile': '', 'app.Dockerfile.dockerignore': '', '.dockerignore': 'x\n' });
  const selected = await selectIgnoreFile(root, join(root, 'app.Dockerfile'));
  t.is(selected?.source, 'dockerfile');
  t.deepEqual(patterns(selected), []);
});

test('only the exact <Dockerfile>.dockerignore name counts, not <stem>.dockerignore', async (t) => {
  const root = await tree(t, { 'app.Dockerfile': '', 'app.dockerignore': 'no\n', '.dockerignore': 'yes\n' });
  t.deepEqual(patterns(await selectIgnoreFile(root, join(root, 'app.Dockerfile'))), ['yes']);
});

test('without a Dockerfile path (stdin) only the context file is considered', async (t) => {
  const root = await tree(t, { '.dockerignore': 'yes\n' });
  t.deepEqual(patterns(await selectIgnoreFile(root, undefined)), ['yes']);
});

test('an ignore file that exists but cannot be read is an InputError, not skipped', async (t) => {
  const root = await tree(t, { '.dockerignore/': '' });
  const error = await t.throwsAsync(selectIgnoreFile(root, undefined), { instanceOf: InputError });
  t.is(error?.file, join(root, '.dockerignore'));
});

test('a bad pattern in the selected file is an InputError with that file and line', async (t) => {
  const root = await tree(t, { 'app.Dockerfile': '', 'app.Dockerfile.dockerignore': 'ok\n!\n' });
  const error = await t.throwsAsync(selectIgnoreFile(root, join(root, 'app.Dockerfile')), { instanceOf: InputError });
  t.is(error?.file, join(root, 'app.Dockerfile.dockerignore'));
  t.is(error?.range?.start.line, 2);
});
