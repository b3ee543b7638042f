import { InputError } from '../../errors/index.ts';
import { encodePaxRecords, PAX_HEADER_LIMIT, type PaxRecord } from './pax-records.ts';

/** The tar block size (POSIX.1-2017 pax, "ustar Interchange Format"). */
export const BLOCK_SIZE = 512;

/** Typeflag bytes (ustar, pax and the GNU extensions the reader understands). */
export const TypeFlag = {
  file: 0x30, // '0'
  oldFile: 0x00, // NUL: pre-POSIX regular file
  hardlink: 0x31, // '1'
  symlink: 0x32, // '2'
  char: 0x33, // '3'
  block: 0x34, // '4'
  dir: 0x35, // '5'
  fifo: 0x36, // '6'
  contiguous: 0x37, // '7': a regular file to every reader but a few old ones
  paxLocal: 0x78, // 'x'
  paxGlobal: 0x67, // 'g'
  gnuLongName: 0x4c, // 'L'
  gnuLongLink: 0x4b, // 'K'
  gnuSparse: 0x53, // 'S'
} as const;

/** The fields of one entry's header, resolved by the writer. */
export interface HeaderFields {
  /** The full name, `/`-terminated for directories. */
  readonly name: string;
  readonly typeflag: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  readonly xattrs: Readonly<Record<string, Buffer>> | undefined;
}

// Field offsets and widths of the ustar header block.
const NAME = [0, 100] as const;
const MODE = [100, 8] as const;
const UID = [108, 8] as const;
const GID = [116, 8] as const;
const SIZE = [124, 12] as const;
const MTIME = [136, 12] as const;
const CHKSUM = [148, 8] as const;
const TYPEFLAG = 156;
const LINKNAME = [157, 100] as const;
const MAGIC = [257, 6] as const;
const VERSION = [263, 2] as const;
const UNAME = [265, 32] as const;
const GNAME = [297, 32] as const;
const DEVMAJOR = [329, 8] as const;
const DEVMINOR = [337, 8] as const;
const PREFIX = [345, 155] as const;

const USTAR_MAGIC = Buffer.from('ustar\0', 'latin1');
const USTAR_VERSION = Buffer.from('00', 'latin1');
const GNU_MAGIC = Buffer.from('ustar  \0', 'latin1');

/**
 * Encodes an entry's header blocks as Go's archive/tar writes them with `Format: FormatPAX`
 * (which containerd's and moby's archive writers set): a plain ustar header when every field
 * fits one (a name over 100 bytes split into prefix and name where it can be), otherwise a
 * PAX extended header (typeflag `x`, named `<dir>/PaxHeaders.0/<base>`, mode, owner and
 * mtime 0) holding `path`, `linkpath`, `size`, `uid`, `gid`, `mtime` for the fields that do
 * not fit and every xattr as `SCHILY.xattr.<name>`, followed by the ustar header with those
 * fields truncated or zeroed. Octal fields are zero-padded and NUL-terminated; uname and
 * gname are empty. Returns whole blocks.
 * @throws InputError naming the entry when a device number does not fit its field.
 */
