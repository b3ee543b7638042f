import test from 'ava';
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/*
 * The CLI ships as an esbuild bundle in dist/, which cannot hold a .node file: the bundled
 * loader must find the addon from there, relative to the package root. Each case bundles a
 * small entry as scripts/build.mjs bundles the CLI (one CommonJS file, import.meta.url defined
 * from __filename) into a package of its own and runs it.
 */

const native = fileURLToPath(new URL('../../native', import.meta.url));

async function bundledPackage(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'kiln-bundle-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await writeFile(join(root, 'package.json'), '{"type":"module"}\n');
  const entry = join(root, 'entry.ts');
  await writeFile(
    entry,
    `import { llistxattr } from ${JSON.stringify(fileURLToPath(new URL('./index.ts', import.meta.url)))};
     try { console.log(JSON.stringify({ names: llistxattr(process.argv[2]) })); }
     catch (error) { console.log(JSON.stringify({ name: error.name, message: error.message, hint: error.hint })); }`,
  );
  await mkdir(join(root, 'dist'));
  await build({
    entryPoints: { cli: entry },
    outdir: join(root, 'dist'),
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    define: { 'import.meta.url': 'kilnImportMetaUrl' },
    banner: { js: "const kilnImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'silent',
  });
  return root;
}

test('the bundle in dist/ loads the addon from native/build/Release of its package', async (t) => {
  const root = await bundledPackage(t);
  await symlink(native, join(root, 'native'));
  const { stdout } = await run(process.execPath, [join(root, 'dist/cli.cjs'), root]);
  t.deepEqual(JSON.parse(stdout), { names: [] });
});

test('a bundle whose package has no built addon says which file is missing and to run npm install', async (t) => {
  const root = await bundledPackage(t);
  const { stdout } = await run(process.execPath, [join(root, 'dist/cli.cjs'), root]);
  const error = JSON.parse(stdout) as { name: string; message: string; hint: string };
  t.is(error.name, 'InternalError');
  t.true(error.message.includes(join(root, 'native/build/Release/kiln_native.node')), error.message);
  t.is(error.hint, `run \`npm install\` in ${root}: it builds the addon with node-gyp (g++, make and python3 are needed)`);
});
