import { Readable } from 'node:stream';
import { InputError, IntegrityError } from '../../errors/index.ts';
import { ByteSource } from './byte-source.ts';
import type { LayerEntry, LayerEntryType } from './layer-entry.ts';
import { decodePaxRecords, PAX_HEADER_LIMIT, type PaxRecord } from './pax-records.ts';
import { BLOCK_SIZE, decodeHeader, padding, TypeFlag, type RawHeader } from './tar-header.ts';

/** An entry as {@link readLayerTar} yields it. */
export interface ReadLayerEntry extends Omit<LayerEntry, 'content' | 'size'> {
  /**
   * The cleaned path: no leading `/` or `./`, no trailing `/`; `''` for the layer root (a
   * `./` entry some tars carry).
   */
  readonly path: string;
  /** The body's length; 0 for every type but `file`. */
  readonly size: number;
  /**
   * The body (empty but for files). Read it to its end before advancing the iterator;
   * advancing discards whatever was not read and destroys the stream.
   */
  readonly body: Readable;
  /** PAX records kiln does not map to a field (`atime`, `uname`, `SCHILY.fflags`, …). */
  readonly pax: Readonly<Record<string, string>>;
}

/** Options of {@link readLayerTar}. */
export interface ReadLayerTarOptions {
  readonly signal?: AbortSignal;
  /** Names the archive in errors (a digest, a file name); default `layer tar`. */
  readonly name?: string;
}

/** Bytes a body stream asks the source for at once. */
const BODY_CHUNK = 1 << 20;

