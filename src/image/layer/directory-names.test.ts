import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../errors/index.ts';
import { directoryNames } from './index.ts';

async function tree(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'kiln-names-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

test('directoryNames gives every name as text, a real U+FFFD among them', async (t) => {
  const root = await tree(t);
  const names = ['a', 'é', '日本', '🦀', 'bad\uFFFDname', '.hidden'];
  for (const name of names) await writeFile(join(root, name), '');
  t.deepEqual(directoryNames(root).sort(), [...names].sort());
});

test('a name that is not UTF-8 fails directoryNames with InputError naming the directory', async (t) => {
  const root = await tree(t);
  await writeFile(join(root, 'fine'), '');
  // Latin-1 "é" alone: a byte UTF-8 cannot start a character with.
  await writeFile(Buffer.from(`${root}/caf\xe9`, 'latin1'), '');
  const error = t.throws(() => directoryNames(root), { instanceOf: InputError });
  t.true(error.message.startsWith(`${root}: name`), error.message);
  t.regex(error.message, /is not UTF-8/);
});
