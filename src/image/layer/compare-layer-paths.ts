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
  // One pass over the UTF-16 code units, no encoding: up to the first difference the two are
  // the same bytes, and there UTF-8 byte order is code point order, which is code unit order
  // unless a surrogate (a code point past U+FFFF) meets a unit of U+E000–U+FFFF.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0x80 && y < 0x80) return rank(x) - rank(y);
    if (isSurrogate(x) || isSurrogate(y)) return compareBytes(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
    return x - y;
  }
  return a.length - b.length;
}

function isSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdfff;
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
function rank(unit: number): number {
  return unit === SLASH ? 0 : unit;
}
