import { createHash } from 'node:crypto';
import type { SourceRange } from '../errors/index.ts';
import { canonicalJson } from './canonical-json.ts';
import type { Op, Vertex, VertexDigest } from './op.ts';

/** Bumped whenever the meaning of an op's fields changes, so old digests never match new ops. */
export const GRAPH_SCHEMA = 1;

/** What {@link createVertex} takes besides the op and its inputs. */
export interface VertexMeta {
  readonly name: string;
  readonly range?: SourceRange;
  readonly file?: string;
  /** See {@link Vertex.noCache}. */
  readonly noCache?: boolean;
}

/**
 * Makes a vertex: `digest` is sha256 of the canonical JSON of `{schema, op, inputs}` (the
 * inputs by digest), so it depends on what the step does and on what it builds on, never on
 * its display name or source range.
 */
export function createVertex(op: Op, inputs: readonly Vertex[], meta: VertexMeta): Vertex {
  return {
    digest: vertexDigest(op, inputs),
    op,
    inputs,
    name: meta.name,
    range: meta.range,
    file: meta.file,
    ...(meta.noCache === true ? { noCache: true } : {}),
  };
}

/** The digest {@link createVertex} gives `op` on `inputs`. */
export function vertexDigest(op: Op, inputs: readonly Vertex[]): VertexDigest {
  const text = canonicalJson({ schema: GRAPH_SCHEMA, op, inputs: inputs.map((i) => i.digest) });
  return `sha256:${createHash('sha256').update(text).digest('hex')}` as VertexDigest;
}

/**
 * Every vertex `roots` depend on, each once, inputs before the vertices that use them.
 */
export function topologicalOrder(roots: readonly Vertex[]): Vertex[] {
  const order: Vertex[] = [];
  const done = new Set<string>();
  // An explicit stack: a chain of hundreds of steps must not overflow the call stack.
  const stack: { vertex: Vertex; next: number }[] = roots.map((vertex) => ({ vertex, next: 0 })).reverse();
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (done.has(top.vertex.digest)) {
      stack.pop();
      continue;
    }
    const input = top.vertex.inputs[top.next];
    if (input !== undefined) {
      top.next++;
      if (!done.has(input.digest)) stack.push({ vertex: input, next: 0 });
      continue;
    }
    stack.pop();
    done.add(top.vertex.digest);
    order.push(top.vertex);
  }
  return order;
}
