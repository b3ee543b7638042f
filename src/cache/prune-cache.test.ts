import test from 'ava';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Digest } from '../content/index.ts';
import type { DiffId } from '../image/index.ts';
import { cacheKey } from './cache-key.ts';
import { CacheRecords, type LayerRef } from './cache-records.ts';
import { cacheBlobs, cacheUsage, defaultCachePolicy, parseDuration, parseSize, pruneBuildCache } from './prune-cache.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}` as Digest;
const layer = (c: string, size: number): LayerRef => ({
  descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest(c), size },
  diffId: digest(c) as string as DiffId,
  size,
});

/** Records a (1 KiB base + 100 B), b (base + 200 B), c (base + 300 B), used in that order (a oldest). */
async function fixture(t: { teardown(fn: () => Promise<void>): void }): Promise<{ dir: string; records: CacheRecords; keys: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-prune-cache-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const records = await CacheRecords.open(dir);
  const keys: string[] = [];
  for (const [i, [c, size]] of ([['a', 100], ['b', 200], ['c', 300]] as const).entries()) {
    const key = cacheKey({ kind: 'exec', inputs: [['n', c]] });
    await records.put({ kind: 'cache-record', schema: 1, key, layers: [layer('0', 1024), layer(c, size)], inputs: [], created: new Date().toISOString() });
    const when = new Date(Date.UTC(2026, 0, 1 + i));
    await utimes(join(dir, 'cache', 'records', `${key.slice(7)}.json`), when, when);
    keys.push(key);
  }
  return { dir, records: await CacheRecords.open(dir), keys };
}

test('usage counts each blob only the cache needs once', async (t) => {
  const { records } = await fixture(t);
  t.deepEqual(await cacheUsage(records, new Set()), { records: 3, bytes: 1024 + 600 });
  t.deepEqual(await cacheUsage(records, new Set([digest('0')])), { records: 3, bytes: 600 });
  t.is((await cacheBlobs(records)).size, 4);
});

test('keep-storage drops least recently used records until the cache fits, freeing shared blobs only with the last user', async (t) => {
  const { records, keys } = await fixture(t);
  const result = await pruneBuildCache(records, { keepStorage: 1024 + 300 }, new Set());
  t.deepEqual(result, { records: 2, bytes: 300 });
  t.is(await records.get(keys[0] as never), undefined);
  t.is(await records.get(keys[1] as never), undefined);
  t.truthy(await records.get(keys[2] as never));
});

test('until drops records unused since then; all drops every record', async (t) => {
  const { records, keys } = await fixture(t);
  t.deepEqual(await pruneBuildCache(records, { until: Date.UTC(2026, 0, 2, 12) }, new Set()), { records: 2, bytes: 300 });
  t.truthy(await records.get(keys[2] as never));
  t.deepEqual(await pruneBuildCache(records, { all: true }, new Set()), { records: 1, bytes: 1024 + 300 });
  t.deepEqual(await cacheUsage(records, new Set()), { records: 0, bytes: 0 });
});

test('the default policy reads sizes and durations from the environment, and 0 turns it off', async (t) => {
  const dir = tmpdir();
  t.is(await defaultCachePolicy(dir, { KILN_CACHE_KEEP_STORAGE: '0' }), undefined);
  const policy = await defaultCachePolicy(dir, { KILN_CACHE_KEEP_STORAGE: '2g', KILN_CACHE_KEEP_DURATION: '1d' });
  t.is(policy?.keepStorage, 2 * 1024 ** 3);
  t.true(Math.abs((policy?.until ?? 0) - (Date.now() - 86_400_000)) < 5000);
  const fallback = await defaultCachePolicy(dir, {});
  t.true((fallback?.keepStorage ?? 0) >= 512 * 1024 ** 2 && (fallback?.keepStorage ?? 0) <= 20 * 1024 ** 3);
  await t.throwsAsync(defaultCachePolicy(dir, { KILN_CACHE_KEEP_STORAGE: 'lots' }), { message: /KILN_CACHE_KEEP_STORAGE/ });
  t.is(parseSize('1.5k', 'x'), 1536);
  t.is(parseDuration('90m', 'x'), 5_400_000);
});
