import type { Digest } from '../content/index.ts';
import { KilnError, type KilnErrorOptions } from '../errors/index.ts';
import { createVertex, type Vertex } from '../graph/index.ts';
import { formatReference, parseReference, withDefaultTag, type ImageConfig } from '../image/index.ts';
import { fail } from './located.ts';
import type { TargetPlatform } from './platform.ts';
import type { StageState } from './stage-state.ts';
import { stepName } from './vertex-name.ts';

/** PATH as BuildKit sets it when the base image sets none (util/system DefaultPathEnvUnix). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What the frontend needs from the image store for a FROM (CompileOptions.resolveImage). */
export type ImageResolver = (ref: string, signal?: AbortSignal) => Promise<{ id: Digest; ref: string; config: ImageConfig }>;

/** The config of `FROM scratch` (BuildKit's emptyImage): the platform, WorkingDir `/`, the default PATH. */
export function emptyImage(platform: TargetPlatform): ImageConfig {
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined || platform.variant === '' ? {} : { variant: platform.variant }),
    config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [] },
  };
}

/** The vertex of the empty file system. */
export function scratchVertex(): Vertex {
  return createVertex({ kind: 'scratch' }, [], { name: '[internal] scratch' });
}

/**
 * Resolves a state's base (BuildKit's resolveBaseImage): `scratch` is the empty file system;
 * any other name must be an image reference, normalised (`busybox` →
 * `docker.io/library/busybox:latest`), and when the build needs the state, looked up with
 * `resolve` for its ID and config. An image without layers counts as scratch. The image
 * vertex is named `[stage n/N] FROM ref`. A state only a COPY --from or a mount names is
 * complete once resolved.
 * @throws DockerfileError at the FROM for a malformed reference; an error of the resolver's
 *   class (NotFoundError, …) at the FROM when the image cannot be had.
 */
export async function resolveBase(
  state: StageState,
  platform: TargetPlatform,
  resolve: ImageResolver,
  file: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const where = { file, range: state.range };
  state.resolved = state.reachable;
  if (state.baseName === 'scratch') {
    state.vertex = scratchVertex();
    state.image = emptyImage(platform);
    if (state.unregistered) state.dispatched = true;
    return;
  }
  const written = state.baseName;
  let normalised: string;
  try {
    normalised = formatReference(withDefaultTag(parseReference(written)));
  } catch (error) {
    return fail(where, `failed to parse stage name ${JSON.stringify(written)}: ${(error as Error).message}`, 'name an image (name[:tag][@digest]) or an earlier stage', error);
  }
  state.baseName = normalised;
  if (!state.reachable) return;
  let resolved: Awaited<ReturnType<ImageResolver>>;
  try {
    resolved = await resolve(normalised, signal);
  } catch (error) {
    throw located(error, `${written}: ${(error as Error).message}`, where);
  }
  state.baseName = resolved.ref;
  const { created: _created, ...config } = resolved.config;
  state.image = config;
  const layers = config.rootfs.diff_ids.length > 0 || (config.history ?? []).some((h) => h.empty_layer !== true);
  state.vertex = layers
    ? createVertex({ kind: 'image', id: resolved.id, ref: resolved.ref }, [], { name: stepName(state, `FROM ${resolved.ref}`), range: state.range, file })
    : scratchVertex();
  if (state.unregistered) state.dispatched = true;
}

/** The resolver's error with the place in the Dockerfile added, its class kept. */
function located(error: unknown, message: string, where: { file: string; range: StageState['range'] }): unknown {
  if (!(error instanceof KilnError)) return error;
  const Class = error.constructor as new (message: string, options: KilnErrorOptions) => KilnError;
  return new Class(message, { cause: error, file: where.file, range: where.range, ...(error.hint === undefined ? {} : { hint: error.hint }) });
}
