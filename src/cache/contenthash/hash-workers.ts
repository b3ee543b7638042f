import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Digest } from '../../content/index.ts';

/*
 * The worker's program, plain JavaScript given to `new Worker(…, { eval: true })`: the CLI is
 * bundled into chunks of one entry (scripts/build.mjs), so a worker cannot be started from a
 * module file of its own. It reads each file of a batch as content-reader.ts does (O_NOFOLLOW,
 * 1 MiB at a time, to the end) and answers with the hex sha256 of each, or the error met.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { closeSync, constants, openSync, readSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buffer = Buffer.allocUnsafe(1 << 20);
function digest(path) {
  const hash = createHash('sha256');
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    for (let read = readSync(fd, buffer, 0, buffer.length, null); read > 0; read = readSync(fd, buffer, 0, buffer.length, null)) {
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
const failed = '-'.repeat(64);
parentPort.on('message', ({ id, paths }) => {
  let hex = '';
  const errors = [];
  for (const [index, path] of paths.entries()) {
    try {
      hex += digest(path);
    } catch (error) {
      hex += failed;
      errors.push({ index, message: String(error && error.message), code: error && error.code, errno: error && error.errno, syscall: error && error.syscall, path: error && error.path });
    }
  }
  parentPort.postMessage({ id, hex, errors });
});
`;

/**
 * What the worker answers for a batch: the hex digests of its files one after the other (64
 * characters each, dashes for a file that failed), and the errors of those that failed. One
 * string rather than an object per file: the answer is copied between threads.
 */
interface Answer {
  readonly id: number;
  readonly hex: string;
  readonly errors: readonly ErrorParts[];
}

/** An fs error, as the worker sends it. */
interface ErrorParts {
  readonly index: number;
  readonly message: string;
  readonly code?: string;
  readonly errno?: number;
  readonly syscall?: string;
  readonly path?: string;
}

interface Job {
  readonly path: string;
  resolve(digest: Digest): void;
  reject(error: Error): void;
}

interface Batch {
  readonly jobs: Job[];
  cost: number;
}

/**
 * What hashing a file costs a worker, in bytes hashed: its size, plus 16 KiB for opening,
 * reading to the end and closing it (about as long as hashing 16 KiB takes).
 */
function costOf(size: bigint): number {
  return Number(size) + 16_384;
}

/** A batch is sent when it holds this many files or this much cost, or at the next turn of the event loop. */
const BATCH_FILES = 64;
const BATCH_COST = 8 << 20;

/** Workers left idle this long are stopped. */
const IDLE_MS = 2_000;

/** One worker and the cost of the batches it has not answered yet. */
interface Running {
  readonly worker: Worker;
  outstanding: number;
}

/**
 * sha256 of whole files on worker threads, so that a cold hash of a big context reads and
 * hashes on other cores while the main thread walks the tree, asks for extended attributes
 * and keeps the stat cache. Requests are sent in batches (a message per file would cost more
 * than a small file's hash); a batch goes to the worker with the least work outstanding.
 * {@link backlog} tells a caller when the workers are behind, so it can read a file itself.
 *
 * Workers start on the first request, are unref'd (they never keep the process alive) and
 * stop after {@link IDLE_MS} without work; the next request starts them again.
 */
export class HashWorkers {
  readonly #count: number;
  #running: Running[] = [];
  readonly #inFlight = new Map<number, { readonly jobs: readonly Job[]; readonly cost: number; readonly to: Running }>();
  #backlog = 0;
  #nextId = 0;
  #batch: Batch | undefined;
  #idle: NodeJS.Timeout | undefined;

  /** @param count workers to run (default: one per core beyond the first, at most 4, at least 1) */
  constructor(count = Math.max(1, Math.min(availableParallelism() - 1, 4))) {
    this.#count = count;
  }

  /** The work asked for and not answered yet, in bytes hashed (a file costs its size and 16 KiB). */
  get backlog(): number {
    return this.#backlog;
  }

