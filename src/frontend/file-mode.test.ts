import test from 'ava';
import { applyChmod, parseChmod } from './file-mode.ts';

test('octal modes up to 07777 are numbers; symbolic ones are kept as written', (t) => {
  t.deepEqual(parseChmod('755'), { kind: 'octal', mode: 0o755 });
  t.deepEqual(parseChmod('07777'), { kind: 'octal', mode: 0o7777 });
  t.deepEqual(parseChmod('u+x,go-w'), { kind: 'symbolic', text: 'u+x,go-w' });
  t.deepEqual(parseChmod('a=rX'), { kind: 'symbolic', text: 'a=rX' });
  t.deepEqual(parseChmod('g=u'), { kind: 'symbolic', text: 'g=u' });
});

test('numbers out of range or not octal, and bad symbolic modes, are refused', (t) => {
  for (const bad of ['10000', '0800', '9', '1x']) t.throws(() => parseChmod(bad), { message: /it should be octal string and between 0 and 07777/ }, bad);
  for (const bad of ['', 'u+y', 'z+x', 'u', 'u+x,', '+x z']) t.throws(() => parseChmod(bad), { message: /invalid syntax/ }, bad);
});

test('applyChmod applies symbolic modes to a file mode as chmod(1) does', (t) => {
  const apply = (text: string, base: number, isDir = false): number => applyChmod(parseChmod(text), base, isDir);
  t.is(apply('u+x', 0o644), 0o744);
  t.is(apply('+x', 0o644), 0o755);
  t.is(apply('go-r', 0o644), 0o600);
  t.is(apply('a=r', 0o755), 0o444);
  t.is(apply('u=rwx,g=rx,o=', 0o644), 0o750);
  t.is(apply('g=u', 0o640), 0o660);
  t.is(apply('a+X', 0o644), 0o644);
  t.is(apply('a+X', 0o644, true), 0o755);
  t.is(apply('u+s', 0o755), 0o4755);
  t.is(apply('+t', 0o755), 0o1755);
  t.is(apply('u+x-w', 0o644), 0o544);
  t.is(apply('0600', 0o644), 0o600);
});
