import type { Digest } from '../content/index.ts';
import { NotFoundError } from '../errors/index.ts';
import { topologicalOrder, type ExecOp, type FileOp, type Vertex } from '../graph/index.ts';
import type { DiffId, ImageConfig } from '../image/index.ts';
import { parseDockerfile } from '../syntax/index.ts';
import { compile, type CompileOptions, type CompileResult } from './compile.ts';

/*
 * Test support for the frontend (imported by *.test.ts only): Dockerfiles compiled from
 * text against a fake image store that knows a busybox-like image and counts lookups.
 */

/** sha256 of `c` repeated: a well-formed digest for fakes. */
export function fakeDigest(c: string): Digest {
  return `sha256:${c.repeat(64)}` as Digest;
}

/** A config shaped like busybox's: PATH, Cmd, one layer, two history entries. */
export const BUSYBOX: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  created: '2024-09-26T21:31:42Z',
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
  rootfs: { type: 'layers', diff_ids: [fakeDigest('a') as string as DiffId] },
  history: [
    { created: '2024-09-26T21:31:42Z', created_by: 'BusyBox 1.37.0 (glibc), Debian 12' },
    { created: '2024-09-26T21:31:42Z', created_by: 'CMD ["sh"]', empty_layer: true },
  ],
};

/** A fake store: `images` by normalised name (busybox and alpine by default); every lookup recorded. */
export function fakeStore(images: Readonly<Record<string, ImageConfig>> = {}): {
  readonly resolveImage: CompileOptions['resolveImage'];
  readonly lookups: string[];
} {
  const known: Record<string, ImageConfig> = {
    'docker.io/library/busybox:latest': BUSYBOX,
    'docker.io/library/alpine:3.20': { ...BUSYBOX, rootfs: { type: 'layers', diff_ids: [fakeDigest('e') as string as DiffId] } },
    ...images,
  };
  const lookups: string[] = [];
  return {
    lookups,
    resolveImage: async (ref) => {
      lookups.push(ref);
      const config = known[ref];
      if (config === undefined) throw new NotFoundError(`image ${ref} not found`);
      const id = fakeDigest(ref.includes('alpine') ? 'f' : ref.includes('busybox') ? 'b' : 'd');
      return { id, ref, config };
    },
  };
}

/** What {@link build} takes: compile options without the store, and extra images. */
export interface BuildOptions extends Partial<Omit<CompileOptions, 'buildArgs'>> {
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly images?: Readonly<Record<string, ImageConfig>>;
}

/** Parses and compiles `text` (which must parse cleanly) for linux/amd64. */
export async function build(text: string, options: BuildOptions = {}): Promise<CompileResult & { readonly lookups: readonly string[] }> {
  const { ast, diagnostics } = parseDockerfile(text, { file: 'Dockerfile' });
  const error = diagnostics.find((d) => d.severity === 'error');
  if (error !== undefined) throw new Error(`test Dockerfile does not parse: ${error.message}`);
  const store = fakeStore(options.images);
  const result = await compile(ast, {
    file: 'Dockerfile',
    platform: { os: 'linux', architecture: 'amd64' },
    resolveImage: store.resolveImage,
    ...options,
    buildArgs: new Map(Object.entries(options.buildArgs ?? {})),
  });
  return { ...result, lookups: store.lookups };
}

/** The graph's vertices, inputs first. */
export function vertices(result: CompileResult): Vertex[] {
  return topologicalOrder([result.root]);
}

/** The names of the graph's vertices, inputs first. */
export function names(result: CompileResult): string[] {
  return vertices(result).map((v) => v.name);
}

/** The exec op of the vertex whose name contains `part`. */
export function execOf(result: CompileResult, part: string): ExecOp {
  const op = vertexNamed(result, part).op;
  if (op.kind !== 'exec') throw new Error(`${part} is a ${op.kind} vertex`);
  return op;
}

/** The file op of the vertex whose name contains `part`. */
export function fileOf(result: CompileResult, part: string): FileOp {
  const op = vertexNamed(result, part).op;
  if (op.kind !== 'file') throw new Error(`${part} is a ${op.kind} vertex`);
  return op;
}

/** The vertex whose name contains `part`. */
export function vertexNamed(result: CompileResult, part: string): Vertex {
  const found = vertices(result).filter((v) => v.name.includes(part));
  if (found.length !== 1) throw new Error(`${found.length} vertices named like ${JSON.stringify(part)}: ${names(result).join(' | ')}`);
  return found[0] as Vertex;
}

/** The history entries the build added (after the base image's). */
export function newHistory(result: CompileResult, base = BUSYBOX): readonly NonNullable<ImageConfig['history']>[number][] {
  return (result.config.history ?? []).slice((base.history ?? []).length);
}
