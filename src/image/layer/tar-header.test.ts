import test from 'ava';
import fc from 'fast-check';
import { BLOCK_SIZE, encodeHeader, TypeFlag, writeSimpleHeader, type HeaderFields } from './tar-header.ts';

const names = fc.oneof(
  fc.stringMatching(/^[a-z0-9._/-]{1,110}$/),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
  fc.constantFrom('a', 'dir/', `${'d'.repeat(99)}/`, 'x'.repeat(100), 'x'.repeat(101), 'é', 'ünï/cødé', '🦀'),
);
const octal = (max: number) => fc.oneof(fc.integer({ min: 0, max }), fc.constantFrom(0, max, max + 1, 2 ** 31, 2 ** 33 + 5, -1));

const fields: fc.Arbitrary<HeaderFields> = fc.record({
  name: names,
  typeflag: fc.constantFrom(TypeFlag.file, TypeFlag.dir, TypeFlag.symlink, TypeFlag.hardlink, TypeFlag.char, TypeFlag.fifo),
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: octal(0o7777777),
  gid: octal(0o7777777),
  size: octal(0o77777777777),
  mtime: fc.oneof(octal(0o77777777777), fc.integer({ min: 1_600_000_000, max: 1_800_000_000 })),
  linkname: fc.oneof(fc.constant(''), names),
  devmajor: fc.oneof(fc.constant(0), octal(0o7777777)),
  devminor: fc.oneof(fc.constant(0), octal(0o7777777)),
  xattrs: fc.oneof(fc.constant(undefined), fc.constant({}), fc.constant({ 'user.a': Buffer.from('b') })),
});

function fitsOneBlock(f: HeaderFields): boolean {
  const ascii = (text: string) => /^[\x00-\x7f]*$/.test(text);
  const fits = (value: number, width: number) => value >= 0 && value < 8 ** (width - 1);
  return (
    ascii(f.name) &&
    f.name.length <= 100 &&
    ascii(f.linkname) &&
    f.linkname.length <= 100 &&
    Object.keys(f.xattrs ?? {}).length === 0 &&
    fits(f.uid, 8) &&
    fits(f.gid, 8) &&
    fits(f.size, 12) &&
    fits(f.mtime, 12) &&
    fits(f.devmajor, 8) &&
    fits(f.devminor, 8)
  );
}

test('writeSimpleHeader writes the block encodeHeader makes, for every entry one ustar block holds', (t) => {
  t.notThrows(() =>
  fc.assert(
      fc.property(fields, fc.integer({ min: 0, max: 3 }), (f, slot) => {
        const target = Buffer.alloc(4 * BLOCK_SIZE, 0xaa);
        const written = writeSimpleHeader(f, target, slot * BLOCK_SIZE);
        if (written !== fitsOneBlock(f)) return false;
        if (!written) return true;
        const block = target.subarray(slot * BLOCK_SIZE, (slot + 1) * BLOCK_SIZE);
        // Nothing outside its block is touched.
        const outside = Buffer.concat([target.subarray(0, slot * BLOCK_SIZE), target.subarray((slot + 1) * BLOCK_SIZE)]);
        return block.equals(encodeHeader(f)) && outside.every((byte) => byte === 0xaa);
      }),
      { numRuns: 3000 },
    ),
  );
});

test('writeSimpleHeader declines what needs a PAX header or more: long, non-ASCII, large, with xattrs', (t) => {
  const base: HeaderFields = { name: 'a', typeflag: TypeFlag.file, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: undefined };
  const target = Buffer.alloc(BLOCK_SIZE);
  t.true(writeSimpleHeader(base, target, 0));
  for (const change of [
    { name: 'x'.repeat(101) },
    { name: 'é' },
    { linkname: 'l'.repeat(101) },
    { uid: 0o10000000 },
    { size: 8 ** 11 },
    { mtime: -1 },
    { devmajor: 0o10000000 },
    { xattrs: { 'user.a': Buffer.from('b') } },
  ] satisfies Partial<HeaderFields>[]) {
    t.false(writeSimpleHeader({ ...base, ...change }, target, 0), JSON.stringify(change));
  }
});
