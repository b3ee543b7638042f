import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { type DirectoryListing, PACKED_FIELD, PACKED_FIELDS } from '../../native/index.ts';
import { writeFileAtomic } from './atomic-write.ts';

/**
 * What the checksum made of each directory it walked, by the directory's listing: the
 * records of its entries that are not directories, cut into runs by its directory entries
 * (src/cache/contenthash walk-selection's KnownListings). A directory listed again exactly
 * as then (every name, and each entry's device, inode, mode, links, owner, device numbers,
 * size, mtime and ctime; a subdirectory's mode only) gives back the runs, and the walk then
 * costs no work per entry: a 20,000-file context is 200 directories.
 *
 * The caller keeps a listing only when each of its entries' records was as trustworthy as
 * the stat cache's (a digest found there, or read and recorded there: never a file changed
 * in the same clock tick as its read), and names it by everything else the records depend
 * on (`key`: the directory, its path below the match, the ignore rules). The runs are
 * opaque bytes here.
 *
 * Kept in a file of its own beside the stat cache's: `kilnlm01`, then records appended as
 * directories are kept (the last of a key wins), each `u32 length, u32 crc32, body`, little
 * endian. A body: the key, the names joined by `/`, the kept fields as 32-bit words in this
 * machine's order, and the runs (see {@link encodeBody}). A torn or damaged record is no
 * record; the file is written whole again when it is more than half superseded records.
 */
export class ListingMemo {
  readonly #file: string;
  readonly #maxBytes: number;
  readonly #records = new Map<string, MemoRecord>();
  /** Keys kept since the file was read or written. */
  readonly #changed = new Set<string>();
  /** Bytes of the file's records that a later record of their key replaced. */
  #deadBytes = 0;
  /** Whether the file can take records appended: it was read whole (or written) and checked out. */
  #appendable: boolean;

  private constructor(file: string, maxBytes: number, appendable: boolean) {
    this.#file = file;
    this.#maxBytes = maxBytes;
    this.#appendable = appendable;
  }

  /**
   * The memo kept in `file`; a missing, unreadable or malformed file is an empty memo.
   * `maxBytes` bounds it: past that, a save keeps only the directories used since opening.
   */
  static async open(file: string, options: { readonly maxBytes?: number } = {}): Promise<ListingMemo> {
    const bytes = await readFile(file).catch(() => undefined);
    const memo = new ListingMemo(file, options.maxBytes ?? DEFAULT_MAX_BYTES, false);
    if (bytes !== undefined) memo.#load(bytes);
    return memo;
  }

  /** How many directories it knows. */
  get size(): number {
    return this.#records.size;
  }

  /**
   * The runs kept for `key` when `listing` is exactly the listing they were kept with
   * (views of the memo's bytes); undefined otherwise.
   */
  runs(key: string, listing: DirectoryListing): Uint8Array[] | undefined {
    const record = this.#records.get(key);
    if (record === undefined) return undefined;
    if (!record.checked) {
      if (crc32(record.body) !== record.crc) {
        this.#records.delete(key);
        this.#appendable = false;
        return undefined;
      }
      record.checked = true;
    }
    const decoded = decodeBody(record.body);
    if (decoded === undefined || !sameListing(decoded, listing)) return undefined;
    record.used = true;
    return decoded.runs;
  }

  /** Keeps `runs` (encoded as UTF-8) as what `key`'s directory listed as `listing` gives. */
  keep(key: string, listing: DirectoryListing, runs: readonly string[]): void {
    const body = encodeBody(key, listing, runs);
    const previous = this.#records.get(key);
    if (previous !== undefined && !previous.unsaved) this.#deadBytes += previous.body.length + HEADER;
    this.#records.set(key, { body, crc: crc32(body), checked: true, used: true, unsaved: true });
    this.#changed.add(key);
  }

