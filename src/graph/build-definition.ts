import type { ImageConfig } from '../image/index.ts';
import type { Vertex } from './op.ts';

/**
 * What the frontend compiles a Dockerfile into for one target stage: the vertex whose file
 * system is the image's, and the image config that goes with it.
 *
 * The image's layers are the base image's followed by one per `exec` and `file` vertex on the
 * chain of input 0 from `root` down to the stage's `image`/`scratch` source, bottom first;
 * `config.history` holds the base image's entries followed by one per instruction, with
 * `empty_layer: true` exactly for the instructions that make no layer, so its non-empty
 * entries pair with the layers in order. `config.rootfs.diff_ids` holds only the base image's:
 * the solver appends the rest. `created` of new history entries is left out: the exporter
 * sets it (the build's time, or SOURCE_DATE_EPOCH).
 */
export interface BuildDefinition {
  readonly root: Vertex;
  readonly config: ImageConfig;
  /** The target stage's name (or index as a string when it has none). */
  readonly stage: string;
}
