import test from 'ava';
import { formatPlatform, parsePlatform, samePlatform } from './platform.ts';

const amd64 = { os: 'linux', architecture: 'amd64' };

test('platform specifiers are normalised as containerd normalises them', (t) => {
  const cases: [string, string][] = [
    ['linux/amd64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['Linux/AArch64', 'linux/arm64'],
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/arm/6', 'linux/arm/v6'],
    ['arm64', 'linux/arm64'],
    ['linux', 'linux/amd64'],
    ['windows/amd64', 'windows/amd64'],
  ];
  for (const [text, want] of cases) t.is(formatPlatform(parsePlatform(text, amd64)), want, text);
});

test('unknown or malformed specifiers are refused', (t) => {
  for (const bad of ['linux/nope', 'plan10', 'linux//amd64', 'a/b/c/d', 'linux/*']) t.throws(() => parsePlatform(bad, amd64), undefined, bad);
});

test('samePlatform compares after normalisation', (t) => {
  t.true(samePlatform({ os: 'linux', architecture: 'x86_64' }, amd64));
  t.false(samePlatform({ os: 'linux', architecture: 'arm64' }, amd64));
});
