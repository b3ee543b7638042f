import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { cacheBlobs, CacheRecords, defaultCachePolicy, loadContextFilter, openStatCache, pruneBuildCache, type LayerRef, type StatCache } from '../cache/index.ts';
import type { Digest } from '../content/index.ts';
import { ConflictError, DockerfileError, InputError, UsageError } from '../errors/index.ts';
import { recordBuiltImage, writeOutput, type BuildOutput } from '../exporter/index.ts';
import { compile } from '../frontend/index.ts';
import { decodeManifest, hostArchitecture, MediaType, type ImageConfig } from '../image/index.ts';
import { LinuxExecutor, type Executor, type RunResources } from '../sandbox/index.ts';
import { lazySnapshotter, openSnapshotter, overlaySupported } from '../snapshot/index.ts';
import { cleanAbandonedMounts, createSolver, type ProgressSink } from '../solver/index.ts';
import { acquireLock, normaliseName, readImageConfig, resolveImage, type ImageStore } from '../store/index.ts';
import { checkSyntaxDirective, parseDockerfile, type Diagnostic } from '../syntax/index.ts';

/** What `kiln build` asks for, already parsed from the command line. */
export interface BuildRequest {
  /** The context directory, or undefined for a build without one (Dockerfile from stdin, no context). */
  readonly contextDir: string | undefined;
  /** The Dockerfile: its path as named (for messages and the ignore file) and its text. */
  readonly dockerfile: { readonly path: string | undefined; readonly text: string };
  readonly tags: readonly string[];
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly labels: ReadonlyMap<string, string>;
  readonly target: string | undefined;
  readonly noCache: boolean;
  readonly noCacheFilter: readonly string[];
  readonly platform: string | undefined;
  readonly outputs: readonly BuildOutput[];
  readonly resources: RunResources | undefined;
  readonly allow: { readonly networkHost: boolean; readonly securityInsecure: boolean };
  readonly maxParallelism: number | undefined;
  /** `--secret`: id → where its value is (a file or an environment variable of the client). */
  readonly secrets: ReadonlyMap<string, { readonly file: string } | { readonly env: string }>;
  /** `--ssh`: id → the agent socket to forward. */
  readonly ssh: ReadonlyMap<string, string>;
  /** SOURCE_DATE_EPOCH (seconds), from the environment or a build arg. */
  readonly sourceDateEpoch: number | undefined;
  readonly progress: ProgressSink;
  /** Warnings (unused build args…) as they are found. */
  readonly warn: (diagnostic: Diagnostic) => void;
  readonly stdout: NodeJS.WritableStream;
  readonly signal: AbortSignal;
}

/** What a build made. */
export interface BuildResult {
  /** The image ID (config digest). */
  readonly id: Digest;
  readonly manifest: { readonly digest: Digest; readonly size: number; readonly mediaType: string };
  readonly tags: readonly string[];
}

/**
 * `kiln build`, embedded: parses and compiles the Dockerfile, solves the target's graph (the
 * cache first, the sandbox on a miss), records the image in the store (tagged with every `-t`,
 * each a new version of its tag), then writes the outputs. A failed build records and tags
 * nothing; the cache keeps every step that finished.
 */
