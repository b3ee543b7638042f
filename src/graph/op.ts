import type { Digest } from '../content/index.ts';
import type { SourceRange } from '../errors/index.ts';

/**
 * The build IR: what the frontend compiles a Dockerfile into and the solver runs. Plain
 * readonly data with a `kind` discriminant; no I/O. A {@link Vertex} is one op with its
 * inputs; its `digest` covers the op and the inputs' digests, so two identical steps (the
 * same base, the same command, the same environment) are one vertex and run once.
 *
 * Every op that yields a file system (all but `context`) yields exactly one: `image` and
 * `scratch` a base, `exec` and `file` their input 0 with their changes on top (one layer).
 */
export type Op = ImageSourceOp | ScratchOp | ContextSourceOp | ExecOp | FileOp;

/** `FROM name`: an image from the store, resolved by the frontend (it needs its config). */
export interface ImageSourceOp {
  readonly kind: 'image';
  /** The image ID (config digest) the name resolved to: what the key depends on. */
  readonly id: Digest;
  /** The name as resolved (`docker.io/library/busybox:latest`), for display. */
  readonly ref: string;
}

/** `FROM scratch`: the empty file system. */
export interface ScratchOp {
  readonly kind: 'scratch';
}

/**
 * The build context (a local directory, filtered by the ignore file). Its digest is its
 * name only: what a step reads of it is hashed by that step's cache map (src/cache), from
 * the files the step selects.
 */
export interface ContextSourceOp {
  readonly kind: 'context';
  /** `context` for the main context (named contexts later). */
  readonly name: string;
}

/** A RUN step: a command in the sandbox on input 0's file system. */
export interface ExecOp {
  readonly kind: 'exec';
  /** The whole command (SHELL + shell form, or the exec form), expanded as BuildKit does. */
  readonly argv: readonly string[];
  /** `NAME=value`: the image's Env with the build args in scope, the default PATH. */
  readonly env: readonly string[];
  /**
   * The proxy variables from undeclared proxy build args (`HTTP_PROXY`, …): in the command's
   * environment, but, as in BuildKit, not in the cache key, the config or the history.
   */
  readonly proxyEnv?: readonly string[];
  /** Absolute working directory (WORKDIR), created when missing. */
  readonly cwd: string;
  /** USER as written after expansion (`app`, `1000`, `app:staff`); resolved in the rootfs at run time; '' for root. */
  readonly user: string;
  /** `--network`: 'default' is a private namespace with loopback (kiln's default). */
  readonly network: 'default' | 'none' | 'host';
  /** `--security`: 'insecure' needs `--allow security.insecure`. */
  readonly security: 'sandbox' | 'insecure';
  /** `--mount` entries in order. */
  readonly mounts: readonly ExecMount[];
  /**
   * Heredoc files the command needs (a shebang heredoc becomes a script file): written
   * into a private directory bound into the sandbox, never into the layer.
   */
  readonly files: readonly InlineFile[];
  /** Paths declared with VOLUME before this step, in the image config: BuildKit keeps their changes. */
  readonly volumes: readonly string[];
}

/** A file the op carries in itself (heredoc bodies). */
export interface InlineFile {
  /** Absolute path where the sandbox sees it. */
  readonly path: string;
  readonly data: string;
  readonly mode: number;
}

/** `RUN --mount=…`, after parsing and validation. */
export type ExecMount = CacheMount | BindMountSpec | TmpfsMount | SecretMount | SshMount;

export interface CacheMount {
  readonly kind: 'cache';
  readonly target: string;
  /** The cache's identity across builds (`id=`, else the target). */
  readonly id: string;
  readonly sharing: 'shared' | 'private' | 'locked';
  /** Index into the vertex's inputs of the state seeding the cache (`from=`), or undefined. */
  readonly from: number | undefined;
  readonly source: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly readonly: boolean;
}

export interface BindMountSpec {
  readonly kind: 'bind';
  readonly target: string;
  /** Index into the vertex's inputs: the context, a stage or an image. */
  readonly from: number;
  /** Path inside `from` (clean, relative to its root). */
  readonly source: string;
  /** rw: writes are allowed and discarded. */
  readonly readwrite: boolean;
}

export interface TmpfsMount {
  readonly kind: 'tmpfs';
  readonly target: string;
  /** Bytes; 0 for the kernel's default. */
  readonly size: number;
}

