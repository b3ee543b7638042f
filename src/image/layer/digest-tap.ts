import { Transform } from 'node:stream';
import { Digester } from '../../content/index.ts';

/**
 * A pass-through that feeds every byte to `digester` on its way: how one pass over a layer
 * yields both its DiffID and its blob digest. Bytes are neither copied nor held.
 */
export function digestTap(digester: Digester): Transform {
  return new Transform({
    highWaterMark: 1 << 16,
    transform(chunk: Buffer, _encoding, done) {
      digester.update(chunk);
      done(null, chunk);
    },
  });
}
