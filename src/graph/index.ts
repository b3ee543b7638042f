/**
 * The build IR: ops, vertices with canonical digests, and the frontend's output for one
 * target. Plain data; no I/O.
 */
export type {
  BindMountSpec,
  CacheMount,
  ContextSourceOp,
  CopyAction,
  ExecMount,
  ExecOp,
  FileAction,
  FileOp,
  HttpAction,
  ImageSourceOp,
  InlineFile,
  MkdirAction,
  MkfileAction,
  Op,
  ScratchOp,
  SecretMount,
  SshMount,
  TmpfsMount,
  Vertex,
  VertexDigest,
} from './op.ts';
export type { BuildDefinition } from './build-definition.ts';
export { canonicalJson } from './canonical-json.ts';
export { createVertex, GRAPH_SCHEMA, topologicalOrder, vertexDigest, type VertexMeta } from './vertex.ts';