export function encodeHeader(fields: HeaderFields): Buffer {
  const records: PaxRecord[] = [];
  const name = Buffer.from(fields.name, 'utf8');
  const linkname = Buffer.from(fields.linkname, 'utf8');
  const nameAscii = name.length === fields.name.length;
  let ustarPossible = true;
  let split: readonly [prefix: string, name: string] | undefined;
  if (!nameAscii || name.length > NAME[1]) {
    records.push(['path', name]);
    split = splitUstarPath(fields.name);
    if (split === undefined) ustarPossible = false;
  }
  if (linkname.length !== fields.linkname.length || linkname.length > LINKNAME[1]) {
    records.push(['linkpath', linkname]);
    ustarPossible = false;
  }
  for (const [key, value, field] of [
    ['uid', fields.uid, UID],
    ['gid', fields.gid, GID],
    ['size', fields.size, SIZE],
    ['mtime', fields.mtime, MTIME],
  ] as const) {
    if (!fitsOctal(value, field[1])) {
      records.push([key, Buffer.from(String(value), 'latin1')]);
      ustarPossible = false;
    }
  }
  for (const [key, value] of [
    ['devmajor', fields.devmajor],
    ['devminor', fields.devminor],
  ] as const) {
    if (!fitsOctal(value, DEVMAJOR[1])) throw new InputError(`${fields.name}: ${key} ${value} does not fit a tar header`);
  }
  for (const [key, value] of Object.entries(fields.xattrs ?? {})) {
    // Schily's star and GNU tar record xattrs as SCHILY.xattr.<name>; Go reads them back too.
    records.push([`SCHILY.xattr.${key}`, value]);
    ustarPossible = false;
  }

  const blocks: Buffer[] = [];
  if (!ustarPossible) {
    const data = encodePaxRecords(records, fields.name);
    if (data.length > PAX_HEADER_LIMIT) throw new InputError(`${fields.name}: PAX header over ${PAX_HEADER_LIMIT} bytes`);
    blocks.push(paxHeaderBlock(fields.name, data.length), data, padding(data.length));
  }
  const block = Buffer.alloc(BLOCK_SIZE);
  if (ustarPossible && split !== undefined) {
    writeString(block, PREFIX, split[0]);
    writeString(block, NAME, split[1]);
  } else {
    writeString(block, NAME, toAscii(fields.name));
  }
  writeOctal(block, MODE, fields.mode);
  writeOctal(block, UID, fields.uid);
  writeOctal(block, GID, fields.gid);
  writeOctal(block, SIZE, fields.size);
  writeOctal(block, MTIME, fields.mtime);
  block[TYPEFLAG] = fields.typeflag;
  writeString(block, LINKNAME, toAscii(fields.linkname));
  writeOctal(block, DEVMAJOR, fields.devmajor);
  writeOctal(block, DEVMINOR, fields.devminor);
  finish(block);
  blocks.push(block);
  return blocks.length === 1 ? block : Buffer.concat(blocks);
}

/**
 * Writes the header of `fields` as the one ustar block {@link encodeHeader} makes of an entry
 * that needs no PAX header — an ASCII name and link target of at most 100 bytes each, owner,
 * size and mtime that fit their octal fields, no xattrs — into `target` at `offset`, without
 * allocating: the tar writer's path for the common entry. Returns false when the entry needs
 * more than that block (or has device numbers that do not fit, which {@link encodeHeader}
 * reports); the bytes at `offset` are then garbage, and the caller uses encodeHeader.
 * `target` must hold {@link BLOCK_SIZE} bytes from `offset`.
 */
export function writeSimpleHeader(fields: HeaderFields, target: Buffer, offset: number): boolean {
  const { name, linkname } = fields;
  if (name.length > NAME[1] || linkname.length > LINKNAME[1]) return false;
  if (fields.xattrs !== undefined && hasAny(fields.xattrs)) return false;
  if (!fitsOctal(fields.uid, UID[1]) || !fitsOctal(fields.gid, GID[1]) || !fitsOctal(fields.size, SIZE[1])) return false;
  if (!fitsOctal(fields.mtime, MTIME[1]) || !fitsOctal(fields.devmajor, DEVMAJOR[1]) || !fitsOctal(fields.devminor, DEVMINOR[1])) {
    return false;
  }
  target.fill(0, offset, offset + BLOCK_SIZE);
  // The checksum is summed as the fields are written (the rest of the block is zeros); its
  // own field counts as eight spaces.
  let sum = 8 * 0x20 + fields.typeflag + MAGIC_AND_VERSION_SUM;
  const nameSum = putAscii(target, offset + NAME[0], name);
  if (nameSum < 0) return false;
  const linkSum = putAscii(target, offset + LINKNAME[0], linkname);
  if (linkSum < 0) return false;
  sum += nameSum + linkSum;
  sum += putOctal(target, offset + MODE[0], MODE[1], fields.mode);
  sum += putOctal(target, offset + UID[0], UID[1], fields.uid);
  sum += putOctal(target, offset + GID[0], GID[1], fields.gid);
  sum += putOctal(target, offset + SIZE[0], SIZE[1], fields.size);
  sum += putOctal(target, offset + MTIME[0], MTIME[1], fields.mtime);
  target[offset + TYPEFLAG] = fields.typeflag;
  sum += putOctal(target, offset + DEVMAJOR[0], DEVMAJOR[1], fields.devmajor);
  sum += putOctal(target, offset + DEVMINOR[0], DEVMINOR[1], fields.devminor);
  target.set(USTAR_MAGIC, offset + MAGIC[0]);
  target.set(USTAR_VERSION, offset + VERSION[0]);
  // Six octal digits, NUL, space.
  putOctal(target, offset + CHKSUM[0], 7, sum);
  target[offset + CHKSUM[0] + 7] = 0x20;
  return true;
}

const MAGIC_AND_VERSION_SUM = [...USTAR_MAGIC, ...USTAR_VERSION].reduce((a, b) => a + b, 0);

