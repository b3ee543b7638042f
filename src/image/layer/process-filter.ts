import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { NotFoundError } from '../../errors/index.ts';

/** A command-line filter: reads stdin, writes stdout. */
export interface FilterCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** The Debian package that ships `command`, named when it is missing. */
  readonly debianPackage: string;
}

/** A filter exited with a failure; `stderr` is what it printed, `message` ends with it. */
export class FilterFailure extends Error {
  readonly stderr: string;
  constructor(command: string, status: string, stderr: string) {
    super(`${command} ${status}${stderr === '' ? '' : `: ${stderr}`}`);
    this.name = 'FilterFailure';
    this.stderr = stderr;
  }
}

const STDERR_LIMIT = 16 * 1024;

/**
 * Runs `filter` as a child process and exposes it as a Duplex: bytes written go to its stdin,
 * bytes read come from its stdout. The readable side ends only once the process has exited
 * with status 0; any other exit fails the stream with a {@link FilterFailure} carrying the
 * tool's stderr, and a missing command fails it with NotFoundError naming the Debian package.
 * Destroying the Duplex kills the process (SIGKILL): nothing survives an abort.
 */
export function spawnFilter(filter: FilterCommand): FilterProcess {
  return new ProcessFilter(filter);
}

/** A running filter: the Duplex and the process id (undefined when it failed to start). */
export interface FilterProcess extends Duplex {
  readonly pid: number | undefined;
}

class ProcessFilter extends Duplex implements FilterProcess {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #stderr: Buffer[] = [];
  #stderrLength = 0;
  #exited = false;

  constructor(filter: FilterCommand) {
    super({ highWaterMark: 1 << 16 });
    const child = spawn(filter.command, [...filter.args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    child.on('error', (error: NodeJS.ErrnoException) => {
      this.#exited = true;
      this.destroy(
        error.code === 'ENOENT'
          ? new NotFoundError(`${filter.command} is not installed`, {
              hint: `install the Debian package ${filter.debianPackage}: apt-get install -y ${filter.debianPackage}`,
              cause: error,
            })
          : error,
      );
    });
    // EPIPE when the tool exits before reading all its input: its exit status says why.
    child.stdin.on('error', () => {});
    child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (this.#stderrLength >= STDERR_LIMIT) return;
      this.#stderr.push(chunk);
      this.#stderrLength += chunk.length;
    });
    // 'close' comes after the exit and after stdout has delivered its last byte.
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      this.#exited = true;
      if (code === 0) {
        this.push(null);
        return;
      }
      const stderr = Buffer.concat(this.#stderr).toString('utf8').slice(0, STDERR_LIMIT).trim();
      const status = code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with status ${code}`;
      this.destroy(new FilterFailure(filter.command, status, stderr));
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  override _read(): void {
    this.#child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    // The callback fires once the pipe took the bytes: backpressure from the tool. A write
    // error means the tool is gone; the 'close' handler reports why.
    this.#child.stdin.write(chunk, () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#child.stdin.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (!this.#exited) this.#child.kill('SIGKILL');
    this.#child.stdout.destroy();
    this.#child.stderr.destroy();
    this.#child.stdin.destroy();
    done(error);
  }
}