  /**
   * The sha256 of the regular file at `path` (absolute), `size` bytes by its lstat. Rejects
   * with the error the read met (an ErrnoException's code, syscall and path kept).
   */
  digest(path: string, size: bigint): Promise<Digest> {
    return new Promise<Digest>((resolve, reject) => {
      let batch = this.#batch;
      if (batch === undefined) {
        batch = { jobs: [], cost: 0 };
        this.#batch = batch;
        const pending = batch;
        // A batch that does not fill up goes at the next turn of the event loop.
        setImmediate(() => {
          if (this.#batch === pending) this.#send();
        });
      }
      batch.jobs.push({ path, resolve, reject });
      const cost = costOf(size);
      batch.cost += cost;
      this.#backlog += cost;
      if (batch.jobs.length >= BATCH_FILES || batch.cost >= BATCH_COST) this.#send();
    });
  }

  /** Stops the workers; the requests they hold fail. */
  async close(): Promise<void> {
    clearTimeout(this.#idle);
    const running = this.#running;
    this.#running = [];
    await Promise.all(running.map(({ worker }) => worker.terminate()));
  }

  #send(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (batch === undefined || batch.jobs.length === 0) return;
    clearTimeout(this.#idle);
    if (this.#running.length === 0) this.#start();
    let to = this.#running[0] as Running;
    for (const candidate of this.#running) if (candidate.outstanding < to.outstanding) to = candidate;
    const id = this.#nextId++;
    this.#inFlight.set(id, { jobs: batch.jobs, cost: batch.cost, to });
    to.outstanding += batch.cost;
    to.worker.postMessage({ id, paths: batch.jobs.map((job) => job.path) });
  }

  #start(): void {
    for (let index = 0; index < this.#count; index += 1) {
      // No execArgv: the program is plain JavaScript, and a loader the parent runs under (tsx) would only slow its start.
      const running: Running = { worker: new Worker(WORKER_SOURCE, { eval: true, execArgv: [] }), outstanding: 0 };
      running.worker.unref();
      running.worker.on('message', (answer: Answer) => this.#answered(answer));
      running.worker.on('error', (error) => this.#failed(running, error));
      running.worker.on('exit', (code) => this.#failed(running, new Error(`a hash worker exited (code ${code})`)));
      this.#running.push(running);
    }
  }

  #answered({ id, hex, errors }: Answer): void {
    const sent = this.#inFlight.get(id);
    if (sent === undefined) return;
    this.#inFlight.delete(id);
    sent.to.outstanding -= sent.cost;
    this.#backlog -= sent.cost;
    const failures = new Map(errors.map((error) => [error.index, error]));
    for (const [index, job] of sent.jobs.entries()) {
      const failure = failures.get(index);
      if (failure !== undefined) job.reject(errnoError(failure));
      else if (hex.length >= (index + 1) * 64) job.resolve(`sha256:${hex.slice(index * 64, (index + 1) * 64)}` as Digest);
      else job.reject(new Error(`no digest of ${job.path} came back from a hash worker`));
    }
    if (this.#inFlight.size === 0 && this.#batch === undefined) {
      clearTimeout(this.#idle);
      this.#idle = setTimeout(() => void this.close(), IDLE_MS);
      this.#idle.unref();
    }
  }

  /** A worker that failed or exited: its batches fail, and the others are stopped too (started afresh on the next request). */
  #failed(running: Running, error: Error): void {
    for (const [id, sent] of this.#inFlight) {
      if (sent.to !== running) continue;
      this.#inFlight.delete(id);
      this.#backlog -= sent.cost;
      for (const job of sent.jobs) job.reject(error);
    }
    if (this.#running.includes(running)) void this.close();
  }
}

/** An Error carrying what Node's fs errors carry, from its serialized parts. */
function errnoError(parts: ErrorParts): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(parts.message);
  if (parts.code !== undefined) error.code = parts.code;
  if (parts.errno !== undefined) error.errno = parts.errno;
  if (parts.syscall !== undefined) error.syscall = parts.syscall;
  if (parts.path !== undefined) error.path = parts.path;
  return error;
}
