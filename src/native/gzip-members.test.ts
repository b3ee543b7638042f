import test from 'ava';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import { gzipMembers } from './gzip-members.ts';
import { membersOf, pseudoText } from './gzip-members-fixture.ts';

const run = promisify(execFile);

/** The segment the native side judges random or not (gzip-members.cc). */
const SEGMENT = 16 * 1024;

/** Source-like text of `size` bytes: compressible, as most of a layer is. */
function text(size: number, seed = 1): Buffer {
  return pseudoText(size, seed, (x) => `export const v${x.toString(36)} = ${x % 1000} + ${'w'.repeat(x % 9)};\n`);
}

/** `size` bytes as random as encrypted data, the same for the same seed (AES-CTR over zeros, as bench/build-contexts.ts). */
function random(size: number, seed = 1): Buffer {
  return createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16, 0)).update(Buffer.alloc(size));
}

async function gunzipCli(t: { teardown(fn: () => Promise<void>): void }, gz: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-gzip-members-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'in.gz'), gz);
  const { stdout } = await run('gzip', ['-d', '-c', join(dir, 'in.gz')], { encoding: 'buffer', maxBuffer: 1 << 28 });
  return stdout;
}


/**
 * The stored blocks (RFC 1951 §3.2.4) at the start of a deflate stream: each a header byte
 * (BFINAL in bit 0, BTYPE 00 in bits 1-2, then padding), LEN, NLEN and LEN bytes. Stops at the
 * first block of another type, or after the final block.
 */
function storedBlocks(body: Buffer): { readonly data: Buffer; readonly final: boolean; readonly end: number }[] {
  const blocks: { data: Buffer; final: boolean; end: number }[] = [];
  let at = 0;
  while (at < body.length && (body[at]! & 0b110) === 0 && (body[at]! >> 3) === 0) {
    const length = body.readUInt16LE(at + 1);
    if (body.readUInt16LE(at + 3) !== (~length & 0xffff)) break;
    const final = (body[at]! & 1) === 1;
    blocks.push({ data: body.subarray(at + 5, at + 5 + length), final, end: at + 5 + length });
    at += 5 + length;
    if (final) break;
  }
  return blocks;
}

for (const [name, input] of [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from('x')],
  ['1 MiB of text', text(1 << 20)],
  ['1 MiB of random bytes', random(1 << 20)],
  ['text and random bytes in turn, at odd offsets', Buffer.concat([text(30_001), random(50_003), text(70_005, 2), random(5_000, 2), text(20_000, 3), random(40_000, 3)])],
] as const) {
  test(`${name} gunzips from the members through zlib and gzip(1)`, async (t) => {
    const gz = await gzipMembers(input, 1);
    t.true(gunzipSync(gz).equals(input));
    t.true((await gunzipCli(t, gz)).equals(input));
    t.true(Buffer.concat(membersOf(gz).map((member) => member.content)).equals(input));
  });
}

for (const level of [1, 6, 9]) {
  test(`text at level ${level} is one member: Node's header, one raw deflate stream, the CRC-32 and the length`, async (t) => {
    const input = text(300_000, level);
    const gz = await gzipMembers(input, level);
    const members = membersOf(gz);
    t.is(members.length, 1);
    const [member] = members;
    t.deepEqual([...member!.header], [...gzipSync(Buffer.alloc(0), { level }).subarray(0, 10)]);
    t.true(member!.content.equals(input));
    t.is(storedBlocks(member!.body).length, 0, 'deflated, not stored');
    t.is(member!.crc, crc32(input) >>> 0);
    t.is(member!.size, input.length);
  });
}

test('an empty input is one member of an empty final block', async (t) => {
  const members = membersOf(await gzipMembers(Buffer.alloc(0), 1));
  t.is(members.length, 1);
  t.is(members[0]!.content.length, 0);
  t.is(members[0]!.crc, 0);
  t.is(members[0]!.size, 0);
});

test('random bytes are stored as they are: one member of stored blocks of at most 65535 bytes, the last final', async (t) => {
  const input = random(13 * SEGMENT, 7);
  const gz = await gzipMembers(input, 9);
  const members = membersOf(gz);
  t.is(members.length, 1);
  const blocks = storedBlocks(members[0]!.body);
  t.deepEqual(
    blocks.map((block) => block.data.length),
    [65_535, 65_535, 65_535, 13 * SEGMENT - 3 * 65_535],
  );
  t.deepEqual(
    blocks.map((block) => block.final),
    [false, false, false, true],
  );
  t.is(blocks.at(-1)!.end, members[0]!.body.length, 'nothing after the final stored block');
  t.true(Buffer.concat(blocks.map((block) => block.data)).equals(input));
  t.is(gz.length, 10 + 4 * 5 + input.length + 8);
});

test('a run of random segments is stored at the head of the member that deflates the text after it; each deflated run ends a member', async (t) => {
  // Whole segments: text, random, text, random (so the input ends in stored blocks).
  const parts = [text(3 * SEGMENT, 1), random(2 * SEGMENT, 2), text(SEGMENT, 3), random(SEGMENT, 4)];
  const input = Buffer.concat(parts);
  const members = membersOf(await gzipMembers(input, 1));
  t.is(members.length, 3);
  t.true(members[0]!.content.equals(parts[0]!));
  t.is(storedBlocks(members[0]!.body).length, 0);
  // The second: the random run stored, then the text deflated.
  t.true(members[1]!.content.equals(Buffer.concat([parts[1]!, parts[2]!])));
  const stored = storedBlocks(members[1]!.body);
  t.deepEqual(
    stored.map((block) => [block.data.length, block.final]),
    [[2 * SEGMENT, false]],
  );
  t.true(stored[0]!.data.equals(parts[1]!));
  t.true(members[1]!.body.length < 2 * SEGMENT + 5 + SEGMENT / 2, 'the text after it is deflated');
  // The third: the last random run, ending in a final stored block.
  t.true(members[2]!.content.equals(parts[3]!));
  t.deepEqual(
    storedBlocks(members[2]!.body).map((block) => [block.data.length, block.final]),
    [[SEGMENT, true]],
  );
  for (const [i, member] of members.entries()) {
    t.is(member.crc, crc32(member.content) >>> 0, `member ${i}'s CRC-32`);
    t.is(member.size, member.content.length, `member ${i}'s length`);
  }
});

