import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Digest } from '../content/index.ts';
import type { DiffId } from '../image/index.ts';
import { cacheKey } from './cache-key.ts';
import { CacheRecords, type CacheRecord } from './cache-records.ts';
import { explainMiss } from './explain-miss.ts';

async function root(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-cache-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const digest = (c: string) => `sha256:${c.repeat(64)}` as Digest;

function record(key = cacheKey({ kind: 'exec', inputs: [['command', '["true"]']] })): CacheRecord {
  return {
    kind: 'cache-record',
    schema: 1,
    key,
    layers: [{ descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest('a'), size: 10 }, diffId: digest('b') as string as DiffId, size: 20 }],
    inputs: [['command', '["true"]']],
    created: new Date(0).toISOString(),
  };
}

test('a cache key depends on every named input and their order, and on nothing else', (t) => {
  const a = cacheKey({ kind: 'exec', inputs: [['x', '1'], ['y', '2']] });
  t.is(a, cacheKey({ kind: 'exec', inputs: [['x', '1'], ['y', '2']] }));
  t.not(a, cacheKey({ kind: 'exec', inputs: [['x', '1'], ['y', '3']] }));
  t.not(a, cacheKey({ kind: 'exec', inputs: [['y', '2'], ['x', '1']] }));
  t.not(a, cacheKey({ kind: 'file', inputs: [['x', '1'], ['y', '2']] }));
  t.regex(a, /^sha256:[0-9a-f]{64}$/);
});

test('a record put is found again by a later process (from disk)', async (t) => {
  const dir = await root(t);
  const wrote = await CacheRecords.open(dir);
  const r = record();
  t.is(await wrote.get(r.key), undefined);
  await wrote.put(r);
  const read = await CacheRecords.open(dir);
  t.deepEqual(await read.get(r.key), r);
  const listed = [];
  for await (const entry of read.list()) listed.push(entry.record.key);
  t.deepEqual(listed, [r.key]);
  await read.delete(r.key);
  t.is(await (await CacheRecords.open(dir)).get(r.key), undefined);
});

test('a damaged record counts as absent', async (t) => {
  const dir = await root(t);
  const records = await CacheRecords.open(dir);
  const r = record();
  await writeFile(join(dir, 'cache', 'records', `${r.key.slice(7)}.json`), '{"kind":"cache-record",');
  t.is(await records.get(r.key), undefined);
});

test('the last key of a slot is remembered across processes', async (t) => {
  const dir = await root(t);
  const slot = cacheKey({ kind: 'slot', inputs: [['file', 'Dockerfile']] });
  t.is(await (await CacheRecords.open(dir)).lastKey(slot), undefined);
  const key = record().key;
  await (await CacheRecords.open(dir)).setLastKey(slot, key);
  t.is(await (await CacheRecords.open(dir)).lastKey(slot), key);
});

test('a miss names the first input that differs from the last run', (t) => {
  t.is(explainMiss(undefined, [['a', '1']]), 'no earlier run of this step');
  t.is(explainMiss([['parent', 'p'], ['env A', '1']], [['parent', 'p'], ['env A', '2']]), 'env A changed');
  t.is(explainMiss([['parent', 'p']], [['parent', 'p'], ['env B', '2']]), 'env B is new');
  t.is(explainMiss([['parent', 'p'], ['env B', '2']], [['parent', 'p']]), 'env B was removed');
  t.is(explainMiss([['parent', 'p']], [['parent', 'q']]), 'parent changed');
});

test('a miss is worded by the details given for the input that changed', (t) => {
  const details = new Map([['files .', 'file src/app.js changed']]);
  t.is(explainMiss([['parent', 'p'], ['files .', 'a']], [['parent', 'p'], ['files .', 'b']], details), 'file src/app.js changed');
  t.is(explainMiss([['parent', 'p'], ['files .', 'a']], [['parent', 'q'], ['files .', 'b']], details), 'parent changed');
});
