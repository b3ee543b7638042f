import test from 'ava';
import { EMPTY_ENV, envFromPairs } from './index.ts';

test('a later pair for the same name wins', (t) => {
  const env = envFromPairs([
    ['A', '1'],
    ['B', '2'],
    ['A', '3'],
  ]);
  t.is(env.get('A'), '3');
  t.is(env.get('B'), '2');
});

test('keys lists each name once, in order of first appearance', (t) => {
  const env = envFromPairs([
    ['B', '1'],
    ['A', '2'],
    ['B', '3'],
  ]);
  t.deepEqual(env.keys(), ['B', 'A']);
});

test('an empty value is set, an absent name is not', (t) => {
  const env = envFromPairs([['EMPTY', '']]);
  t.is(env.get('EMPTY'), '');
  t.is(env.get('ABSENT'), undefined);
});

test('names are case-sensitive', (t) => {
  t.is(envFromPairs([['path', '/x']]).get('PATH'), undefined);
});

test('the pairs are copied', (t) => {
  const pairs: [string, string][] = [['A', '1']];
  const env = envFromPairs(pairs);
  pairs.push(['B', '2']);
  t.is(env.get('B'), undefined);
});

test('EMPTY_ENV has nothing set', (t) => {
  t.deepEqual(EMPTY_ENV.keys(), []);
  t.is(EMPTY_ENV.get('HOME'), undefined);
});
