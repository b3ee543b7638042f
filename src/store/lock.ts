import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ConflictError } from '../errors/index.ts';
import { currentOwner, formatOwner, isAlive, parseOwner } from '../owner/index.ts';

/** A held lock; `release` (or `await using`) gives it up. */
export interface Lock extends AsyncDisposable {
  release(): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for a live holder before giving up; default 120 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Takes the exclusive lock file at `path`, shared by every kiln process on the root: created
 * with O_EXCL holding the owner (PID and start time). A lock whose owner is dead (a killed
 * kiln) is broken; a live one is waited for, polling with a capped backoff.
 * @throws ConflictError when a live holder keeps it past the timeout.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<Lock> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let delay = 2;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      // Synchronous: three small calls, a tenth of a thread-pool round trip each.
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, formatOwner(currentOwner()));
      } finally {
        closeSync(fd);
      }
      return held(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(path);
    if (holder === 'dead') {
      // Move the stale file aside first, so that two processes breaking it at once cannot
      // remove a lock the other has just taken.
      const aside = `${path}.stale.${process.pid}`;
      try {
        renameSync(path, aside);
        rmSync(aside, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new ConflictError(`timed out waiting for the lock ${path}, held by ${holder}`, {
        hint: 'another kiln process is working on this root; wait for it or stop it',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 50);
  }
}

async function readHolder(path: string): Promise<string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'nobody';
    throw error;
  }
  const owner = parseOwner(text);
  // An empty lock file belongs to a process between open and write, unless it has been
  // empty for long: then that process died in between.
  if (owner === undefined) {
    if (text !== '') return 'dead';
    const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
    return age > 10_000 ? 'dead' : 'a starting process';
  }
  return isAlive(owner) ? `pid ${owner.pid}` : 'dead';
}

function held(path: string): Lock {
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    rmSync(path, { force: true });
  };
  return { release, [Symbol.asyncDispose]: release };
}
