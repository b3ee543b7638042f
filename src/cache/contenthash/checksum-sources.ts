import { createHash, type Hash } from 'node:crypto';
import { type BigIntStats, readlinkSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { type Digest, digestOf } from '../../content/index.ts';
import { deviceMajor, deviceMinor, eventLoopTurns, isOverlayXattr } from '../../image/layer/index.ts';
import { readXattrs } from '../../native/index.ts';
import { type ContentReader, poolingContentReader } from './content-reader.ts';
import type { CopySelection } from './copy-selection.ts';
import { selectSources } from './select-sources.ts';
import { SourceTree } from './source-tree.ts';
import type { DirectoryListing } from '../../native/index.ts';
import type { StatCache } from './stat-cache.ts';
import { type KnownListings, walkMatch } from './walk-selection.ts';

/** What {@link checksumSources} digests: a COPY's selection, and whether it sets owners. */
export interface ChecksumRequest extends CopySelection {
  /**
   * Present (any value: the resolved owner, the `--chown` text) when the copy sets its own
   * owner; the source's owners then do not reach the output and are left out.
   */
  readonly owner?: unknown;
  /** Where entry digests are remembered by metadata; the caller saves it when done. */
  readonly statCache?: StatCache;
  /**
   * Reads file contents (default: the file system, on this thread for a small job and on hash
   * workers past 16 MiB or 1,000 files, see poolingContentReader).
   */
  readonly reader?: ContentReader;
  /**
   * Told each entry (its path below the source root) whose content had to be read or
   * re-hashed because the stat cache did not know it as it is now: with a warm stat cache,
   * the files added or changed since they were last hashed. For miss explanations.
   */
  readonly onRehash?: (path: string) => void;
  readonly signal?: AbortSignal;
}

/** Versions the record layout: a change to what is hashed changes every key. */
const SCHEMA = 'kiln.contenthash.v1';

/**
 * The content digest of exactly what a copy of `request` reads, for its cache key: the
 * sources resolved and walked by the same code as the copy (src/solver/file), so the same
 * wildcards, symlinks, ignore rules, `--exclude` and `--parents` apply. Hashed, per entry in
 * walk order: its path relative to the selected source (the base name of a selected file),
 * its type, permission bits (07777), owner only when it reaches the output (a `rootfs`
 * source without `owner`: context files count as 0:0), a symlink's target, a device's
 * numbers, a file's size, a hard link's first path, and a digest of the entry's extended
 * attributes with, for a file, its content's sha256. Never times, and never what the ignore
 * rules or `--exclude` leave out.
 *
 * An entry whose metadata is unchanged since `statCache` recorded it is neither read nor
 * asked for its extended attributes: re-hashing an unchanged tree costs one lstat(2) per entry.
 * Entries that must be read are read while the walk goes on (up to 512 records wait for
 * their reads), so a reader that works elsewhere (hash workers) overlaps the walk; the
 * records are hashed in walk order all the same.
 *
 * @throws NotFoundError naming a source that does not exist or is excluded by the ignore
 * file (as the copy would); the abort reason when `signal` aborts
 */
export async function checksumSources(request: ChecksumRequest): Promise<Digest> {
  request.signal?.throwIfAborted();
  const reader = request.reader ?? poolingContentReader();
  const tree = await SourceTree.open(request.source);
  try {
    return await checksumTree(tree, request, reader);
  } finally {
    tree.close();
  }
}

async function checksumTree(tree: SourceTree, request: ChecksumRequest, reader: ContentReader): Promise<Digest> {
  const signal = request.signal;
  const cache = request.statCache;
  const selection = selectSources(tree, request);
  const owners = tree.kind === 'rootfs' && request.owner === undefined;
  const onRehash = request.onRehash;
  const rehashed = onRehash === undefined ? undefined : (path: string): void => onRehash(relative(request.source.dir, path));
  const out = new RecordWriter();
  out.write([SCHEMA, owners]);
  const listings = new ListingRecorder(cache, tree, owners);
  // An entry the stat cache knows takes a few microseconds: the clock is read every 32.
  const turn = eventLoopTurns(4, 32);
  /**
   * A record whose detail must be read. Its directory is not kept in the listing memo this
   * time (the next checksum, finding it in the stat cache, keeps it): a cold checksum then
   * holds no records for the memo (a tenth of a 20,000-file context's peak memory).
   */
  const later = (path: string, stats: BigIntStats, format: (detail: Digest) => string): void => {
    listings.distrust();
    out.later(detail(path, stats, reader, cache, signal, rehashed), format);
  };
  /**
   * Writes the record `format` makes of an entry's detail: at once when the stat cache knows
   * it, else once it is read (in order: later records wait in the writer meanwhile).
   */
  const record = (path: string, stats: BigIntStats, format: (detail: Digest) => string): void => {
    const known = cache?.lookup(path, stats);
    if (known === undefined) later(path, stats, format);
    else listings.add(out.line(format(known)));
  };
  /** {@link record} for the commonest records, `start` then the detail in quotes: made without a closure when the cache knows the entry. */
  const recordQuoted = (path: string, stats: BigIntStats, start: string): void => {
    const known = cache?.lookup(path, stats);
    if (known === undefined) later(path, stats, (detailDigest) => `${start}${detailDigest}"]`);
    else listings.add(out.line(`${start}${known}"]`));
  };
  try {
    for (const [index, source] of selection.sources.entries()) {
      out.write(['source', index, source.matches.length]);
      for (const match of source.matches) {
        out.write(['match', basename(match.path)]);
        const firstLinks = new Map<string, string>();
        for (const event of walkMatch(tree, source, match, selection.exclude, listings.known)) {
          const pause = turn();
          if (pause) await pause;
          signal?.throwIfAborted();
          if (out.behind) await out.catchUp();
          if (event.kind === 'leave') continue;
          if (event.kind === 'run') {
            out.bytes(event.run);
            continue;
          }
          if (event.kind === 'cut') {
            listings.cut(event.last);
            continue;
          }
          const { rel, path, stats } = event;
          const owner: [number, number] | null = owners ? [Number(stats.uid), Number(stats.gid)] : null;
          const mode = Number(stats.mode) & 0o7777;
          // The commonest records are formatted by hand, byte for byte as JSON.stringify would.
          if (event.kind === 'dir') {
            // Not in its parent's runs: the walk gives a directory whether or not its parent is known.
            out.line(`["dir",${JSON.stringify(rel)},${mode},${ownerJson(owner)},${event.implied},"${directoryDetail(path)}"]`);
          } else if (stats.isFile()) {
            if (stats.nlink > 1n) {
              // fsutil links a second path to an inode it copied (getLinkSource).
              listings.distrust();
              const key = `${stats.dev}:${stats.ino}`;
              const first = firstLinks.get(key);
              if (first !== undefined) {
                listings.add(out.write(['link', rel, first]));
                continue;
              }
              firstLinks.set(key, rel);
            }
            recordQuoted(path, stats, `["file",${JSON.stringify(rel)},${mode},${ownerJson(owner)},"${stats.size}","`);
          } else if (stats.isSymbolicLink()) {
            const target = readlinkSync(path);
            record(path, stats, (detailDigest) => JSON.stringify(['symlink', rel, owner, target, detailDigest]));
          } else {
            const type = stats.isFIFO() ? 'fifo' : stats.isSocket() ? 'socket' : stats.isCharacterDevice() ? 'char' : 'block';
            const device = type === 'char' || type === 'block' ? [deviceMajor(stats.rdev), deviceMinor(stats.rdev)] : null;
            record(path, stats, (detailDigest) => JSON.stringify([type, rel, mode, owner, device, detailDigest]));
          }
        }
      }
    }
    const digest = await out.digest();
    listings.keep();
    return digest;
  } finally {
    out.abandon();
  }
}

/** What the listing memo is told of one directory the walk went through entry by entry. */
interface Recorder {
  readonly key: string;
  readonly listing: DirectoryListing;
  /** Its runs, each record's text. */
  readonly runs: string[][];
  current: string[];
  /** False once a record had to be read, or depends on another directory (a hard link): the directory is not kept. */
  trusted: boolean;
}

/**
 * The checksum's side of the stat cache's listing memo (listing-memo.ts): as the walk lists a
 * directory (walk-selection's KnownListings), gives back the runs of records kept for it, or
 * starts recording its runs from the records written for its entries, kept when the checksum
 * ends if the stat cache knew every one of them (so each is as trustworthy as the stat
 * cache's entries: never a file changed in the clock tick it was read).
 */
class ListingRecorder {
  /** Given to the walk; undefined when there is no memo (no stat cache, or a source that is not the context). */
  readonly known: KnownListings | undefined;
  /** Directories being walked entry by entry, the innermost last. */
  readonly #open: Recorder[] = [];
  readonly #done: Recorder[] = [];
  readonly #cache: StatCache | undefined;

  constructor(cache: StatCache | undefined, tree: SourceTree, owners: boolean) {
    this.#cache = cache;
    const memo = cache?.listings;
    if (memo === undefined || tree.kind !== 'context') return;
    // What else the records depend on: the record layout, owners, the ignore rules, the directory's place.
    const base = JSON.stringify([SCHEMA, owners, tree.filter?.key ?? null]);
    this.known = {
      runs: (path, rel, listing, count) => {
        const key = `${base}\0${rel}\0${path}`;
        const runs = memo.runs(key, listing);
        if (runs !== undefined && runs.length === count) return runs;
        this.#open.push({ key, listing, runs: [], current: [], trusted: true });
        return undefined;
      },
    };
  }

  /** The directory the records written now are of. */
  get current(): Recorder | undefined {
    return this.#open[this.#open.length - 1];
  }

  /** A record of the current directory's entries. */
  add(record: string): void {
    const current = this.current;
    if (current?.trusted === true) current.current.push(record);
  }

  /** The current directory's records are not to be kept: those collected are dropped. */
  distrust(): void {
    const current = this.current;
    if (current === undefined || !current.trusted) return;
    current.trusted = false;
    current.runs.length = 0;
    current.current = [];
  }

  /** The current run ends; with `last`, the directory. */
  cut(last: boolean): void {
    const recorder = this.current;
    if (recorder === undefined) return;
    if (recorder.trusted) {
      recorder.runs.push(recorder.current);
      recorder.current = [];
    }
    if (last) {
      this.#open.pop();
      if (recorder.trusted) this.#done.push(recorder);
    }
  }

  /** Keeps what every trusted directory made (once the checksum is done). */
  keep(): void {
    const memo = this.#cache?.listings;
    if (memo === undefined) return;
    for (const recorder of this.#done) {
      memo.keep(
        recorder.key,
        recorder.listing,
        recorder.runs.map((run) => run.map((record) => `${record}\n`).join('')),
      );
    }
    this.#done.length = 0;
  }
}

/**
 * What an entry holds beyond its lstat: a file's content digest and any entry's extended
 * attributes, hashed together. Kept in the stat cache by metadata (setxattr(2) moves ctime
 * too), so an unchanged entry costs neither a read nor an llistxattr(2): the caller asks the
 * cache first, and comes here for what it does not know.
 */
async function detail(
  path: string,
  stats: BigIntStats,
  reader: ContentReader,
  cache: StatCache | undefined,
  signal: AbortSignal | undefined,
  onRehash?: (path: string) => void,
): Promise<Digest> {
  if (cache !== undefined && !stats.isDirectory()) onRehash?.(path);
  const readAt = cache?.now();
  const xattrs = xattrRecord(path);
  const content = stats.isFile() ? await reader.digest(path, stats.size, signal) : null;
  const digest = digestOf(JSON.stringify([content, xattrs]));
  cache?.record(path, stats, digest, readAt);
  return digest;
}

/**
 * {@link detail} of a directory: its extended attributes alone, read each time (one
 * llistxattr(2) when it has none) and not kept in the stat cache, which a build whose every
 * directory the listing memo knows then never loads.
 */
function directoryDetail(path: string): Digest {
  return digestOf(JSON.stringify([null, xattrRecord(path)]));
}

/** The entry's extended attributes the copy would carry, by name, values in base64. */
function xattrRecord(path: string): [string, string][] | null {
  const all = readXattrs(path);
  const names = Object.keys(all).filter((name) => !isOverlayXattr(name));
  if (names.length === 0) return null;
  return names.map((name) => [name, (all[name] as Buffer).toString('base64')]);
}

/** `owner` as JSON.stringify writes it. */
function ownerJson(owner: readonly [number, number] | null): string {
  return owner === null ? 'null' : `[${owner[0]},${owner[1]}]`;
}

/** A record still being read, or read (or a run of records given whole). */
interface Slot {
  text?: string | Uint8Array;
  failure?: { readonly error: unknown };
  readonly ready: Promise<void>;
}

/**
 * Records waiting for their detail before the writer stops the walk to catch up. 512, not
 * 1,024: what waits is most of a cold checksum's live heap (W4 cold's peak RSS 5 MB lower),
 * and the checksum took ~10% longer (bench/contenthash.ts cold, 0.45x sha256sum against 0.40x).
 */
const WINDOW = 512;

/**
 * Hashes records, one JSON line each (JSON.stringify is canonical for arrays of plain
 * values), in the order they are given, though a record's detail may arrive later: such a
 * record, and every one after it, waits in a queue of at most {@link WINDOW}.
 */
class RecordWriter {
  readonly #hash: Hash = createHash('sha256');
  #pending = '';
  readonly #queue: Slot[] = [];
  #head = 0;

  /** True when the walk should wait ({@link catchUp}) before giving more records. */
  get behind(): boolean {
    return this.#queue.length - this.#head >= WINDOW;
  }

  /** Writes a record; returns its text. */
  write(record: readonly unknown[]): string {
    return this.line(JSON.stringify(record));
  }

  /** A record already formatted: exactly what JSON.stringify gives for it. Returns it. */
  line(json: string): string {
    if (this.#head < this.#queue.length) this.#takeReady();
    if (this.#head < this.#queue.length) this.#queue.push({ text: json, ready: READY });
    else this.#append(json);
    return json;
  }

  /** Records as written before, each with its newline, whole: hashed as they are. */
  bytes(run: Uint8Array): void {
    if (this.#head < this.#queue.length) this.#takeReady();
    if (this.#head < this.#queue.length) this.#queue.push({ text: run, ready: READY });
    else this.#appendBytes(run);
  }

  /**
   * Writes the records at the head of the queue whose detail has come: once a read that held
   * the queue is done, the records after it go straight to the hash again, not through a slot
   * each until the next {@link catchUp}.
   */
  #takeReady(): void {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const text = (queue[this.#head] as Slot).text;
      if (text === undefined) return;
      this.#head += 1;
      this.#append(text);
    }
    queue.length = 0;
    this.#head = 0;
  }

  /**
   * A record `format` makes of `detail` once it comes; a rejection is thrown by {@link catchUp}
   * or {@link digest} in its turn.
   */
  later(detail: Promise<Digest>, format: (detail: Digest) => string): void {
    const slot: Slot = {
      ready: detail.then(
        (value) => {
          slot.text = format(value);
        },
        (error: unknown) => {
          slot.failure = { error };
        },
      ),
    };
    this.#queue.push(slot);
  }

  /** Writes the queued records in order until at most `keep` wait. @throws a record's failure */
  async catchUp(keep = WINDOW / 2): Promise<void> {
    const queue = this.#queue;
    while (queue.length - this.#head > keep) {
      const slot = queue[this.#head] as Slot;
      if (slot.text === undefined && slot.failure === undefined) await slot.ready;
      if (slot.failure !== undefined) throw slot.failure.error;
      this.#head += 1;
      this.#append(slot.text as string | Uint8Array);
    }
    queue.splice(0, this.#head);
    this.#head = 0;
  }

  /** The digest of every record. @throws the first record that failed */
  async digest(): Promise<Digest> {
    await this.catchUp(0);
    this.#flush();
    return `sha256:${this.#hash.digest('hex')}` as Digest;
  }

  /** Drops what is queued (the walk failed): pending reads end unobserved. */
  abandon(): void {
    this.#queue.length = 0;
    this.#head = 0;
  }

  #append(text: string | Uint8Array): void {
    if (typeof text !== 'string') {
      this.#appendBytes(text);
      return;
    }
    this.#pending += `${text}\n`;
    // Handed to the hash in pieces of about 64 KiB: one call per record costs more than the hashing.
    if (this.#pending.length >= 65_536) this.#flush();
  }

  #appendBytes(bytes: Uint8Array): void {
    this.#flush();
    this.#hash.update(bytes);
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    this.#hash.update(this.#pending);
    this.#pending = '';
  }
}

const READY = Promise.resolve();
