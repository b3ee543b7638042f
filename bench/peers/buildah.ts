import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { timeProcess, type ProcessTiming } from '../time-process.ts';
import type { Builder } from './builder.ts';
import { unmountUnder } from './unmount-under.ts';
import { unsupported } from './unsupported.ts';
import { which } from './which.ts';

const run = promisify(execFile);

/** Options of {@link createBuildahBuilder}. */
export interface BuildahBuilderOptions {
  /** A directory only this builder writes under (created): one storage root per fresh state. */
  readonly dir: string;
  /** busybox:latest as a docker archive, pulled into every fresh storage root. */
  readonly baseImage: string;
  readonly buildah: string;
}

/** Where Buildah is missing, why; else its binary. */
export async function findBuildah(): Promise<{ readonly buildah: string } | { readonly missing: string }> {
  const buildah = await which('buildah');
  return buildah === undefined ? { missing: 'buildah is not installed (Debian: buildah)' } : { buildah };
}

/** The isolations tried, in order: OCI (runc) as Buildah's default, chroot where OCI fails. */
const ISOLATIONS = ['oci', 'chroot'] as const;

/**
 * Buildah as a {@link Builder}: `buildah bud --layers --pull=never --network=none` on storage
 * of its own (`--root`, `--runroot` under `dir`); `fresh` starts a new storage root and pulls
 * busybox into it from the kiln-saved docker archive (untimed; never a registry:
 * `--pull=never` everywhere). The isolation is OCI unless a probe build fails with it, then
 * chroot; {@link Builder.description} says which. W7 is `buildah push IMAGE oci-archive:FILE`
 * (gzip layers; `--disable-compression` writes gzip ones too here, so no uncompressed save); W8 is `buildah from` + `buildah run true` (the container removed
 * untimed). Stages run one at a time (bud's default `--jobs 1`). Peak memory is GNU time's
 * figure for the buildah process and the children it waited for.
 */
export async function createBuildahBuilder(options: BuildahBuilderOptions): Promise<Builder> {
  await mkdir(options.dir, { recursive: true });
  const version = (await run(options.buildah, ['--version'])).stdout.trim();
  let states = 0;
  let storage: readonly string[] | undefined;
  let containers = 0;
  const current = (): readonly string[] => {
    if (storage === undefined) throw new Error('Buildah builder: fresh() was not called');
    return storage;
  };
  const buildah = (args: readonly string[]): Promise<ProcessTiming> => timeProcess([options.buildah, ...current(), ...args]);
  const fresh = async (): Promise<void> => {
    const n = states++;
    storage = ['--root', join(options.dir, `root-${n}`), '--runroot', join(options.dir, `run-${n}`)];
    await buildah(['pull', '--quiet', `docker-archive:${options.baseImage}`]);
  };
  const isolation = await probeIsolation(options.dir, fresh, (iso, context) =>
    buildah(['bud', '--layers', '--pull=never', '--network=none', `--isolation=${iso}`, '-t', 'kiln-bench/probe', '-f', join(context, 'Dockerfile'), context]),
  );
  let driver = '';
  return {
    name: 'Buildah',
    get description() {
      return `${version}, storage driver ${driver || 'unknown'}, isolation ${isolation}`;
    },
    // `push --disable-compression` still writes gzip layers with this Buildah (1.28), so gzip only.
    saves: { gzip: 'buildah push IMAGE oci-archive:FILE' },
    async fresh() {
      await fresh();
      driver = await run(options.buildah, [...current(), 'info', '--format', '{{.store.GraphDriverName}}']).then(
        ({ stdout }) => stdout.trim(),
        () => 'unknown',
      );
    },
    build: (context, tag) =>
      buildah(['bud', '--layers', '--pull=never', '--network=none', `--isolation=${isolation}`, '-t', tag, '-f', join(context, 'Dockerfile'), context]),
    saveImage(tag, file, compression) {
      if (compression !== 'gzip') return Promise.reject(unsupported('Buildah', compression));
      return buildah(['push', '--quiet', tag, `oci-archive:${file}`]);
    },
    async startTrue() {
      const name = `kiln-bench-${process.pid}-${containers++}`;
      const from = await buildah(['from', '--pull=never', '--quiet', '--name', name, 'busybox']);
      try {
        const started = await buildah(['run', `--isolation=${isolation}`, '--network=none', name, 'true']);
        return from.ms + started.ms;
      } finally {
        await buildah(['rm', name]);
      }
    },
    async close() {
      await unmountUnder(options.dir);
    },
  };

  /** The first isolation in {@link ISOLATIONS} a one-RUN build succeeds with. */
  async function probeIsolation(
    dir: string,
    start: () => Promise<void>,
    probe: (isolation: string, context: string) => Promise<ProcessTiming>,
  ): Promise<(typeof ISOLATIONS)[number]> {
    const context = join(dir, 'probe-context');
    await mkdir(context, { recursive: true });
    await writeFile(join(context, 'Dockerfile'), 'FROM busybox\nRUN true\n');
    const failures: string[] = [];
    for (const candidate of ISOLATIONS) {
      await start();
      try {
        await probe(candidate, context);
        return candidate;
      } catch (error) {
        failures.push(`${candidate}: ${(error as Error).message.split('\n').slice(-3).join(' ')}`);
      }
    }
    throw new Error(`buildah cannot run a RUN step here with any isolation: ${failures.join('; ')}`);
  }
}
