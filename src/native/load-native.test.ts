import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InternalError } from '../errors/index.ts';
import { loadNative, loadNativeFrom } from './load-native.ts';

test('the addon is found from the sources and has the fs surface', (t) => {
  const { fs } = loadNative();
  t.deepEqual(Object.keys(fs).sort(), ['DirectoryPrefetcher', 'lgetxattr', 'llistxattr', 'lremovexattr', 'lsetxattr', 'mknod', 'mount', 'readDirectory', 'unmount']);
  t.is(loadNative(), loadNative());
});

test('a package without a built addon fails naming the file and saying to run npm install', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'kiln-no-addon-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const error = t.throws(() => loadNativeFrom(root), { instanceOf: InternalError });
  t.true(error.message.includes(join(root, 'native/build/Release/kiln_native.node')), error.message);
  t.is(error.file, join(root, 'native/build/Release/kiln_native.node'));
  t.regex(error.hint ?? '', /run `npm install` in /);
});
