import { copyFile, cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

const REPO = new URL('../../', import.meta.url).pathname;

/** The files of the native build the bundle loads: the addon and kiln-init beside it. */
const NATIVE_FILES = ['kiln_native.node', 'kiln-init'];

/**
 * Copies the built kiln (package.json, the bundle in dist/, and the addon and kiln-init from
 * native/build/Release) into `into`, a package of its own, and returns its CLI's path. The
 * suite runs that copy, so that a rebuild of dist/ in the checkout while it measures (others
 * work in the same checkout) neither breaks a run nor mixes two builds in one table. The
 * bundle finds the addon from the nearest package.json above it (src/native/load-native.ts).
 */
export async function snapshotKilnPackage(into: string): Promise<string> {
  await mkdir(join(into, 'native', 'build', 'Release'), { recursive: true });
  await copyFile(join(REPO, 'package.json'), join(into, 'package.json'));
  await cp(join(REPO, 'dist'), join(into, 'dist'), { recursive: true });
  for (const file of NATIVE_FILES) {
    await copyFile(join(REPO, 'native', 'build', 'Release', file), join(into, 'native', 'build', 'Release', file));
  }
  return join(into, 'dist', 'cli.cjs');
}