export async function runBuild(store: ImageStore, request: BuildRequest): Promise<BuildResult> {
  const { signal } = request;
  const file = request.dockerfile.path ?? 'Dockerfile';
  const platform = nativePlatform(request.platform);
  const tags = [...new Set([...request.tags, ...request.outputs.flatMap((o) => (o.type === 'image' ? o.names : []))].map((t) => normaliseName(t)))];
  const { ast, diagnostics } = parseDockerfile(request.dockerfile.text, { file });
  const error = diagnostics.find((d) => d.severity === 'error') ?? checkSyntaxDirective(ast);
  if (error !== undefined) {
    throw new DockerfileError(error.message, { file, range: error.range });
  }
  for (const d of diagnostics) request.warn(d);

  const compiled = await compile(ast, {
    file,
    buildArgs: request.buildArgs,
    ...(request.target === undefined ? {} : { target: request.target }),
    platform,
    labels: request.labels,
    // An empty filter would mean every stage (BuildKit's `--no-cache-filter=`): only a given one is passed.
    ...(request.noCacheFilter.length === 0 ? {} : { noCacheFilter: request.noCacheFilter }),
    resolveImage: async (ref: string) => {
      const resolved = await resolveImage(store, ref);
      const config: ImageConfig = await readImageConfig(store.content, resolved.record);
      return { id: resolved.record.id, ref: resolved.tag ?? ref, config };
    },
    signal,
  });
  for (const d of compiled.diagnostics) request.warn(d);

  const lease = await store.lease();
  try {
    const snapshotter = lazySnapshotter(overlaySupported() ? 'overlay' : 'copy', () => openSnapshotter({ root: store.root, content: store.content }));
    const cache = await CacheRecords.open(store.root);
    const mountsDir = join(store.root, 'mounts');
    await cleanAbandonedMounts(mountsDir);
    const filter = request.contextDir === undefined ? undefined : await loadContextFilter(request.contextDir, request.dockerfile.path);
    // One stat cache per context directory: an unchanged file is never read twice.
    const statCache =
      request.contextDir === undefined
        ? undefined
        : await openStatCache(join(store.root, 'cache', 'stat', `${createHash('sha256').update(request.contextDir).digest('hex')}.bin`));
    const solver = createSolver({
      snapshotter,
      executor: lazyExecutor(() => store.tempDir()),
      content: store.content,
      cache,
      contextSource: (name) => (name === 'context' && request.contextDir !== undefined ? { dir: request.contextDir, filter } : undefined),
      imageLayers: (id) => imageLayers(store, id),
      touchBlob: (digest) => store.touch(digest),
      ...(statCache === undefined ? {} : { statCache }),
      secrets: (id) => readSecret(request.secrets.get(id)),
      lockFile: async (path, wait, lockSignal) => {
        try {
          const lock = await acquireLock(path, { timeoutMs: wait ? 24 * 3600_000 : 0, ...(lockSignal === undefined ? {} : { signal: lockSignal }) });
          return () => lock.release();
        } catch (error) {
          if (!wait && error instanceof ConflictError) return undefined;
          throw error;
        }
      },
      sshAgents: (id) => request.ssh.get(id),
      mountsDir,
      cacheMountsDir: join(store.root, 'cache', 'mounts'),
      tempDir: () => store.tempDir(),
    });
    const solved = await solveAndSave(statCache, () => solver.solve(compiled.root, {
      signal,
      progress: request.progress,
      noCache: () => request.noCache,
      allow: request.allow,
      ...(request.maxParallelism === undefined ? {} : { maxParallelism: request.maxParallelism }),
      ...(request.resources === undefined ? {} : { resources: request.resources }),
      ...(request.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: request.sourceDateEpoch }),
      rewriteTimestamp: request.sourceDateEpoch !== undefined && request.outputs.some((o) => 'rewriteTimestamp' in o && o.rewriteTimestamp),
    }));
    const built = await recordBuiltImage(store, compiled.config, solved.layers, {
      tags,
      ...(request.sourceDateEpoch === undefined ? {} : { epoch: request.sourceDateEpoch }),
    });
    await applyCachePolicy(store, cache);
    const names = tags.length > 0 ? tags : [built.record.id];
    for (const output of request.outputs) {
      await writeOutput(store, output, { names, id: built.record.id, config: built.config, layers: solved.layers }, request.stdout as never, signal);
    }
    return { id: built.record.id, manifest: built.composed.manifest, tags };
  } finally {
    await lease.release();
  }
}

/** The sandbox executor, its state directory made on the first run (a cached build makes none). */
function lazyExecutor(stateDir: () => Promise<string>): Executor {
  let executor: Promise<LinuxExecutor> | undefined;
  return {
    run: async (spec, rootfs, io, signal) => {
      executor ??= stateDir().then((dir) => new LinuxExecutor({ stateDir: dir }));
      return (await executor).run(spec, rootfs, io, signal);
    },
  };
}

