const SLASH = 0x2f;

/**
 * The order of entries in a layer tar: the order of a depth-first, pre-order walk whose
 * siblings are sorted by the bytes of their UTF-8 names — what Go's filepath.Walk gives
 * containerd's and BuildKit's archive writers (archive/tar.go, fs.Changes), so a directory
 * comes before its children and `a/b` before `a-b` (which a plain string sort would reverse).
 * Equivalently: compare the UTF-8 bytes with `/` ranking below every other byte.
 *
 * Returns a negative number, zero or a positive number, as `Array.prototype.sort` wants.
 */
export function compareLayerPaths(a: string, b: string): number {
  if (isAscii(a) && isAscii(b)) return compareAscii(a, b);
  return compareBytes(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function compareAscii(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

function compareBytes(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** `/` ends a path component, so it ranks below every byte a name can hold (NUL cannot). */
function rank(byte: number): number {
  return byte === SLASH ? 0 : byte;
}

function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}
