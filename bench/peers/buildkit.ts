import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { timeProcess, type ProcessTiming } from '../time-process.ts';
import type { Builder } from './builder.ts';
import { PrivateDockerd } from './dockerd.ts';
import { unsupported } from './unsupported.ts';
import { which } from './which.ts';

const run = promisify(execFile);

/** Options of {@link createBuildKitBuilder}. */
export interface BuildKitBuilderOptions {
  /** A directory only this builder writes under (created): one subdirectory per daemon started. */
  readonly dir: string;
  /** busybox:latest as a docker-loadable tar, loaded into every fresh daemon. */
  readonly baseImage: string;
  readonly dockerd: string;
  /** A docker client that builds with BuildKit (see {@link findBuildKitClient}). */
  readonly client: string;
}

/**
 * Where BuildKit is missing, why; else the dockerd binary and a docker client that builds
 * through BuildKit. Debian's 20.10 client (/usr/bin/docker) has BuildKit built in; clients
 * from 23 on hand `DOCKER_BUILDKIT=1 docker build` to the buildx plugin and fail without it,
 * so a newer client earlier in PATH (as /usr/local/bin/docker here) is passed over.
 */
export async function findBuildKit(): Promise<{ readonly dockerd: string; readonly client: string } | { readonly missing: string }> {
  const dockerd = await which('dockerd');
  if (dockerd === undefined) return { missing: 'dockerd is not installed (Debian: docker.io)' };
  const candidates = [...new Set(['/usr/bin/docker', await which('docker')])].filter((c): c is string => c !== undefined);
  const client = await findBuildKitClient(candidates);
  if (client === undefined) {
    return { missing: `no docker client here builds with BuildKit (tried ${candidates.join(', ') || 'none'}: 20.10 or older, or buildx installed)` };
  }
  return { dockerd, client };
}

/** The first of `candidates` that runs and builds with BuildKit: version 20.x or older, or with buildx. */
export async function findBuildKitClient(candidates: readonly string[]): Promise<string | undefined> {
  for (const candidate of candidates) {
    const version = await run(candidate, ['--version']).then(
      ({ stdout }) => /version (\d+)\./.exec(stdout)?.[1],
      () => undefined,
    );
    if (version === undefined) continue;
    if (Number(version) < 23) return candidate;
    const buildx = await run(candidate, ['buildx', 'version']).then(
      () => true,
      () => false,
    );
    if (buildx) return candidate;
  }
  return undefined;
}

/**
 * BuildKit as a {@link Builder}: Debian's dockerd with `DOCKER_BUILDKIT=1`, a daemon the suite
 * starts itself on a private socket ({@link PrivateDockerd}). `fresh` stops the current daemon
 * and starts a new one with an empty data root, loads busybox from the kiln-saved tar and runs
 * one untimed build that touches no base image (FROM scratch, one COPY), so that a cold build
 * meets a warm daemon with no build cache, as in CI; a prune would delete inodes while others
 * are measured (bench/build.ts). Builds run `docker build --network=none --progress=plain`;
 * their peak memory is dockerd's VmHWM since that daemon started (containerd and runc are not
 * counted). W7 is `docker save`, which writes uncompressed layers only; W8 is
 * `docker run --rm --network=none busybox true`.
 */
export async function createBuildKitBuilder(options: BuildKitBuilderOptions): Promise<Builder> {
  await mkdir(options.dir, { recursive: true });
  const dockerConfig = join(options.dir, 'client-config');
  await mkdir(dockerConfig, { recursive: true });
  // No ~/.docker: neither its credentials nor its settings are wanted here.
  const env = { DOCKER_BUILDKIT: '1', DOCKER_CONFIG: dockerConfig, BUILDKIT_PROGRESS: 'plain' };
  const warmup = join(options.dir, 'warm-up-context');
  await mkdir(warmup, { recursive: true });
  await writeFile(join(warmup, 'Dockerfile'), 'FROM scratch\nCOPY hello /hello\n');
  await writeFile(join(warmup, 'hello'), 'hello\n');
  let daemons = 0;
  let daemon: PrivateDockerd | undefined;
  let driver = 'not started yet';
  const current = (): PrivateDockerd => {
    if (daemon === undefined) throw new Error('BuildKit builder: fresh() was not called');
    return daemon;
  };
  const docker = (args: readonly string[]): Promise<ProcessTiming> => timeProcess([options.client, '-H', current().host, ...args], { env });
  const clientVersion = (await run(options.client, ['--version'])).stdout.trim();
  const daemonVersion = (await run(options.dockerd, ['--version'])).stdout.trim();
  const builder: Builder = {
    name: 'BuildKit',
    get description() {
      return `${daemonVersion} (storage driver ${driver}), client ${options.client} (${clientVersion}), DOCKER_BUILDKIT=1`;
    },
    saves: { uncompressed: 'docker save -o FILE IMAGE' },
    async fresh() {
      await daemon?.stop();
      daemon = await PrivateDockerd.start({ dir: join(options.dir, `daemon-${daemons++}`), dockerd: options.dockerd });
      await docker(['load', '-i', options.baseImage]);
      await docker(['build', '--network=none', '-t', 'kiln-bench/warm-up', warmup]);
      driver = (await run(options.client, ['-H', current().host, 'info', '--format', '{{.Driver}}'], { env: { ...process.env, ...env } })).stdout.trim();
    },
    async build(context, tag) {
      const timing = await docker(['build', '--network=none', '-t', tag, context]);
      return { ...timing, peakRssKiB: current().peakRssKiB() };
    },
    saveImage(tag, file, compression) {
      if (compression !== 'uncompressed') return Promise.reject(unsupported('BuildKit', compression));
      return docker(['save', '-o', file, tag]);
    },
    async startTrue() {
      return (await docker(['run', '--rm', '--network=none', 'busybox', 'true'])).ms;
    },
    async close() {
      await daemon?.stop();
    },
  };
  return builder;
}