function hasAny(record: Readonly<Record<string, unknown>>): boolean {
  for (const _ in record) return true;
  return false;
}

/** Copies an ASCII string byte for byte; returns the sum of its bytes, or -1 at the first non-ASCII character. */
function putAscii(target: Buffer, offset: number, text: string): number {
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) return -1;
    target[offset + i] = unit;
    sum += unit;
  }
  return sum;
}

/**
 * {@link writeOctal} for a value known to fit: `width - 1` zero-padded digits and a NUL.
 * Returns the sum of the bytes written, for the checksum.
 */
function putOctal(target: Buffer, offset: number, width: number, value: number): number {
  let sum = 0;
  let rest = value;
  let i = offset + width - 2;
  // Integer operations while the value fits 31 bits (all but large sizes and far mtimes).
  for (; i >= offset && rest > 0x7fffffff; i--) {
    const digit = rest % 8;
    target[i] = 0x30 + digit;
    sum += 0x30 + digit;
    rest = Math.floor(rest / 8);
  }
  for (; i >= offset; i--) {
    const digit = rest & 7;
    target[i] = 0x30 + digit;
    sum += 0x30 + digit;
    rest >>>= 3;
  }
  target[offset + width - 1] = 0;
  return sum;
}

/** Zero bytes that pad `size` bytes of data to a whole block. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK_SIZE;
  return rest === 0 ? EMPTY : ZEROS.subarray(0, BLOCK_SIZE - rest);
}

const EMPTY = Buffer.alloc(0);
const ZEROS = Buffer.alloc(BLOCK_SIZE);

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK_SIZE);

/** Go's writeRawFile: `path.Join(dir, "PaxHeaders.0", file)`, ASCII, at most 100 bytes. */
function paxHeaderBlock(realName: string, size: number): Buffer {
  const slash = realName.lastIndexOf('/');
  const dir = realName.slice(0, slash + 1).replace(/\/+$/u, '');
  const file = realName.slice(slash + 1);
  const name = [dir, 'PaxHeaders.0', file].filter((part) => part !== '').join('/');
  const block = Buffer.alloc(BLOCK_SIZE);
  writeString(block, NAME, toAscii(name).slice(0, NAME[1]).replace(/\/+$/u, ''));
  writeOctal(block, MODE, 0);
  writeOctal(block, UID, 0);
  writeOctal(block, GID, 0);
  writeOctal(block, SIZE, size);
  writeOctal(block, MTIME, 0);
  block[TYPEFLAG] = TypeFlag.paxLocal;
  finish(block);
  return block;
}

/** Go's splitUSTARPath: prefix ≤ 155 bytes, name ≤ 100, split at a slash; ASCII only. */
function splitUstarPath(name: string): readonly [string, string] | undefined {
  if (name.length <= NAME[1] || !/^[\x00-\x7f]*$/.test(name)) return undefined;
  let length = name.length;
  if (length > PREFIX[1] + 1) length = PREFIX[1] + 1;
  else if (name[length - 1] === '/') length--;
  const i = name.lastIndexOf('/', length - 1);
  const suffixLength = name.length - i - 1;
  if (i <= 0 || suffixLength > NAME[1] || suffixLength === 0 || i > PREFIX[1]) return undefined;
  return [name.slice(0, i), name.slice(i + 1)];
}

function toAscii(text: string): string {
  return text.replace(/[^\x01-\x7f]/gu, '');
}

function fitsOctal(value: number, width: number): boolean {
  // width - 1 digits and a NUL terminator.
  return Number.isInteger(value) && value >= 0 && value < OCTAL_LIMITS[width]!;
}

/** 8 ** (width - 1) for each field width: the first value that does not fit. */
const OCTAL_LIMITS: readonly number[] = Array.from({ length: 13 }, (_, width) => 8 ** Math.max(width - 1, 0));

function writeOctal(block: Buffer, [offset, width]: readonly [number, number], value: number): void {
  const digits = fitsOctal(value, width) ? value.toString(8).padStart(width - 1, '0') : '0'.repeat(width - 1);
  block.write(digits, offset, 'latin1');
  block[offset + width - 1] = 0;
}

/**
 * Go's formatString: copies at most the field's width, and when it cut a name whose cut ends
 * in `/`, ends the field before those slashes ("some buggy readers treat regular files with a
 * trailing slash in the V7 path field as a directory").
 */
