import { join } from 'node:path';
import { createBuildahBuilder, findBuildah } from './buildah.ts';
import type { Builder } from './builder.ts';
import { createBuildKitBuilder, findBuildKit } from './buildkit.ts';

/** What {@link setUpPeers} found: the peers ready to measure, and why the others are not. */
export interface Peers {
  readonly builders: readonly Builder[];
  /** One sentence per peer left out: not installed, or failed to start. */
  readonly skipped: readonly string[];
}

/**
 * Sets up every installed peer (BuildKit through a private dockerd, Buildah) under `dir`,
 * loading busybox from `baseImage` (a kiln-saved tar). Installs nothing: a peer that is not
 * installed, or does not work here, is skipped with the reason; none is ever required. Each
 * peer returned must be closed by the caller; none is started yet (`fresh()` starts it).
 */
export async function setUpPeers(dir: string, baseImage: string, log: (line: string) => void): Promise<Peers> {
  const builders: Builder[] = [];
  const skipped: string[] = [];
  const buildKit = await findBuildKit();
  if ('missing' in buildKit) {
    skipped.push(`BuildKit skipped: ${buildKit.missing}`);
  } else {
    builders.push(await createBuildKitBuilder({ dir: join(dir, 'buildkit'), baseImage, ...buildKit }));
  }
  const buildah = await findBuildah();
  if ('missing' in buildah) {
    skipped.push(`Buildah skipped: ${buildah.missing}`);
  } else {
    try {
      builders.push(await createBuildahBuilder({ dir: join(dir, 'buildah'), baseImage, buildah: buildah.buildah }));
    } catch (error) {
      skipped.push(`Buildah skipped: ${(error as Error).message}`);
    }
  }
  for (const line of skipped) log(line);
  return { builders, skipped };
}
