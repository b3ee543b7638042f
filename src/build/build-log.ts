import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../errors/index.ts';
import type { ProgressEvent } from '../solver/index.ts';

/** How many build logs are kept; older ones are removed when a build starts. */
const KEPT_LOGS = 100;

/** The first line of a build log: what was built. */
export interface BuildLogHeader {
  readonly kind: 'build';
  readonly id: string;
  readonly time: number;
  readonly dockerfile: string | undefined;
  readonly context: string | undefined;
}

/** The last line of a build log: how it ended. */
export interface BuildLogResult {
  readonly kind: 'result';
  readonly time: number;
  readonly image: string | undefined;
  readonly error: string | undefined;
}

export type BuildLogLine = BuildLogHeader | ProgressEvent | BuildLogResult;

/**
 * One build's full log under `<root>/builds/<id>.jsonl`: a header, every progress event as it
 * came (one JSON document a line, the rawjson form), and how the build ended. Written as the
 * build goes, so a killed build leaves what happened until then.
 */
export class BuildLog {
  readonly id: string;
  /** The log file, appended to with write(2) per event: a line is on disk as soon as it is logged. */
  #fd: number | undefined;

  private constructor(id: string, fd: number) {
    this.id = id;
    this.#fd = fd;
  }

  /** Starts the log of a new build (and removes the oldest logs past the kept number). */
  static async start(root: string, header: Omit<BuildLogHeader, 'kind' | 'id' | 'time'>): Promise<BuildLog> {
    // Small files and few calls: synchronous, a tenth of a thread-pool round trip each.
    const dir = join(root, 'builds');
    mkdirSync(dir, { recursive: true });
    const names = readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort();
    for (const name of names.slice(0, Math.max(0, names.length - KEPT_LOGS + 1))) rmSync(join(dir, name), { force: true });
    const now = Date.now();
    // Sortable by time, then unique.
    const id = `${now.toString(36).padStart(9, '0')}${randomBytes(4).toString('hex')}`;
    const log = new BuildLog(id, openSync(join(dir, `${id}.jsonl`), 'wx', 0o600));
    log.#write({ kind: 'build', id, time: now, ...header });
    return log;
  }

  /** Appends one event. */
  event(event: ProgressEvent): void {
    this.#write(event);
  }

  /** Appends how the build ended and closes the log. */
  async finish(result: Omit<BuildLogResult, 'kind' | 'time'>): Promise<void> {
    this.#write({ kind: 'result', time: Date.now(), ...result });
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #write(line: BuildLogLine): void {
    if (this.#fd === undefined) return;
    const bytes = Buffer.from(`${JSON.stringify(line)}\n`);
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(this.#fd, bytes, offset);
  }
}

/**
 * The lines of a build's log: `id` (or a unique prefix of it), or the latest build's.
 * @throws NotFoundError when there is no such build (or none at all).
 */
export async function readBuildLog(root: string, id: string | undefined): Promise<BuildLogLine[]> {
  const dir = join(root, 'builds');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.jsonl')).sort();
  const matches = id === undefined ? names.slice(-1) : names.filter((n) => n.startsWith(id));
  if (matches.length === 0) {
    throw new NotFoundError(id === undefined ? 'no build has been logged yet' : `no build log ${JSON.stringify(id)}`, {
      hint: 'kiln build prints its build ID; kiln build-log without one shows the latest',
    });
  }
  if (matches.length > 1) throw new NotFoundError(`build ID prefix ${JSON.stringify(id)} is ambiguous`);
  const text = await readFile(join(dir, matches[0]!), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as BuildLogLine];
      } catch {
        return []; // a line cut by a kill
      }
    });
}