const TYPES: ReadonlyMap<number, LayerEntryType> = new Map([
  [TypeFlag.file, 'file'],
  [TypeFlag.oldFile, 'file'],
  [TypeFlag.contiguous, 'file'],
  [TypeFlag.hardlink, 'hardlink'],
  [TypeFlag.symlink, 'symlink'],
  [TypeFlag.char, 'char'],
  [TypeFlag.block, 'block'],
  [TypeFlag.dir, 'dir'],
  [TypeFlag.fifo, 'fifo'],
]);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads an uncompressed layer tar (ustar, pax, GNU long names; what Go's archive/tar reads)
 * as an async iterator of entries with their PAX records applied: `path` and `linkpath` for
 * long or non-ASCII names, `size`, `uid`, `gid`, `mtime` beyond the octal fields, and
 * `SCHILY.xattr.<name>` as xattrs. Global PAX headers are skipped, as containerd's applier
 * ignores them. Entries come in archive order, unsorted and unchecked for duplicates.
 *
 * Each entry's body must be read to its end or abandoned by advancing (which skips it). After
 * the end-of-archive blocks the rest of the source is read and discarded, so a digest computed
 * upstream covers every byte. Breaking out of the loop closes the source.
 *
 * Fails with IntegrityError naming the last entry when the input ends early (inside a header
 * or a body, or without the end-of-archive block); with InputError for a malformed header
 * (a bad checksum or number, an unsupported type or sparse file, a name that is not UTF-8 or
 * that climbs out with `..`); with the source's own error when it fails.
 */
export async function* readLayerTar(
  source: AsyncIterable<Uint8Array>,
  options: ReadLayerTarOptions = {},
): AsyncGenerator<ReadLayerEntry, void, undefined> {
  const archive = options.name ?? 'layer tar';
  const signal = options.signal;
  signal?.throwIfAborted();
  const onAbort = (): void => {
    if (source instanceof Readable) source.destroy(signal?.reason as Error);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const bytes = new ByteSource(source, signal);
  let last: string | undefined;
  let body: EntryBody | undefined;
  const after = (): string => (last === undefined ? 'at its start' : `after entry ${JSON.stringify(last)}`);
  const truncated = (what: string): IntegrityError =>
    new IntegrityError(`${archive} is truncated ${what}`, { hint: 'the blob is incomplete; fetch or build it again' });

  let pax: PaxRecord[] = [];
  let longName: Buffer | undefined;
  let longLink: Buffer | undefined;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const block = await bytes.read(BLOCK_SIZE);
      if (block.length === 0) throw truncated(`${after()}: no end-of-archive block`);
      if (block.length < BLOCK_SIZE) throw truncated(`in a header ${after()}`);
      const where = `${archive}: header at byte ${bytes.position - BLOCK_SIZE}`;
      const raw = decodeHeader(block, where);
      if (raw === undefined) {
        // POSIX ends an archive with two zero blocks; Go and GNU tar accept one and EOF.
        const second = await bytes.read(BLOCK_SIZE);
        if (second.length === BLOCK_SIZE && second.some((byte) => byte !== 0)) {
          throw new InputError(`${archive}: a header follows the end-of-archive block ${after()}`);
        }
        await bytes.drain();
        return;
      }
      switch (raw.typeflag) {
        case TypeFlag.paxLocal:
        case TypeFlag.paxGlobal:
        case TypeFlag.gnuLongName:
        case TypeFlag.gnuLongLink: {
          if (raw.size > PAX_HEADER_LIMIT) throw new InputError(`${where}: extended header of ${raw.size} bytes`);
          const data = await bytes.read(raw.size);
          if (data.length < raw.size || (await bytes.skip(padding(raw.size).length)) < padding(raw.size).length) {
            throw truncated(`in an extended header ${after()}`);
          }
          if (raw.typeflag === TypeFlag.paxLocal) pax = pax.concat(decodePaxRecords(data, where));
          // Validated, then dropped: containerd ignores global headers (archive/tar.go).
          else if (raw.typeflag === TypeFlag.paxGlobal) decodePaxRecords(data, where);
          else if (raw.typeflag === TypeFlag.gnuLongName) longName = cString(data);
          else longLink = cString(data);
          continue;
        }
        default:
          break;
      }
      const entry = makeEntry(raw, pax, longName, longLink, where);
      pax = [];
      longName = undefined;
      longLink = undefined;
      last = entry.path;
      body = new EntryBody(bytes, entry.size, () => truncated(`in the body of entry ${JSON.stringify(entry.path)}`));
      yield { ...entry, body };
      // The consumer moved on: skip what it left of the body, then the padding.
      const left = await body.abandon();
      if ((await bytes.skip(left)) < left) throw truncated(`in the body of entry ${JSON.stringify(entry.path)}`);
      const pad = padding(entry.size).length;
      if ((await bytes.skip(pad)) < pad) throw truncated(`in the padding of entry ${JSON.stringify(entry.path)}`);
      body = undefined;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    body?.destroy();
    await bytes.close();
  }
}

type EntryFields = Omit<ReadLayerEntry, 'body'>;

function makeEntry(
  raw: RawHeader,
  records: readonly PaxRecord[],
  longName: Buffer | undefined,
  longLink: Buffer | undefined,
  where: string,
): EntryFields {
  let nameBytes = longName ?? raw.name;
  let linkBytes = longLink ?? raw.linkname;
  let { size, uid, gid, mtime } = raw;
  const xattrs: Record<string, Buffer> = {};
  let hasXattrs = false;
  const extra: Record<string, string> = {};
  for (const [key, value] of records) {
    switch (key) {
      case 'path':
        nameBytes = value;
        break;
      case 'linkpath':
        linkBytes = value;
        break;
      case 'size':
        size = paxInteger(value, key, where);
        break;
      case 'uid':
        uid = paxInteger(value, key, where);
        break;
      case 'gid':
        gid = paxInteger(value, key, where);
        break;
      case 'mtime':
        mtime = paxTime(value, where);
        break;
      default:
        if (key.startsWith('SCHILY.xattr.')) {
          xattrs[key.slice('SCHILY.xattr.'.length)] = value;
          hasXattrs = true;
        } else if (key.startsWith('GNU.sparse.')) {
          throw new InputError(`${where}: sparse files (${key}) are not supported`);
        } else {
          extra[key] = value.toString('utf8');
        }
    }
  }
  const rawName = decodeName(nameBytes, where);
  let type = TYPES.get(raw.typeflag);
  if (type === undefined) {
    const flag = raw.typeflag === TypeFlag.gnuSparse ? 'S (GNU sparse)' : JSON.stringify(String.fromCharCode(raw.typeflag));
    throw new InputError(`${where}: entry ${JSON.stringify(rawName)} has unsupported type ${flag}`);
  }
  // A pre-POSIX tar marks directories by a trailing slash on a regular file (Go: TypeRegA).
  if (raw.typeflag === TypeFlag.oldFile && rawName.endsWith('/')) type = 'dir';
  const path = cleanPath(rawName, where);
  let linkname: string | undefined;
  if (type === 'symlink') linkname = decodeName(linkBytes, where);
  else if (type === 'hardlink') linkname = cleanPath(decodeName(linkBytes, where), where);
  return {
    path,
    type,
    mode: raw.mode & 0o7777,
    uid,
    gid,
    mtime,
    // Go's reader gives header-only types no body whatever the size field says.
    size: type === 'file' ? size : 0,
    ...(linkname === undefined ? {} : { linkname }),
    ...(type === 'char' || type === 'block' ? { devmajor: raw.devmajor, devminor: raw.devminor } : {}),
    ...(hasXattrs ? { xattrs } : {}),
    pax: extra,
  };
}

function decodeName(bytes: Buffer, where: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new InputError(`${where}: name ${JSON.stringify(bytes.toString('latin1'))} is not UTF-8`, {
      hint: 'kiln keeps paths as UTF-8 text; re-create the layer with UTF-8 names',
    });
  }
}

