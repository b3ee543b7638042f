import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BuildLog, readBuildLog, readDockerfile, runBuild } from '../../build/index.ts';
import { DockerfileError, InputError, UsageError } from '../../errors/index.ts';
import { parseOutput } from '../../exporter/index.ts';
import { familiarString, parseReference } from '../../image/index.ts';
import type { RunResources } from '../../sandbox/index.ts';
import type { ImageStore } from '../../store/index.ts';
import { formatDiagnosticLocation, type Diagnostic } from '../../syntax/index.ts';
import { EXIT, exitCodeFor } from '../exit-codes.ts';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { decompress, detectCompression } from '../../image/layer/index.ts';
import { createProgressRenderer, formatBuildFailure, parseProgressMode, progressModeFromEnv } from '../progress/index.ts';

/** `kiln build`'s options as commander gives them. */
export interface BuildFlags {
  readonly file?: string;
  readonly tag: string[];
  readonly buildArg: string[];
  readonly target?: string;
  readonly cache?: boolean;
  /** `--no-cache-filter` values (commander files a `--no-` option under the name without it). */
  readonly cacheFilter: string[];
  readonly label: string[];
  readonly platform?: string;
  readonly memory?: string;
  readonly cpus?: string;
  readonly pidsLimit?: string;
  readonly allow: string[];
  readonly maxParallelism?: string;
  readonly output: string[];
  readonly iidfile?: string;
  readonly metadataFile?: string;
  readonly progress?: string;
  readonly quiet?: boolean;
  readonly secret: string[];
  readonly ssh: string[];
}

/**
 * `kiln build [OPTIONS] CONTEXT|-`: builds, records the image (and its tags) in the store,
 * writes the outputs; prints progress on standard error and, with `-q`, the image ID on
 * standard output.
 */
