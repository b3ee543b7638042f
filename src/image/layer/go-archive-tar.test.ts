import test from 'ava';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { goReference } from './go-reference.ts';
import { compareLayerPaths, opaqueWhiteoutEntry, whiteoutEntry, writeLayerTar, type LayerEntry } from './index.ts';

function file(path: string, body: string | Buffer, extra: Partial<LayerEntry> = {}): LayerEntry {
  const bytes = Buffer.from(body);
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000, size: bytes.length, content: () => Readable.from([bytes]), ...extra };
}

function dir(path: string, mtime = 0): LayerEntry {
  return { path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime };
}

const LONG_DIR = 'd'.repeat(90);
const TYPEFLAG = { file: '0', dir: '5', symlink: '2', hardlink: '1', char: '3', block: '4', fifo: '6' } as const;

test('the writer emits the bytes Go archive/tar writes with FormatPAX, as containerd does', async (t) => {
  const reference = await goReference(t, 'go-archive-tar');
  if (reference === undefined) return;
  const { binary } = reference;
  const entries = ([
    whiteoutEntry('gone'),
    { ...dir('a', 5), mode: 0o1777 },
    opaqueWhiteoutEntry('a'),
    file('a/b', 'hello\n', { uid: 1000, gid: 1000, mode: 0o4755 }),
    { path: 'a/dev-block', type: 'block', mode: 0o660, uid: 0, gid: 6, mtime: 1_600_000_000, devmajor: 8, devminor: 1 },
    { path: 'a/dev-char', type: 'char', mode: 0o666, uid: 0, gid: 0, mtime: 1, devmajor: 1, devminor: 3 },
    { path: 'a/fifo', type: 'fifo', mode: 0o600, uid: 0, gid: 0, mtime: 1 },
    { path: 'a/hard', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, mtime: 1, linkname: 'a/b' },
    { path: 'a/link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 1, linkname: '../x' },
    file('a/xattrs', 'x', { xattrs: { 'user.kiln': Buffer.from('value'), 'security.capability': Buffer.from([1, 0, 0, 2, 0xff, 0x0a, 0]) } }),
    dir(LONG_DIR),
    file(`${LONG_DIR}/${'f'.repeat(40)}`, 'ustar prefix and name'),
    file(`${LONG_DIR}/${'g'.repeat(100)}`, 'PAX path, cut name'),
    { path: `${LONG_DIR}/long-link`, type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, linkname: 'l'.repeat(150) },
    dir(`${'e'.repeat(99)}é`),
    dir('e'.repeat(120)),
    dir(`${'e'.repeat(120)}/${'q'.repeat(98)}/x`),
    file('big-ids', '', { uid: 3_000_000, gid: 4_000_000 }),
    file('before-1970', '', { mtime: -100 }),
    file('far-future', '', { mtime: 9_000_000_000_000 }),
    file('ünïcødé-日本語-🦀.txt', 'unicode'),
    file(`${'x'.repeat(99)}/${'y'.repeat(101)}`, Buffer.alloc(700, 1)),
  ] satisfies LayerEntry[] as LayerEntry[]).sort((x, y) => compareLayerPaths(x.path, y.path));

  const chunks: Buffer[] = [];
  for await (const chunk of writeLayerTar(entries)) chunks.push(chunk as Buffer);
  const kiln = Buffer.concat(chunks);

  const headers = [];
  for (const entry of entries) {
    const body: Buffer[] = [];
    if (entry.content !== undefined) for await (const chunk of entry.content()) body.push(chunk as Buffer);
    headers.push({
      name: entry.type === 'dir' ? `${entry.path}/` : entry.path,
      type: TYPEFLAG[entry.type].charCodeAt(0),
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      mtime: entry.mtime,
      linkname: entry.linkname ?? '',
      body: Buffer.concat(body).toString('base64'),
      devmajor: entry.devmajor ?? 0,
      devminor: entry.devminor ?? 0,
      xattrs: Object.fromEntries(Object.entries(entry.xattrs ?? {}).map(([k, v]) => [k, v.toString('base64')])),
    });
  }
  const go = execFileSync(binary, { input: JSON.stringify(headers), maxBuffer: 1 << 24 });
  const first = kiln.findIndex((byte, i) => byte !== go[i]);
  t.is(first, -1, `first difference in block ${Math.floor(first / 512)}, byte ${first % 512}`);
  t.is(kiln.length, go.length);
});
