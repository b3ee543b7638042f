import type { History } from '../image/index.ts';
import { goQuote } from '../syntax/index.ts';
import type { StageState } from './stage-state.ts';

/** The history comment BuildKit's Dockerfile frontend gives every entry it adds. */
export const HISTORY_COMMENT = 'buildkit.dockerfile.v0';

/**
 * Appends a history entry for an instruction (BuildKit's commitToHistory): `created_by` as
 * BuildKit writes it (with ` # buildkit` after RUN, COPY and ADD), `empty_layer` for the
 * instructions that make no layer, no `created` (the exporter sets it).
 */
export function commitToHistory(state: StageState, createdBy: string, withLayer: boolean, fromBuildKitState = false): void {
  const entry: History = {
    created_by: fromBuildKitState ? `${createdBy} # buildkit` : createdBy,
    comment: HISTORY_COMMENT,
    ...(withLayer ? {} : { empty_layer: true }),
  };
  state.image = { ...state.image, history: [...(state.image.history ?? []), entry] };
}

/** Go's `%v` of a string slice: `[a b c]`. */
export function goList(values: readonly string[]): string {
  return `[${values.join(' ')}]`;
}

/** Go's `%q` of a string slice: `["a" "b c"]`. */
export function goQuotedList(values: readonly string[]): string {
  return `[${values.map(goQuote).join(' ')}]`;
}