/** Drops a leading `/` and `./`, empty and `.` components and the trailing `/`; rejects `..`. */
function cleanPath(name: string, where: string): string {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new InputError(`${where}: path ${JSON.stringify(name)} climbs out with ".."`);
    parts.push(part);
  }
  return parts.join('/');
}

function cString(data: Buffer): Buffer {
  const end = data.indexOf(0);
  return end === -1 ? data : data.subarray(0, end);
}

function paxInteger(value: Buffer, key: string, where: string): number {
  const text = value.toString('latin1');
  const number = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(number)) throw new InputError(`${where}: PAX ${key} ${JSON.stringify(text)} is not a number`);
  return number;
}

/** PAX mtime: decimal seconds with an optional fraction (pax "mtime"), floored. */
function paxTime(value: Buffer, where: string): number {
  const text = value.toString('latin1');
  if (!/^-?[0-9]+(\.[0-9]*)?$/.test(text)) throw new InputError(`${where}: PAX mtime ${JSON.stringify(text)} is not a time`);
  return Math.floor(Number(text));
}

/**
 * An entry's body, pulled from the shared source as the reader reads. `abandon` stops it and
 * says how many bytes the parser must still skip.
 */
class EntryBody extends Readable {
  readonly #bytes: ByteSource;
  readonly #truncated: () => IntegrityError;
  #remaining: number;
  #reading: Promise<void> | undefined;

  constructor(bytes: ByteSource, size: number, truncated: () => IntegrityError) {
    super({ highWaterMark: BODY_CHUNK });
    this.#bytes = bytes;
    this.#remaining = size;
    this.#truncated = truncated;
    if (size === 0) this.push(null);
  }

  override _read(): void {
    if (this.#remaining === 0 || this.#reading !== undefined) return;
    this.#reading = this.#bytes.chunk(Math.min(this.#remaining, BODY_CHUNK)).then(
      (chunk) => {
        this.#reading = undefined;
        if (this.destroyed) return;
        if (chunk === undefined) {
          this.destroy(this.#truncated());
          return;
        }
        this.#remaining -= chunk.length;
        this.push(chunk);
        if (this.#remaining === 0) this.push(null);
      },
      (error: unknown) => {
        this.#reading = undefined;
        this.destroy(error as Error);
      },
    );
  }

  /**
   * Waits for a read in flight and returns the bytes the source still holds for this body;
   * when there are any, the stream is destroyed (what it buffered stays readable otherwise).
   */
  async abandon(): Promise<number> {
    await this.#reading;
    const left = this.#remaining;
    this.#remaining = 0;
    if (left > 0) this.destroy();
    return left;
  }
}
