import { createHash } from 'node:crypto';
import type { DiffId } from '../image/index.ts';

declare const chainIdBrand: unique symbol;

/**
 * The identity of a stack of layers (image-spec config.md "Layer ChainID"): the DiffID of the
 * bottom layer, then for each layer above `sha256(parentChainId + " " + diffId)`. Names the
 * committed snapshot that holds the stack unpacked. Made only by {@link chainIds}.
 */
export type ChainId = string & { readonly [chainIdBrand]: 'ChainId' };

/**
 * The ChainID of every prefix of `diffIds` (bottom layer first), in the same order: the last
 * one identifies the whole stack. An empty list has none.
 */
export function chainIds(diffIds: readonly DiffId[]): ChainId[] {
  const ids: ChainId[] = [];
  let previous: ChainId | undefined;
  for (const diffId of diffIds) {
    previous =
      previous === undefined
        ? (diffId as string as ChainId)
        : (`sha256:${createHash('sha256').update(`${previous} ${diffId}`).digest('hex')}` as ChainId);
    ids.push(previous);
  }
  return ids;
}