export interface SecretMount {
  readonly kind: 'secret';
  readonly id: string;
  /** File path in the sandbox (default /run/secrets/<id>), or undefined with only `env`. */
  readonly target: string | undefined;
  readonly env: string | undefined;
  readonly required: boolean;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface SshMount {
  readonly kind: 'ssh';
  readonly id: string;
  readonly target: string;
  readonly required: boolean;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** COPY, ADD and WORKDIR's mkdir: file-system actions on input 0, in order, as one layer. */
export interface FileOp {
  readonly kind: 'file';
  readonly actions: readonly FileAction[];
}

export type FileAction = CopyAction | MkdirAction | MkfileAction | HttpAction;

/**
 * Copies `sources` from input `from` to `dest` on input 0, with the rules of BuildKit's
 * COPY (fsutil copy): a source directory copies its contents; wildcards; `dest` ending in
 * `/` (or several sources) is a directory; missing parents are created.
 */
export interface CopyAction {
  readonly kind: 'copy';
  /** Index into the vertex's inputs (the context, a stage, an image). */
  readonly from: number;
  /** Paths inside `from`, as written (may hold wildcards); relative to its root. */
  readonly sources: readonly string[];
  /** Absolute destination after expansion and WORKDIR resolution; a trailing `/` kept. */
  readonly dest: string;
  /** `--chown` as written after expansion (`app:staff`, `1000`); resolved in input 0's /etc files. */
  readonly chown: string | undefined;
  /** `--chmod` as written (octal `0755` or symbolic `u+x,g-w`). */
  readonly chmod: string | undefined;
  /** `--exclude` patterns (patternmatcher syntax). */
  readonly excludes: readonly string[];
  /** `--parents`: keep each source's path below the root (or below a `/./` marker). */
  readonly parents: boolean;
  /** `--link`: copy onto an empty layer independent of input 0. */
  readonly link: boolean;
  /** ADD: a local tar archive source is extracted into `dest` (detected by content). */
  readonly unpack: boolean;
  /** Follow a symlink named by a source (true for COPY and ADD, as BuildKit). */
  readonly followSymlinks: boolean;
}

/** WORKDIR: the directory made when missing, owned by the current USER. */
export interface MkdirAction {
  readonly kind: 'mkdir';
  readonly path: string;
  readonly mode: number;
  /** USER at that point ('' for root): the owner of the directories made. */
  readonly chown: string;
}

/** A heredoc COPY/ADD source: `data` written at `path`. */
export interface MkfileAction {
  readonly kind: 'mkfile';
  readonly path: string;
  readonly data: string;
  readonly mode: number;
  readonly chown: string | undefined;
}

/** ADD https://…: downloaded, checked against `checksum` when given, written into `dest`. */
export interface HttpAction {
  readonly kind: 'http';
  readonly url: string;
  readonly dest: string;
  readonly checksum: Digest | undefined;
  readonly chown: string | undefined;
  readonly chmod: string | undefined;
  /**
   * The downloaded file's name (the URL path's last element, `__unnamed__` when it has
   * none): `dest` is a destination as in {@link CopyAction}, so a `dest` ending in `/` or
   * naming a directory receives `dest/filename`.
   */
  readonly filename?: string;
}

/**
 * One step of the graph: an op and its inputs. `digest` is sha256 of canonical JSON with a
 * schema version over the op and the inputs' digests: equal digests mean the same step.
 */
export interface Vertex {
  readonly digest: VertexDigest;
  readonly op: Op;
  readonly inputs: readonly Vertex[];
  /** What progress shows: `[stage-1 2/4] RUN make`, `[internal] load build context`. */
  readonly name: string;
  /** Where in the Dockerfile the step comes from (none for sources the frontend made up). */
  readonly range: SourceRange | undefined;
  /** The Dockerfile the range is in. */
  readonly file: string | undefined;
  /**
   * `--no-cache-filter` named this step's stage: run it even when the cache has a result
   * (BuildKit's IgnoreCache). Not part of the digest; absent means false.
   */
  readonly noCache?: boolean;
}

declare const vertexDigestBrand: unique symbol;
/** The digest of a vertex: made only by the graph builder. */
export type VertexDigest = string & { readonly [vertexDigestBrand]: 'VertexDigest' };