export async function runBuildCommand(store: ImageStore, contextArg: string, flags: BuildFlags, signal: AbortSignal): Promise<number> {
  // A build walks, hashes, copies and archives whole trees, allocating a lot that dies young.
  // Left to itself V8 grows the young generation to 32 MB and collects the old one late: most
  // of a big build's peak RSS (issue #7's W4: 131-135 MB, 110-115 MB with this; its time did
  // not change, medians of 4 interleaved runs). The heap checks this flag as it runs.
  setFlagsFromString('--optimize-for-size');
  // V8 stamps a code cache with the flags it was made under: a cache made by this process
  // would be rejected by every later start (which has the defaults), so the launcher must not
  // write one from it (scripts/cli-launcher.cjs).
  (globalThis as Record<symbol, unknown>)[Symbol.for('kiln.v8FlagsChanged')] = true;
  const mode = flags.quiet === true ? 'quiet' : flags.progress === undefined ? progressModeFromEnv(process.env) : parseProgressMode(flags.progress, '--progress');
  const outputs = flags.output.map(parseOutput);
  if (outputs.filter((o) => 'dest' in o && o.dest === '-').length > 1) throw new UsageError('only one --output may write to standard output');
  const buildArgs = parseBuildArgs(flags.buildArg);
  const labels = parsePairs(flags.label, '--label');
  const resources = parseResources(flags);
  const allow = parseAllow(flags.allow);
  const secrets = new Map(flags.secret.map(parseSecret));
  const ssh = new Map(flags.ssh.map(parseSsh));
  const maxParallelism = flags.maxParallelism === undefined ? undefined : positiveInteger(flags.maxParallelism, '--max-parallelism');

  const cleanup: (() => Promise<void>)[] = [];
  try {
    const { contextDir, dockerfile } = await readInputs(contextArg, flags.file, cleanup);
    const epochText = process.env['SOURCE_DATE_EPOCH'] ?? buildArgs.get('SOURCE_DATE_EPOCH');
    const sourceDateEpoch = epochText === undefined || epochText === '' ? undefined : nonNegativeInteger(epochText, 'SOURCE_DATE_EPOCH');
    const renderer = createProgressRenderer({
      mode,
      out: process.stderr,
      source: (file) => (file === dockerfile.path || (dockerfile.path === undefined && file === 'Dockerfile') ? dockerfile.text : undefined),
    });
    const warn = (d: Diagnostic): void => {
      const event = { kind: 'message', time: Date.now(), level: 'warning', text: `${formatDiagnosticLocation(d)}: ${d.message}` } as const;
      log.event(event);
      renderer.write(event);
    };
    const log = await BuildLog.start(store.root, { dockerfile: dockerfile.path, context: contextDir });
    // A step's failure is shown by the renderer (its output, the Dockerfile lines, the error);
    // any other failure (a Dockerfile error, a bad flag) is left for the CLI to print.
    let stepFailed = false;
    let result;
    try {
      result = await runBuild(store, {
        contextDir,
        dockerfile,
        tags: flags.tag,
        buildArgs,
        labels,
        target: flags.target,
        noCache: flags.cache === false,
        noCacheFilter: flags.cacheFilter,
        platform: flags.platform,
        outputs,
        resources,
        allow,
        maxParallelism,
        secrets,
        ssh,
        sourceDateEpoch,
        progress: (event) => {
          if (event.kind === 'error') stepFailed = true;
          log.event(event);
          renderer.write(event);
        },
        warn,
        stdout: process.stdout,
        signal,
      });
      renderer.write({ kind: 'message', time: Date.now(), level: 'info', text: `writing image ${result.id}` });
      for (const tag of result.tags) {
        renderer.write({ kind: 'message', time: Date.now(), level: 'info', text: `naming to ${familiarString(parseReference(tag))}` });
      }
      renderer.write({ kind: 'message', time: Date.now(), level: 'info', text: `build ${log.id} (kiln build-log ${log.id})` });
    } catch (error) {
      await renderer.close();
      await log.finish({ image: undefined, error: (error as Error).message });
      if (stepFailed) {
        if (mode === 'quiet') process.stderr.write(`ERROR: ${(error as Error).message}\n`);
        return exitCodeFor(error);
      }
      if (error instanceof DockerfileError && error.range !== undefined && mode !== 'rawjson') {
        process.stderr.write(
          `${formatBuildFailure({ name: undefined, file: error.file, range: error.range, message: error.message, lastLines: [] }, dockerfile.text)}\n`,
        );
        return exitCodeFor(error);
      }
      throw error;
    }
    await renderer.close();
    await log.finish({ image: result.id, error: undefined });
    if (flags.iidfile !== undefined) await writeFile(flags.iidfile, result.id);
    if (flags.metadataFile !== undefined) {
      const metadata = {
        'containerimage.config.digest': result.id,
        'containerimage.digest': result.manifest.digest,
        'containerimage.descriptor': result.manifest,
        ...(result.tags.length === 0 ? {} : { 'image.name': result.tags.join(',') }),
      };
      await writeFile(flags.metadataFile, `${JSON.stringify(metadata, null, 2)}\n`);
    }
    if (mode === 'quiet' && !outputs.some((o) => 'dest' in o && o.dest === '-')) process.stdout.write(`${result.id}\n`);
    return EXIT.ok;
  } finally {
    for (const fn of cleanup.reverse()) await fn();
  }
}

