import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Who holds a piece of runtime state under the root (an ingest, a lock, a mount, a temp
 * dir): a process, named by its PID and its start time (field 22 of /proc/PID/stat, clock
 * ticks since boot), so that a PID reused by another process after a crash is not mistaken
 * for the owner. A starting kiln cleans only what dead owners left.
 */
export interface Owner {
  readonly pid: number;
  readonly start: number;
}

/** The file in an owned directory that names its owner. */
export const OWNER_FILE = 'owner';

let self: Owner | undefined;

/** This process as an owner. */
export function currentOwner(): Owner {
  self ??= { pid: process.pid, start: startTime(process.pid) ?? 0 };
  return self;
}

/** Whether the owner is still running: its PID exists and started when the owner says. */
export function isAlive(owner: Owner): boolean {
  const start = startTime(owner.pid);
  return start !== undefined && start === owner.start;
}

/** `PID START`, the form owner files hold. */
export function formatOwner(owner: Owner): string {
  return `${owner.pid} ${owner.start}\n`;
}

/** Reads an owner written by {@link formatOwner}; undefined when malformed. */
export function parseOwner(text: string): Owner | undefined {
  const match = /^(\d+) (\d+)\n?$/.exec(text);
  if (match === null) return undefined;
  return { pid: Number(match[1]), start: Number(match[2]) };
}

/**
 * Marks `dir` as owned by this process. The owner file is written under another name and
 * renamed into place, so a cleaner never reads it empty or half written.
 */
export async function claimDirectory(dir: string): Promise<void> {
  // Two synchronous calls: a few µs, against two round trips through the thread pool.
  const temporary = join(dir, `.${OWNER_FILE}.${process.pid}`);
  writeFileSync(temporary, formatOwner(currentOwner()));
  renameSync(temporary, join(dir, OWNER_FILE));
}

/**
 * How long a directory without its owner file is taken to be in the making (between its
 * mkdir and the owner write) rather than left by a crash in between.
 */
const UNCLAIMED_GRACE_MS = 60_000;

/**
 * Whether `dir` may be removed by a cleaner: its owner file names a dead process, or it has
 * had no owner file for longer than a process takes to write one (a crash between mkdir and
 * the owner write). A directory that is gone counts as abandoned: nothing is left to clean.
 */
export async function isAbandoned(dir: string): Promise<boolean> {
  // Synchronous calls: a cleaner asks of many small directories at a command's start.
  let text: string;
  try {
    text = readFileSync(join(dir, OWNER_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    return unclaimedTooLong(dir);
  }
  const owner = parseOwner(text);
  if (owner !== undefined) return !isAlive(owner);
  // Unreadable as an owner (written by a kiln of before the atomic claim, cut short by a
  // crash): like no owner file at all, abandoned only once the grace period has passed.
  return unclaimedTooLong(dir);
}

function unclaimedTooLong(dir: string): boolean {
  const made = statSync(dir, { throwIfNoEntry: false });
  return made === undefined || Date.now() - made.mtimeMs > UNCLAIMED_GRACE_MS;
}

/** Start time of a process in clock ticks since boot, from proc(5); undefined if it is gone. */
function startTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : undefined;
}
