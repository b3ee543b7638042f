/**
 * JSON with object keys sorted (by UTF-16 code unit, as Array.prototype.sort does) and no
 * whitespace: one text for one value, whatever order its keys were built in. Arrays keep
 * their order; `undefined` members are left out as JSON.stringify leaves them out.
 * @throws TypeError for values JSON cannot hold (functions, symbols, bigints, cycles).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, new Set()));
}

function sortKeys(value: unknown, seen: Set<object>): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') {
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
    }
    return value;
  }
  if (seen.has(value)) throw new TypeError('canonicalJson: cyclic value');
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v: unknown) => (v === undefined ? null : sortKeys(v, seen)));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) out[key] = sortKeys(member, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