/** The context directory and the Dockerfile, from `CONTEXT|-` and `-f FILE|-`. */
async function readInputs(
  contextArg: string,
  file: string | undefined,
  cleanup: (() => Promise<void>)[],
): Promise<{ contextDir: string | undefined; dockerfile: { path: string | undefined; text: string } }> {
  if (contextArg === '-') {
    if (file === '-') throw new UsageError('the context and the Dockerfile cannot both be read from standard input');
    const input = await peekStdin(512);
    const compression = detectCompression(input.head);
    if (compression !== 'uncompressed' || isTar(input.head)) {
      // A context tar (plain, gzip, bzip2, xz or zstd), streamed into a temporary directory.
      const dir = await mkdtemp(join(tmpdir(), 'kiln-context-'));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      await extractTar(decompress(input.stream, compression, { name: 'the context tar on standard input' }), dir);
      const path = join(dir, file ?? 'Dockerfile');
      return { contextDir: dir, dockerfile: { path: file ?? 'Dockerfile', text: await readDockerfile(path) } };
    }
    const chunks: Buffer[] = [];
    for await (const chunk of input.stream) chunks.push(chunk as Buffer);
    return { contextDir: undefined, dockerfile: { path: undefined, text: Buffer.concat(chunks).toString('utf8') } };
  }
  const contextDir = resolve(contextArg);
  const info = await stat(contextDir).catch(() => undefined);
  if (info === undefined) throw new InputError(`unable to prepare context: path ${JSON.stringify(contextArg)} not found`);
  if (!info.isDirectory()) throw new InputError(`unable to prepare context: ${JSON.stringify(contextArg)} is not a directory`);
  if (file === '-') return { contextDir, dockerfile: { path: undefined, text: (await readStdin()).toString('utf8') } };
  const path = file === undefined ? join(contextDir, 'Dockerfile') : resolve(file);
  return { contextDir, dockerfile: { path, text: await readDockerfile(path) } };
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The first `size` bytes of standard input (fewer when it is shorter), and all of it as a stream. */
async function peekStdin(size: number): Promise<{ head: Buffer; stream: Readable }> {
  const iterator = process.stdin[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < size) {
    const next = await iterator.next();
    if (next.done === true) {
      ended = true;
      break;
    }
    chunks.push(next.value as Buffer);
    length += (next.value as Buffer).length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value as Buffer;
    }
  }
  return { head, stream: Readable.from(all()) };
}

/** A POSIX tar has `ustar` at offset 257 of its first header. */
function isTar(data: Buffer): boolean {
  return data.length >= 512 && data.subarray(257, 262).toString('latin1') === 'ustar';
}

async function extractTar(data: Readable, dir: string): Promise<void> {
  const child = spawn('tar', ['-x', '--no-same-owner', '--no-same-permissions', '-C', dir, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  data.on('error', (error) => child.stdin.destroy(error));
  child.stdin.on('error', () => undefined);
  data.pipe(child.stdin);
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new InputError(`the context tar from standard input could not be read: ${stderr.trim()}`);
}

/** `--build-arg K=V` or `--build-arg K` (the value from the environment, skipped when unset), as docker. */
function parseBuildArgs(values: readonly string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq === 0) throw new UsageError(`--build-arg ${JSON.stringify(value)}: the name is empty`);
    if (eq > 0) args.set(value.slice(0, eq), value.slice(eq + 1));
    else if (process.env[value] !== undefined) args.set(value, process.env[value]!);
  }
  return args;
}

function parsePairs(values: readonly string[], flag: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq === 0) throw new UsageError(`${flag} ${JSON.stringify(value)}: the name is empty`);
    if (eq < 0) pairs.set(value, '');
    else pairs.set(value.slice(0, eq), value.slice(eq + 1));
  }
  return pairs;
}

/**
 * `--secret id=ID[,type=file|env][,src=PATH|source=PATH][,env=VAR]`, as buildx: without src or
 * env, the environment variable named ID when it is set, else the file ID.
 */
