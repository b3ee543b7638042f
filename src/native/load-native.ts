import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../errors/index.ts';
import type { NativeAddon } from './native.d.ts';

/** Where node-gyp leaves the addon, relative to the package root: Release, then Debug. */
const BUILDS = ['native/build/Release/kiln_native.node', 'native/build/Debug/kiln_native.node'] as const;

let loaded: NativeAddon | undefined;

/**
 * The native addon, loaded on first use and kept: a command that never needs it (`kiln
 * --version`) runs without it. Found relative to the package root, the nearest directory
 * above this module with a package.json, so the same lookup serves the sources (run by tsx
 * from src/native) and the bundle (dist/, which cannot contain a .node file). Only the
 * wrappers in this folder call it.
 *
 * @throws InternalError naming the file and saying to run `npm install` when the addon was
 * never built, or naming the file and the loader's reason when it does not load.
 */
export function loadNative(): NativeAddon {
  loaded ??= loadNativeFrom(packageRoot(dirname(fileURLToPath(import.meta.url))));
  return loaded;
}

/**
 * The kiln-init executable built beside the addon (native/binding.gyp): PID 1 of every
 * sandbox. Loads the addon first, so a missing build fails as {@link loadNative} does.
 *
 * @throws as {@link loadNative}; InternalError when the addon was built without kiln-init.
 */
export function kilnInitPath(): string {
  loadNative();
  const root = packageRoot(dirname(fileURLToPath(import.meta.url)));
  const addon = BUILDS.map((build) => join(root, build)).find((candidate) => existsSync(candidate));
  const init = join(dirname(addon!), 'kiln-init');
  if (!existsSync(init)) {
    throw new InternalError(`kiln-init is not built: ${init} does not exist`, {
      hint: `run \`npm run build:native\` in ${root}`,
      file: init,
    });
  }
  return init;
}

/**
 * Loads the addon of the package at `root`; {@link loadNative} with its lookup spelt out,
 * for tests.
 *
 * @throws as {@link loadNative}.
 */
export function loadNativeFrom(root: string): NativeAddon {
  const candidates = BUILDS.map((build) => join(root, build));
  const file = candidates.find((candidate) => existsSync(candidate));
  if (file === undefined) {
    throw new InternalError(`kiln's native addon is not built: ${candidates.join(' and ')} do not exist`, {
      hint: `run \`npm install\` in ${root}: it builds the addon with node-gyp (g++, make and python3 are needed)`,
      file: candidates[0],
    });
  }
  try {
    // createRequire: an ES module, bundled or not, loads a .node file only through require.
    return createRequire(import.meta.url)(file) as NativeAddon;
  } catch (error) {
    throw new InternalError(`kiln's native addon ${file} does not load: ${(error as Error).message}`, {
      hint: `rebuild it for this Node (${process.version}) with \`npm run build:native\` in ${root}`,
      file,
      cause: error,
    });
  }
}

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) {
      throw new InternalError(`no package.json above ${from}: cannot find kiln's native addon`);
    }
  }
}
