import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConflictError, InternalError, NotFoundError } from '../errors/index.ts';
import { claimDirectory, isAbandoned, OWNER_FILE } from '../owner/index.ts';
import type { SnapshotInfo, SnapshotKind } from './snapshotter.ts';

const fsyncAsync = promisify(fsync);

/** Version of `info.json`; a record of another version is not read. */
const SCHEMA = 1;

/** What `<id>/info.json` holds: the snapshot's identity and ancestry. */
export interface SnapshotRecord {
  readonly schema: typeof SCHEMA;
  /** The directory's name: a small decimal number, so overlay's lowerdir list stays short. */
  readonly id: string;
  readonly kind: SnapshotKind;
  /** Key or name. */
  readonly name: string;
  /** Name of the parent (committed) snapshot. */
  readonly parent?: string;
  /** Ids of the ancestors, parent first: the lower directories of an overlay. */
  readonly parents: readonly string[];
  readonly created: string;
  /** Implementation data (the copy snapshotter's prepare stamp). */
  readonly extra?: Readonly<Record<string, string>>;
  /**
   * Of a committed snapshot: the boot (kernel boot id) whose page cache its files were written
   * through, unsynced. A snapshot is a cache of layer blobs, which are fsynced: after a reboot
   * one of these may have lost writes, so the first open in another boot removes it (and its
   * descendants), and an unpack makes it again from its blob. A record without it (an older
   * kiln's) is kept.
   */
  readonly boot?: string;
}

/** What a new snapshot record starts as. */
export interface NewRecord {
  readonly kind: 'active' | 'view';
  readonly name: string;
  readonly parent?: SnapshotRecord;
}

/**
 * The snapshots under `<root>/snapshots/`, their names and their lifecycle on disk:
 *
 *     <id>/info.json     the {@link SnapshotRecord}
 *     <id>/owner         the owning process of an active snapshot or view (src/owner)
 *     <id>/fs/ …         the snapshot's files, as the implementation lays them out
 *     names/<sha256>     symlink → ../<id>: the key or name whose sha256 it is, claimed
 *                        atomically (symlink(2) fails when it exists)
 *     tmp/<random>/      snapshots being built, owned; and removed ones being deleted
 *     users/<pid>-<hex>/ the processes that have the store open, owned (src/owner)
 *     boot               the boot id of the last open: another one means the machine
 *                        rebooted, and the snapshots of earlier boots are removed
 *
 * A snapshot is built in tmp/, renamed to a free id (rename(2) of a directory onto a
 * non-empty one fails, so two processes never share an id), then its name is claimed; a
 * name always points at a whole snapshot. Removal unlinks the name first. Opening cleans what
 * crashes left: tmp/ entries and owned snapshots whose owner is dead, committed ones no name
 * points at, names pointing nowhere. No lock is taken; each step is one atomic call.
 *
 * Nothing syncs a snapshot's files (overlay mounts are `volatile`, unpacks write through the
 * page cache): a crash of the kernel can lose them, never a crash of kiln. So a committed
 * record carries its boot ({@link SnapshotRecord.boot}) and is trusted only in that boot.
 *
 * The records are small files read and written with synchronous calls: a step reads a few,
 * and a synchronous call costs a tenth of a round trip through libuv's thread pool.
 */
export class SnapshotRecords {
  readonly root: string;
  readonly #names: string;
  readonly #tmp: string;
  /** The highest id this process has seen taken (see #nextId). */
  #lastId: number | undefined;

  private constructor(root: string) {
    this.root = root;
    this.#names = join(root, 'names');
    this.#tmp = join(root, 'tmp');
  }