test('segments only partly random are deflated', async (t) => {
  // Half text, half random in every segment: judged by all of a segment's bytes.
  const mixed = Buffer.concat(Array.from({ length: 4 }, (_, i) => Buffer.concat([text(SEGMENT / 2, i + 1), random(SEGMENT / 2, i + 1)])));
  const members = membersOf(await gzipMembers(mixed, 1));
  t.is(members.length, 1);
  t.is(storedBlocks(members[0]!.body).length, 0);
  t.true(members[0]!.body.length < mixed.length * 0.7);
});

test('any run of text and random parts, of sizes about the segment and block limits, round-trips member by member with their CRC-32s', async (t) => {
  const size = fc.oneof(fc.constantFrom(0, 1, 4095, 4096, SEGMENT - 1, SEGMENT, SEGMENT + 1, 65_535, 65_536, 65_537, 2 * 65_535 + 1), fc.integer({ min: 0, max: 150_000 }));
  const part = fc.record({ random: fc.boolean(), size, seed: fc.integer({ min: 1, max: 255 }) });
  await t.notThrowsAsync(fc.assert(
    fc.asyncProperty(fc.array(part, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 9 }), async (parts, level) => {
      const input = Buffer.concat(parts.map((p) => (p.random ? random(p.size, p.seed) : text(p.size, p.seed))));
      const gz = await gzipMembers(input, level);
      // gunzip checks every member's CRC-32 and length.
      const members = membersOf(gz);
      return gunzipSync(gz).equals(input) && Buffer.concat(members.map((m) => m.content)).equals(input) && members.every((m) => m.crc === crc32(m.content) >>> 0 && m.size === m.content.length);
    }),
    { numRuns: 150 },
  ));
});

test('text compresses, and level 9 writes less than level 1', async (t) => {
  const input = text(1 << 20, 5);
  const fast = await gzipMembers(input, 1);
  const best = await gzipMembers(input, 9);
  t.true(fast.length < input.length / 2, `level 1: ${fast.length} bytes`);
  t.true(best.length < fast.length, `level 9: ${best.length} bytes, level 1: ${fast.length}`);
});

test('the bytes depend on the input and level only: the same again, and a view into a larger buffer as a copy', async (t) => {
  const input = Buffer.concat([text(500_000, 11), random(100_000, 11), text(33_333, 12)]);
  const first = await gzipMembers(input, 1);
  t.true((await gzipMembers(input, 1)).equals(first));
  const larger = Buffer.concat([randomBytes(4099), input, randomBytes(17)]);
  t.true((await gzipMembers(larger.subarray(4099, 4099 + input.length), 1)).equals(first));
  t.true((await gzipMembers(new Uint8Array(input), 1)).equals(first));
});

test('members made at once, more than the pool has threads and at mixed levels, each hold their own input', async (t) => {
  const inputs = Array.from({ length: 16 }, (_, i) => (i % 3 === 0 ? random(200_000 + i, i + 1) : text(200_000 + i * 1000, i + 1)));
  const outputs = await Promise.all(inputs.map((input, i) => gzipMembers(input, [1, 4, 9][i % 3]!)));
  for (const [i, gz] of outputs.entries()) t.true(gunzipSync(gz).equals(inputs[i]!), `input ${i}`);
});

test('the work runs off the JavaScript thread: the event loop turns while the members are made', async (t) => {
  // 32 MiB of text take tens of milliseconds to deflate; done on this thread, the promise
  // would be settled before any setImmediate callback could run.
  const input = text(32 << 20, 3);
  let settled = false;
  const output = gzipMembers(input, 1).then((result) => {
    settled = true;
    return result;
  });
  await new Promise((resolve) => setImmediate(resolve));
  t.false(settled);
  t.true(gunzipSync(await output).equals(input));
});

test('a wrong input or level is refused at once, naming the field', (t) => {
  t.throws(() => gzipMembers('text' as unknown as Uint8Array, 1), { instanceOf: TypeError, message: 'gzipMembers: input must be a Buffer or Uint8Array, got string' });
  t.throws(() => gzipMembers(new Uint16Array(4) as unknown as Uint8Array, 1), { instanceOf: TypeError, message: /gzipMembers: input must be a Buffer or Uint8Array/ });
  t.throws(() => gzipMembers(Buffer.from('x'), 0), { instanceOf: RangeError, message: 'gzipMembers: level must be from 1 to 9, got 0' });
  t.throws(() => gzipMembers(Buffer.from('x'), 10), { instanceOf: RangeError, message: 'gzipMembers: level must be from 1 to 9, got 10' });
  t.throws(() => gzipMembers(Buffer.from('x'), -1), { instanceOf: RangeError, message: 'gzipMembers: level must be from 1 to 9, got -1' });
  t.throws(() => gzipMembers(Buffer.from('x'), '1' as unknown as number), { instanceOf: TypeError, message: 'gzipMembers: level must be an integer, got string' });
  t.throws(() => gzipMembers(Buffer.from('x'), 1.5), { instanceOf: TypeError, message: 'gzipMembers: level must be an integer, got 1.5' });
});