function writeString(block: Buffer, [offset, width]: readonly [number, number], text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  bytes.copy(block, offset, 0, Math.min(width, bytes.length));
  if (bytes.length > width && bytes[width - 1] === 0x2f) {
    let end = width - 1;
    while (end > 0 && bytes[end - 1] === 0x2f) end--;
    block[offset + end] = 0;
  }
}

/** Sets the magic, the version and the checksum (six octal digits, NUL, space). */
function finish(block: Buffer): void {
  USTAR_MAGIC.copy(block, MAGIC[0]);
  USTAR_VERSION.copy(block, VERSION[0]);
  block.fill(0x20, CHKSUM[0], CHKSUM[0] + CHKSUM[1]);
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) sum += block[i]!;
  block.write(sum.toString(8).padStart(6, '0'), CHKSUM[0], 'latin1');
  block[CHKSUM[0] + 6] = 0;
  block[CHKSUM[0] + 7] = 0x20;
}

/** A header block as read, before PAX records apply. */
export interface RawHeader {
  /** The name bytes, the ustar prefix joined in. */
  readonly name: Buffer;
  readonly typeflag: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly linkname: Buffer;
  readonly devmajor: number;
  readonly devminor: number;
}

/**
 * Decodes one header block: ustar (POSIX), GNU (`ustar  `) or V7 without a magic. Numeric
 * fields may be octal (padded with spaces or NULs) or GNU base-256 (high bit set).
 * Returns undefined for an all-zero block (the end of the archive).
 * @throws InputError naming `where` for a bad checksum or an unreadable number.
 */
export function decodeHeader(block: Buffer, where: string): RawHeader | undefined {
  let sum = 0;
  let signedSum = 0;
  let zero = true;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const byte = i >= CHKSUM[0] && i < CHKSUM[0] + CHKSUM[1] ? 0x20 : block[i]!;
    if (block[i] !== 0) zero = false;
    sum += byte;
    signedSum += byte > 127 ? byte - 256 : byte;
  }
  if (zero) return undefined;
  const stored = readNumber(block, CHKSUM, where, 'checksum');
  // Some old tars summed signed chars; Go and GNU tar accept both (ustar says unsigned).
  if (stored !== sum && stored !== signedSum) {
    throw new InputError(`${where}: tar header checksum mismatch (not a tar, or a corrupt one)`);
  }
  const isUstar = block.subarray(MAGIC[0], MAGIC[0] + 6).equals(USTAR_MAGIC);
  const isGnu = block.subarray(MAGIC[0], MAGIC[0] + 8).equals(GNU_MAGIC);
  let name = readBytes(block, NAME);
  if (isUstar && !isGnu) {
    const prefix = readBytes(block, PREFIX);
    if (prefix.length > 0) name = Buffer.concat([prefix, Buffer.from('/'), name]);
  }
  const hasOwnerFields = isUstar || isGnu;
  return {
    name,
    typeflag: block[TYPEFLAG]!,
    mode: readNumber(block, MODE, where, 'mode'),
    uid: readNumber(block, UID, where, 'uid'),
    gid: readNumber(block, GID, where, 'gid'),
    size: readNumber(block, SIZE, where, 'size'),
    mtime: readNumber(block, MTIME, where, 'mtime'),
    linkname: readBytes(block, LINKNAME),
    devmajor: hasOwnerFields ? readNumber(block, DEVMAJOR, where, 'devmajor') : 0,
    devminor: hasOwnerFields ? readNumber(block, DEVMINOR, where, 'devminor') : 0,
  };
}

function readBytes(block: Buffer, [offset, width]: readonly [number, number]): Buffer {
  const end = block.indexOf(0, offset);
  return Buffer.from(block.subarray(offset, end === -1 || end > offset + width ? offset + width : end));
}

function readNumber(block: Buffer, [offset, width]: readonly [number, number], where: string, field: string): number {
  const first = block[offset]!;
  if (first & 0x80) {
    // GNU base-256: 0x80 then a big-endian magnitude; 0xff starts a negative two's complement.
    let value = first === 0xff ? -1 : first & 0x7f;
    for (let i = 1; i < width; i++) value = value * 256 + block[offset + i]!;
    if (!Number.isSafeInteger(value)) throw new InputError(`${where}: tar header ${field} out of range`);
    return value;
  }
  const text = block.toString('latin1', offset, offset + width).replace(/[\0 ]+$/u, '').replace(/^[\0 ]+/u, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw new InputError(`${where}: tar header ${field} is not an octal number: ${JSON.stringify(text)}`);
  }
  return Number.parseInt(text, 8);
}