  /** Opens (creating) the record store at `root` and cleans what dead processes left. */
  static async open(root: string): Promise<SnapshotRecords> {
    const records = new SnapshotRecords(root);
    await mkdir(records.#names, { recursive: true });
    await mkdir(records.#tmp, { recursive: true });
    // Only a process that died with the store open can have left anything to clean: each
    // open registers its process under users/ until it exits, and the whole store (every
    // snapshot's record, so a cost that grows with the store) is checked only when a dead
    // one is registered there, or on a store without users/ (made by an older kiln).
    const users = join(root, 'users');
    const existed = lstatSync(users, { throwIfNoEntry: false }) !== undefined;
    mkdirSync(users, { recursive: true });
    const dead: string[] = [];
    for (const entry of readdirSync(users)) if (await isAbandoned(join(users, entry))) dead.push(join(users, entry));
    // A reboot since the last open: the snapshots written in earlier boots go too.
    const bootFile = join(root, 'boot');
    const boot = currentBoot();
    const rebooted = boot !== undefined && readTextOrUndefined(bootFile) !== boot;
    if (!existed || dead.length > 0 || rebooted) await records.#clean(rebooted ? boot : undefined);
    else await records.#cleanTmp();
    for (const dir of dead) rmSync(dir, { recursive: true, force: true });
    if (rebooted) writeText(bootFile, boot);
    await registerUser(users);
    return records;
  }

  /** The directory of the snapshot `id`. */
  dir(id: string): string {
    return join(this.root, id);
  }

  /** The record named `name`, or undefined. */
  async lookup(name: string): Promise<SnapshotRecord | undefined> {
    let target: string;
    try {
      target = readlinkSync(this.#nameLink(name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const record = await this.read(target.slice(target.lastIndexOf('/') + 1));
    // A name left by a crash may point at an id reused since; it is not this snapshot.
    return record?.name === name ? record : undefined;
  }

  /**
   * The record named `name`.
   * @throws NotFoundError when there is none.
   */
  async get(name: string): Promise<SnapshotRecord> {
    const record = await this.lookup(name);
    if (record === undefined) throw new NotFoundError(`snapshot ${JSON.stringify(name)} does not exist`);
    return record;
  }

  /** The record of the snapshot directory `id`, or undefined when it has none (or none readable). */
  async read(id: string): Promise<SnapshotRecord | undefined> {
    let text: string;
    try {
      text = readFileSync(join(this.dir(id), 'info.json'), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw error;
    }
    try {
      const record = JSON.parse(text) as SnapshotRecord;
      return record.schema === SCHEMA && record.id === id ? record : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Creates an owned snapshot: a directory built by `populate` (given the directory, which
   * holds only `owner` and `info.json` then), renamed to a free id, then named `name`.
   * Returns its record with `extra` as `populate` returned it.
   * @throws ConflictError when `name` is taken (nothing is kept).
   */
  async create(
    fields: NewRecord,
    populate: (dir: string) => Promise<Readonly<Record<string, string>> | undefined>,
  ): Promise<SnapshotRecord> {
    if (await this.lookup(fields.name)) throw taken(fields.name);
    const building = await this.temporary();
    try {
      const base = {
        schema: SCHEMA,
        kind: fields.kind,
        name: fields.name,
        ...(fields.parent === undefined ? {} : { parent: fields.parent.name }),
        parents: fields.parent === undefined ? [] : [fields.parent.id, ...fields.parent.parents],
        created: new Date().toISOString(),
      } as const;
      const extra = await populate(building);
      let record: SnapshotRecord | undefined;
      for (let id = this.#nextId(); record === undefined; id++) {
        const full: SnapshotRecord = { ...base, id: String(id), ...(extra === undefined ? {} : { extra }) };
        writeJson(join(building, 'info.json'), full);
        try {
          renameSync(building, this.dir(full.id));
          record = full;
          this.#lastId = Math.max(this.#lastId ?? 0, id);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
        }
      }
      try {
        symlinkSync(`../${record.id}`, this.#nameLink(record.name));
      } catch (error) {
        await rm(this.dir(record.id), { recursive: true, force: true });
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw taken(record.name);
        throw error;
      }
      return record;
    } finally {
      // Gone once renamed into place; else the few directories populate made.
      rmSync(building, { recursive: true, force: true });
    }
  }

  /**
   * Makes the active snapshot `key` the committed snapshot `name`: its record rewritten,
   * `name` claimed, `key` released, the owner file removed last (a crash before that leaves an
   * owned snapshot, cleaned as unfinished).
   * @throws NotFoundError; ConflictError when `key` is not active or `name` is taken.
   */
  async commit(name: string, key: string): Promise<SnapshotRecord> {
    const active = await this.get(key);
    if (active.kind !== 'active') {
      throw new ConflictError(`snapshot ${JSON.stringify(key)} is ${active.kind === 'view' ? 'a view' : 'committed'}: only an active snapshot can be committed`);
    }
    if (name !== key && (await this.lookup(name))) throw taken(name);
    const boot = currentBoot();
    const committed: SnapshotRecord = { ...active, kind: 'committed', name, ...(boot === undefined ? {} : { boot }) };
    const info = join(this.dir(active.id), 'info.json');
    // Stamped with this boot, the record needs no fsync: a crash that could lose it also
    // changes the boot, and the snapshot is then removed whatever its record says.
    if (boot === undefined) await writeJsonDurable(info, committed);
    else writeJson(info, committed);
    if (name !== key) {
      try {
        symlinkSync(`../${active.id}`, this.#nameLink(name));
      } catch (error) {
        writeJson(info, active);
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw taken(name);
        throw error;
      }
      unlinkSync(this.#nameLink(key));
    }
    unlinkForce(join(this.dir(active.id), OWNER_FILE));
    return committed;
  }

  /**
   * Removes the snapshot `name`: its name first (it is gone for everyone at once), then its
   * directory, renamed into tmp/ and deleted there.
   * @throws NotFoundError; ConflictError when it is the parent of another snapshot.
   */
  async remove(name: string): Promise<SnapshotRecord> {
    const record = await this.get(name);
    if (record.kind === 'committed') {
      const children = (await this.list()).filter((other) => other.parents[0] === record.id);
      if (children.length > 0) {
        throw new ConflictError(`snapshot ${JSON.stringify(name)} is the parent of ${children.map((c) => JSON.stringify(c.name)).join(', ')}`, {
          hint: 'remove its children first',
        });
      }
    }
    unlinkForce(this.#nameLink(name));
    await this.#discard(record.id);
    return record;
  }

  /** Every record with a name, in id order. */
  async list(): Promise<SnapshotRecord[]> {
    const records: SnapshotRecord[] = [];
    for (const id of await this.#ids()) {
      const record = await this.read(id);
      if (record !== undefined && (await this.lookup(record.name))?.id === id) records.push(record);
    }
    return records;
  }

  /**
   * A fresh directory under tmp/, owned by this process, for building something that is then
   * renamed into place; the caller removes it when it is left over.
   */
  async temporary(): Promise<string> {
    const dir = join(this.#tmp, `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
    mkdirSync(dir);
    await claimDirectory(dir);
    return dir;
  }

  /** The public view of a record. */
  static info(record: SnapshotRecord): SnapshotInfo {
    return { kind: record.kind, name: record.name, parent: record.parent, created: record.created };
  }

  async #discard(id: string): Promise<void> {
    const aside = join(this.#tmp, `rm-${id}-${randomBytes(6).toString('hex')}`);
    try {
      renameSync(this.dir(id), aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    await rm(aside, { recursive: true, force: true });
  }

  async #ids(): Promise<string[]> {
    return readdirSync(this.root).filter((name) => /^[1-9]\d*$/.test(name)).sort((a, b) => Number(a) - Number(b));
  }

  /**
   * An id to try for a new snapshot: past the highest on disk when first asked (one readdir),
   * then past the last this process took. Another process may have taken it meanwhile: the
   * rename then fails and the next id is tried.
   */
  #nextId(): number {
    if (this.#lastId === undefined) {
      const ids = readdirSync(this.root).filter((name) => /^[1-9]\d*$/.test(name));
      this.#lastId = ids.reduce((highest, id) => Math.max(highest, Number(id)), 0);
    }
    return this.#lastId + 1;
  }


  #nameLink(name: string): string {
    if (name === '') throw new InternalError('a snapshot needs a non-empty key or name');
    return join(this.#names, createHash('sha256').update(name).digest('hex'));
  }

  async #cleanTmp(): Promise<void> {
    for (const entry of readdirSync(this.#tmp)) {
      const dir = join(this.#tmp, entry);
      if (await isAbandoned(dir)) await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Removes what crashes left; given `boot` (the machine rebooted), also the committed
   * snapshots written unsynced in another boot, and every snapshot on one of those. Parents
   * have lower ids than their children (#nextId), so one pass in id order sees a parent first.
   */
  async #clean(boot?: string): Promise<void> {
    await this.#cleanTmp();
    const discarded = new Set<string>();
    for (const id of await this.#ids()) {
      const dir = this.dir(id);
      const record = await this.read(id);
      if (boot !== undefined && record !== undefined && (record.parents.some((parent) => discarded.has(parent)) || (record.boot ?? boot) !== boot)) {
        discarded.add(id);
        await this.#discard(id);
        continue;
      }
      const owned = exists(join(dir, OWNER_FILE));
      if (owned) {
        // An active snapshot or view of a process that is gone (or a commit it never finished).
        if (await isAbandoned(dir)) await this.#discard(id);
        continue;
      }
      // Committed and named: kept. Anything else is what a crashed removal left.
      if (record === undefined || (await this.lookup(record.name))?.id !== id) await this.#discard(id);
    }
    for (const hash of readdirSync(this.#names)) {
      const link = join(this.#names, hash);
      const target = readlinkOrUndefined(link);
      const id = target?.slice(target.lastIndexOf('/') + 1);
      if (id === undefined || (await this.read(id)) === undefined) unlinkForce(link);
    }
  }
}

/** Directories under users/ this process registered, removed when it exits. */
const registered = new Map<string, string>();

/** Registers this process as a user of the store whose users/ directory is `users` (once per process). */
async function registerUser(users: string): Promise<void> {
  if (registered.has(users)) return;
  const dir = join(users, `${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir);
  await claimDirectory(dir);
  if (registered.size === 0) {
    process.once('exit', () => {
      for (const path of registered.values()) rmSync(path, { recursive: true, force: true });
    });
  }
  registered.set(users, dir);
}

function taken(name: string): ConflictError {
  return new ConflictError(`snapshot ${JSON.stringify(name)} already exists`, { hint: 'choose another key, or remove the snapshot first' });
}

/**
 * Writes JSON to `path` through a temporary file and rename(2): whole or not at all. Only a
 * commit is fsynced too ({@link writeJsonDurable}): an owned snapshot does not outlive its process, and
 * is removed at the next open whatever its record says. (The snapshot's files are as durable
 * as the file system makes them: Node has no syncfs(2).)
 */
function writeJson(path: string, value: unknown): void {
  const { tmp, fd } = writeTemporaryJson(path, value);
  closeSync(fd);
  renameSync(tmp, path);
}

/** {@link writeJson}, fsynced before the rename; the fsync, which may wait for the disk, off the event loop. */
async function writeJsonDurable(path: string, value: unknown): Promise<void> {
  const { tmp, fd } = writeTemporaryJson(path, value);
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** `value` as JSON in a new temporary file beside `path`, still open (the caller closes `fd`). */
function writeTemporaryJson(path: string, value: unknown): { tmp: string; fd: number } {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeSync(fd, `${JSON.stringify(value)}\n`);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return { tmp, fd };
}

/** unlink(2), ignoring a missing file. */
function unlinkForce(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function exists(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** This boot's id (random at every boot, proc(5)); undefined where /proc does not say. */
function currentBoot(): string | undefined {
  bootId ??= readTextOrUndefined('/proc/sys/kernel/random/boot_id') ?? '';
  return bootId === '' ? undefined : bootId;
}
let bootId: string | undefined;

function readTextOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Writes `text` to `path` whole or not at all (a temporary file renamed over it). */
function writeText(path: string, text: string): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${text}\n`);
  renameSync(tmp, path);
}

function readlinkOrUndefined(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
