import { InputError } from '../../errors/index.ts';

/** One PAX extended header record: a key and the raw bytes of its value. */
export type PaxRecord = readonly [key: string, value: Buffer];

/** The largest PAX header kiln writes or reads, as Go's archive/tar (maxSpecialFileSize). */
export const PAX_HEADER_LIMIT = 1 << 20;

/**
 * Encodes records as a PAX extended header body (POSIX.1-2017 pax, "pax Extended Header"):
 * each `"%d %s=%s\n"` with the decimal length counting itself. Keys are sorted bytewise, as
 * Go's archive/tar writes them, so the output depends only on the set of records. Values are
 * bytes: an xattr value may hold any byte, NUL and newline included.
 * @throws InputError for a key holding `=` or NUL, or a path value holding NUL.
 */
export function encodePaxRecords(records: readonly PaxRecord[], where: string): Buffer {
  const sorted = [...records].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const parts: Buffer[] = [];
  for (const [key, value] of sorted) {
    if (key.includes('=') || key.includes('\0')) {
      throw new InputError(`${where}: PAX key ${JSON.stringify(key)} holds "=" or NUL`);
    }
    if ((key === 'path' || key === 'linkpath') && value.includes(0)) {
      throw new InputError(`${where}: ${key} holds a NUL byte`);
    }
    const keyBytes = Buffer.from(key, 'utf8');
    // " " + key + "=" + value + "\n", then the length's own digits, which may add one.
    const body = keyBytes.length + value.length + 3;
    let length = body + String(body).length;
    if (String(length).length !== String(body).length) length = body + String(length).length;
    parts.push(Buffer.from(`${length} `, 'latin1'), keyBytes, EQUALS, value, NEWLINE);
  }
  return Buffer.concat(parts);
}

const EQUALS = Buffer.from('=');
const NEWLINE = Buffer.from('\n');

/**
 * Decodes a PAX extended header body into records, in order (a later record for the same key
 * wins, POSIX says). Values stay bytes.
 * @throws InputError naming `where` for a malformed record.
 */
export function decodePaxRecords(data: Buffer, where: string): PaxRecord[] {
  const records: PaxRecord[] = [];
  let offset = 0;
  while (offset < data.length) {
    // Trailing NUL padding after the last record is tolerated, as GNU tar does.
    if (data[offset] === 0) break;
    const space = data.indexOf(0x20, offset);
    const lengthText = space === -1 ? '' : data.toString('latin1', offset, space);
    const length = /^[0-9]{1,9}$/.test(lengthText) ? Number(lengthText) : Number.NaN;
    const end = offset + length;
    if (!Number.isInteger(length) || end > data.length || end <= space + 1 || data[end - 1] !== 0x0a) {
      throw new InputError(`${where}: malformed PAX record at byte ${offset}`);
    }
    const equals = data.indexOf(0x3d, space + 1);
    if (equals === -1 || equals >= end - 1) {
      throw new InputError(`${where}: PAX record at byte ${offset} has no "="`);
    }
    records.push([data.toString('utf8', space + 1, equals), Buffer.from(data.subarray(equals + 1, end - 1))]);
    offset = end;
  }
  return records;
}
