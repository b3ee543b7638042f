import type { LayerCompression } from './builder.ts';

/** The error of a builder asked to save with a layer compression it cannot write. */
export function unsupported(builder: string, compression: LayerCompression): Error {
  return new Error(`${builder} cannot save an image with ${compression} layers`);
}