  /** Writes what was kept since opening: appended, or the file whole when it is mostly superseded records. */
  async save(): Promise<void> {
    if (this.#changed.size === 0) return;
    const keys = [...this.#changed];
    const kept = keys.map((key) => this.#records.get(key));
    const appended = kept.filter((record) => record !== undefined);
    const liveBytes = [...this.#records.values()].reduce((sum, record) => sum + record.body.length + HEADER, 0);
    if (this.#appendable && this.#deadBytes <= liveBytes && liveBytes <= this.#maxBytes) {
      if (await this.#append(appended)) {
        this.#saved(keys, kept);
        return;
      }
    }
    await this.#writeWhole(liveBytes > this.#maxBytes);
    this.#saved(keys, kept);
    this.#deadBytes = 0;
    this.#appendable = true;
  }

  /** Marks what a save wrote as in the file, unless kept again since. */
  #saved(keys: readonly string[], records: readonly (MemoRecord | undefined)[]): void {
    for (const [index, key] of keys.entries()) {
      const record = records[index];
      const current = this.#records.get(key);
      if (current !== undefined && current !== record) continue;
      if (record !== undefined) record.unsaved = false;
      this.#changed.delete(key);
    }
  }

  /** Appends `records` in one write; false when the file is gone. */
  async #append(records: readonly MemoRecord[]): Promise<boolean> {
    const handle = await open(this.#file, constants.O_WRONLY | constants.O_APPEND).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (handle === undefined) return false;
    try {
      const bytes = frame(records);
      const { bytesWritten } = await handle.write(bytes);
      // Short (a full disk): the tail is torn, and only a whole write mends it.
      if (bytesWritten !== bytes.length) this.#appendable = false;
    } finally {
      await handle.close();
    }
    return true;
  }

  /** Writes every record as a new file, atomically: past `maxBytes`, only those used since opening. */
  async #writeWhole(onlyUsed: boolean): Promise<void> {
    const kept: MemoRecord[] = [];
    let bytes = MAGIC.length;
    for (const [key, record] of this.#records) {
      let keep = !onlyUsed || record.used;
      if (keep && !record.checked) {
        keep = crc32(record.body) === record.crc;
        record.checked = keep;
      }
      keep &&= bytes + record.body.length + HEADER <= this.#maxBytes;
      // What the file will not hold is forgotten, so that it never counts as in the file.
      if (!keep) {
        this.#records.delete(key);
        continue;
      }
      bytes += record.body.length + HEADER;
      kept.push(record);
    }
    // Each record checks itself, so a torn write reads as fewer records: no fsync before the rename.
    await writeFileAtomic(this.#file, Buffer.concat([MAGIC, frame(kept)]), { sync: false });
  }

  #load(bytes: Buffer): void {
    if (bytes.length < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return;
    // The words are read through an Int32Array, which needs them 4-byte aligned in memory.
    const file = bytes.byteOffset % 4 === 0 ? bytes : Buffer.from(bytes);
    let at = MAGIC.length;
    while (at + HEADER <= file.length) {
      const length = file.readUInt32LE(at);
      const crc = file.readUInt32LE(at + 4);
      const start = at + HEADER;
      if (length % 4 !== 0 || length < 4 || start + length > file.length) break;
      const body = file.subarray(start, start + length);
      const keyLength = body.readUInt32LE(0);
      if (4 + keyLength > length) break;
      const key = body.toString('utf8', 4, 4 + keyLength);
      const previous = this.#records.get(key);
      if (previous !== undefined) this.#deadBytes += previous.body.length + HEADER;
      this.#records.set(key, { body, crc, checked: false, used: false, unsaved: false });
      at = start + length;
    }
    // Appendable only when every byte was a whole record: a torn tail is mended by a whole write.
    this.#appendable = at === file.length;
  }
}

interface MemoRecord {
  readonly body: Buffer;
  readonly crc: number;
  /** Whether its crc32 was checked. */
  checked: boolean;
  /** Whether it was used or kept since opening. */
  used: boolean;
  /** Whether it is not in the file yet. */
  unsaved: boolean;
}

interface DecodedBody {
  readonly count: number;
  readonly names: Buffer;
  readonly words: Int32Array;
  readonly runs: Uint8Array[];
}

const MAGIC = Buffer.from('kilnlm01');
/** A record's length and crc32. */
const HEADER = 8;
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** The packed fields kept of each entry; of a directory entry, only its mode (the others kept as 0). */
const KEPT_FIELDS = [
  PACKED_FIELD.dev,
  PACKED_FIELD.ino,
  PACKED_FIELD.mode,
  PACKED_FIELD.nlink,
  PACKED_FIELD.uid,
  PACKED_FIELD.gid,
  PACKED_FIELD.rdev,
  PACKED_FIELD.size,
  PACKED_FIELD.mtimeNs,
  PACKED_FIELD.ctimeNs,
] as const;
const KEPT_WORDS = KEPT_FIELDS.length * 2;
const MODE_INDEX = KEPT_FIELDS.indexOf(PACKED_FIELD.mode);
/** Where the mode's low 32 bits are among its two words: first on a little-endian machine. */
const LOW_WORD = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;

/** Where each kept word is in an entry's packed row, in words. */
const KEPT_OFFSETS = Int32Array.from(KEPT_FIELDS.flatMap((field) => [2 * field, 2 * field + 1]));
const ROW_WORDS = 2 * PACKED_FIELDS;
const MODE_WORD = 2 * PACKED_FIELD.mode;

function isDirectoryRow(words: Int32Array, row: number): boolean {
  return (words[row + MODE_WORD + LOW_WORD]! & constants.S_IFMT) === constants.S_IFDIR;
}

/**
 * `u32 keyLength, key, pad, u32 count, u32 namesLength, names, pad, i32 words[count × 20],
 * u32 runCount, u32 runLength[runCount], runs, pad`; pads to 4 bytes with zeros.
 */
function encodeBody(key: string, listing: DirectoryListing, runs: readonly string[]): Buffer {
  const keyBytes = Buffer.from(key);
  const names = listing.joinedNames;
  const runBytes = runs.map((run) => Buffer.from(run));
  const count = listing.length;
  const runsLength = runBytes.reduce((sum, run) => sum + run.length, 0);
  const size = 4 + pad4(keyBytes.length) + 8 + pad4(names.length) + count * KEPT_WORDS * 4 + 4 + 4 * runs.length + pad4(runsLength);
  const body = Buffer.alloc(size);
  let at = 0;
  body.writeUInt32LE(keyBytes.length, at);
  keyBytes.copy(body, at + 4);
  at += 4 + pad4(keyBytes.length);
  body.writeUInt32LE(count, at);
  body.writeUInt32LE(names.length, at + 4);
  names.copy(body, at + 8);
  at += 8 + pad4(names.length);
  const words = new Int32Array(count * KEPT_WORDS);
  const from = listing.words;
  for (let index = 0; index < count; index++) {
    const row = index * ROW_WORDS;
    const at = index * KEPT_WORDS;
    if (isDirectoryRow(from, row)) {
      words[at + MODE_INDEX * 2] = from[row + MODE_WORD]!;
      words[at + MODE_INDEX * 2 + 1] = from[row + MODE_WORD + 1]!;
      continue;
    }
    for (let word = 0; word < KEPT_WORDS; word++) words[at + word] = from[row + KEPT_OFFSETS[word]!]!;
  }
  Buffer.from(words.buffer, words.byteOffset, words.byteLength).copy(body, at);
  at += words.byteLength;
  body.writeUInt32LE(runs.length, at);
  at += 4;
  for (const run of runBytes) {
    body.writeUInt32LE(run.length, at);
    at += 4;
  }
  for (const run of runBytes) {
    run.copy(body, at);
    at += run.length;
  }
  return body;
}

/** A checked body's parts (views of it); undefined when its lengths do not add up. */
function decodeBody(body: Buffer): DecodedBody | undefined {
  const keyLength = body.readUInt32LE(0);
  let at = 4 + pad4(keyLength);
  if (at + 8 > body.length) return undefined;
  const count = body.readUInt32LE(at);
  const namesLength = body.readUInt32LE(at + 4);
  at += 8;
  if (at + pad4(namesLength) + count * KEPT_WORDS * 4 + 4 > body.length) return undefined;
  const names = body.subarray(at, at + namesLength);
  at += pad4(namesLength);
  const words = new Int32Array(body.buffer, body.byteOffset + at, count * KEPT_WORDS);
  at += count * KEPT_WORDS * 4;
  const runCount = body.readUInt32LE(at);
  at += 4;
  if (at + 4 * runCount > body.length) return undefined;
  const runs: Uint8Array[] = new Array<Uint8Array>(runCount);
  let runAt = at + 4 * runCount;
  for (let run = 0; run < runCount; run++) {
    const length = body.readUInt32LE(at + 4 * run);
    if (runAt + length > body.length) return undefined;
    runs[run] = body.subarray(runAt, runAt + length);
    runAt += length;
  }
  return { count, names, words, runs };
}

/** Whether `listing` is what `decoded` was kept from, field for field. */
function sameListing(decoded: DecodedBody, listing: DirectoryListing): boolean {
  const count = decoded.count;
  if (count !== listing.length) return false;
  const kept = decoded.words;
  const words = listing.words;
  for (let index = 0; index < count; index++) {
    const row = index * ROW_WORDS;
    const at = index * KEPT_WORDS;
    if (isDirectoryRow(words, row)) {
      if (kept[at + MODE_INDEX * 2] !== words[row + MODE_WORD] || kept[at + MODE_INDEX * 2 + 1] !== words[row + MODE_WORD + 1]) return false;
      continue;
    }
    for (let word = 0; word < KEPT_WORDS; word++) if (kept[at + word] !== words[row + KEPT_OFFSETS[word]!]) return false;
  }
  return decoded.names.equals(listing.joinedNames);
}

/** Records as the file holds them: length, crc32, body. */
function frame(records: readonly MemoRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const record of records) {
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(record.body.length, 0);
    header.writeUInt32LE(record.crc, 4);
    parts.push(header, record.body);
  }
  return Buffer.concat(parts);
}

function pad4(length: number): number {
  return (length + 3) & ~3;
}
