import type { ContentStore } from '../content/index.ts';
import { openCopySnapshotter } from './copy-snapshotter.ts';
import { openOverlaySnapshotter, overlaySupported } from './overlay-snapshotter.ts';
import type { Snapshotter } from './snapshotter.ts';

/**
 * The snapshotter for kiln's root on this kernel: overlayfs where the kernel has it, full
 * copies otherwise (both keep their snapshots under `<root>/snapshots/`).
 */
export async function openSnapshotter(options: { readonly root: string; readonly content: ContentStore }): Promise<Snapshotter> {
  return overlaySupported() ? openOverlaySnapshotter(options) : openCopySnapshotter(options);
}