/** A secret's value, read only when a step mounts it (never kept anywhere else). */
async function readSecret(source: { readonly file: string } | { readonly env: string } | undefined): Promise<Buffer | undefined> {
  if (source === undefined) return undefined;
  if ('env' in source) {
    const value = process.env[source.env];
    return value === undefined ? undefined : Buffer.from(value);
  }
  try {
    return await readFile(source.file);
  } catch (error) {
    throw new InputError(`secret file ${source.file}: ${(error as Error).message}`);
  }
}

/** Runs the solve, then saves what the stat cache learnt (also after a failure: the files hashed stay hashed). */
async function solveAndSave<T>(statCache: StatCache | undefined, solve: () => Promise<T>): Promise<T> {
  try {
    return await solve();
  } finally {
    await statCache?.save().catch(() => undefined);
  }
}

/**
 * The automatic build-cache policy (src/cache defaultCachePolicy: size and age, from the
 * environment), so that a CI disk does not fill: least recently used records go, then the
 * blobs nothing needs any more.
 */
async function applyCachePolicy(store: ImageStore, cache: CacheRecords): Promise<void> {
  // Measuring the cache reads every record: done at most once a KILN_CACHE_POLICY_INTERVAL
  // (seconds, default 60), as git's auto-gc, so a no-op build stays cheap.
  const intervalText = process.env['KILN_CACHE_POLICY_INTERVAL'];
  const interval = intervalText === undefined || intervalText === '' ? 60 : Number(intervalText);
  if (!Number.isFinite(interval) || interval < 0) throw new UsageError(`KILN_CACHE_POLICY_INTERVAL: ${JSON.stringify(intervalText)} is not a number of seconds`);
  const stamp = join(store.root, 'cache', 'policy-checked');
  const last = await stat(stamp).then((s) => s.mtimeMs).catch(() => undefined);
  if (last !== undefined && Date.now() - last < interval * 1000) return;
  await writeFile(stamp, '');
  let policy;
  try {
    policy = await defaultCachePolicy(store.root);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (policy === undefined) return;
  const pruned = await pruneBuildCache(cache, policy, await store.imageBlobs());
  if (pruned.records > 0) await store.sweep(await cacheBlobs(cache));
}

/** The only platform kiln builds for: this machine's. */
function nativePlatform(requested: string | undefined): { os: string; architecture: string } {
  const native = { os: 'linux', architecture: hostArchitecture() };
  if (requested === undefined) return native;
  const [os, architecture] = requested.split('/');
  if (os === native.os && architecture === native.architecture) return native;
  throw new UsageError(`--platform ${requested}: kiln builds only for the native platform, ${native.os}/${native.architecture}`, {
    hint: 'building for another platform needs emulation, which kiln does not have yet',
  });
}

/** The layers of a stored image, bottom first, from its newest manifest. */
export async function imageLayers(store: ImageStore, id: Digest): Promise<LayerRef[]> {
  const record = await store.image(id);
  if (record === undefined) throw new InputError(`image ${id} is no longer in the store`);
  const manifestDescriptor = record.manifests[record.manifests.length - 1];
  if (manifestDescriptor === undefined) throw new InputError(`image ${id} has no manifest`);
  if (manifestDescriptor.mediaType !== MediaType.ociManifest && manifestDescriptor.mediaType !== MediaType.dockerManifest) {
    throw new InputError(`image ${id}: manifest media type ${manifestDescriptor.mediaType} is not an image manifest`);
  }
  const manifest = decodeManifest(await store.content.read(manifestDescriptor.digest), `manifest ${manifestDescriptor.digest}`);
  if (manifest.layers.length !== record.layers.length) throw new InputError(`image ${id}: manifest and record disagree on layers`);
  return manifest.layers.map((descriptor, i) => ({ descriptor, diffId: record.layers[i]!.diffId, size: record.layers[i]!.size }));
}

/** Reads the Dockerfile a build names: `-f FILE` (anywhere), or CONTEXT/Dockerfile. */
export async function readDockerfile(path: string): Promise<string> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new InputError(`${path}: the Dockerfile is a directory`);
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InputError(`failed to read dockerfile: open ${path}: no such file or directory`);
    }
    throw error;
  }
}