function parseSecret(text: string): [string, { file: string } | { env: string }] {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--secret ${JSON.stringify(text)}: ${JSON.stringify(part)} is not key=value`);
    const key = part.slice(0, eq).toLowerCase();
    if (!['id', 'type', 'src', 'source', 'env'].includes(key)) throw new UsageError(`--secret ${JSON.stringify(text)}: unknown key ${JSON.stringify(key)}`);
    fields.set(key === 'source' ? 'src' : key, part.slice(eq + 1));
  }
  const id = fields.get('id');
  if (id === undefined || id === '') throw new UsageError(`--secret ${JSON.stringify(text)}: id= is required`);
  const type = fields.get('type');
  if (type !== undefined && type !== 'file' && type !== 'env') throw new UsageError(`--secret ${JSON.stringify(text)}: type must be file or env`);
  const src = fields.get('src');
  const env = fields.get('env');
  if (type === 'env' || (type === undefined && env !== undefined)) return [id, { env: env ?? src ?? id }];
  if (src !== undefined) return [id, { file: resolve(src) }];
  if (type === undefined && process.env[id] !== undefined) return [id, { env: id }];
  return [id, { file: resolve(id) }];
}

/** `--ssh ID[=SOCKET]`: `default` without a socket forwards $SSH_AUTH_SOCK. */
function parseSsh(text: string): [string, string] {
  const eq = text.indexOf('=');
  const id = eq < 0 ? text : text.slice(0, eq);
  const socket = eq < 0 ? process.env['SSH_AUTH_SOCK'] : text.slice(eq + 1);
  if (id === '') throw new UsageError(`--ssh ${JSON.stringify(text)}: the id is empty`);
  if (socket === undefined || socket === '') {
    throw new UsageError(`--ssh ${JSON.stringify(text)}: no agent socket`, { hint: 'give ID=SOCKET, or set SSH_AUTH_SOCK' });
  }
  return [id, resolve(socket.split(',')[0]!)];
}

function parseAllow(values: readonly string[]): { networkHost: boolean; securityInsecure: boolean } {
  const allow = { networkHost: false, securityInsecure: false };
  for (const value of values.flatMap((v) => v.split(','))) {
    if (value === 'network.host') allow.networkHost = true;
    else if (value === 'security.insecure') allow.securityInsecure = true;
    else throw new UsageError(`--allow ${JSON.stringify(value)}: unknown entitlement`, { hint: 'network.host, security.insecure' });
  }
  return allow;
}

function parseResources(flags: BuildFlags): RunResources | undefined {
  const resources: { memory?: number; cpus?: number; pids?: number } = {};
  if (flags.memory !== undefined) resources.memory = parseBytes(flags.memory, '--memory');
  if (flags.cpus !== undefined) {
    const cpus = Number(flags.cpus);
    if (!Number.isFinite(cpus) || cpus <= 0) throw new UsageError(`--cpus ${JSON.stringify(flags.cpus)}: not a positive number`);
    resources.cpus = cpus;
  }
  if (flags.pidsLimit !== undefined) resources.pids = positiveInteger(flags.pidsLimit, '--pids-limit');
  return Object.keys(resources).length === 0 ? undefined : resources;
}

/** Docker's RAM sizes: a number with an optional b, k, m, g (binary multiples). */
export function parseBytes(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$/i.exec(text.trim());
  if (match === null) throw new UsageError(`${flag} ${JSON.stringify(text)}: not a size (e.g. 512m, 1g)`);
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[match[2]!.toLowerCase() as '' | 'b' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(match[1]) * unit);
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} ${JSON.stringify(text)}: not a positive integer`);
  return n;
}

function nonNegativeInteger(text: string, name: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`${name} ${JSON.stringify(text)}: not a number of seconds`);
  return n;
}


/** `kiln build-log [BUILD_ID] [--json]`: a kept build's whole log, as plain progress or as its JSON lines. */
export async function runBuildLog(store: ImageStore, id: string | undefined, options: { readonly json: boolean }): Promise<number> {
  const lines = await readBuildLog(store.root, id);
  if (options.json) {
    for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
    return EXIT.ok;
  }
  const header = lines[0]?.kind === 'build' ? lines[0] : undefined;
  const text = header?.dockerfile === undefined ? undefined : await readFile(header.dockerfile, 'utf8').catch(() => undefined);
  if (header !== undefined) {
    process.stdout.write(`build ${header.id} at ${new Date(header.time).toISOString()}${header.context === undefined ? '' : ` in ${header.context}`}\n\n`);
  }
  const renderer = createProgressRenderer({ mode: 'plain', out: process.stdout, source: (file) => (file === header?.dockerfile ? text : undefined) });
  let result: { image: string | undefined; error: string | undefined } | undefined;
  for (const line of lines) {
    if (line.kind === 'build') continue;
    if (line.kind === 'result') result = line;
    else renderer.write(line);
  }
  await renderer.close();
  process.stdout.write(
    result === undefined ? 'the build did not finish (killed?)\n' : result.error === undefined ? `built ${result.image}\n` : `failed: ${result.error}\n`,
  );
  return EXIT.ok;
}
