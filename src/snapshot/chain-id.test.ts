import test from 'ava';
import { createHash } from 'node:crypto';
import type { DiffId } from '../image/index.ts';
import { chainIds } from './chain-id.ts';

const a = `sha256:${'a'.repeat(64)}` as DiffId;
const b = `sha256:${'b'.repeat(64)}` as DiffId;
const c = `sha256:${'c'.repeat(64)}` as DiffId;

test('the chain ID of one layer is its DiffID, of more the sha256 of the parent chain ID, a space and the DiffID', (t) => {
  const sha = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;
  const ab = sha(`${a} ${b}`);
  t.deepEqual(chainIds([a, b, c]), [a, ab, sha(`${ab} ${c}`)]);
  t.deepEqual(chainIds([]), []);
});

test('a chain ID depends on the order of its layers', (t) => {
  t.not(chainIds([a, b])[1], chainIds([b, a])[1]);
});
