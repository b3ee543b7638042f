import test from 'ava';
import { UsageError } from '../../errors/index.ts';
import { applyModeChange, parseChmod } from './file-mode-change.ts';

/*
 * Symbolic modes as BuildKit's mode package (BSD setmode(3)) applies them, checked against
 * GNU chmod(1) with umask 0 except `o+t`, which BSD ignores and GNU honours:
 * [text, mode before, is a directory, mode after].
 */
const TABLE: ReadonlyArray<readonly [string, number, boolean, number]> = [
  ['u+x', 0o644, false, 0o744],
  ['go-w', 0o666, false, 0o644],
  ['a=r', 0o755, false, 0o444],
  ['=', 0o755, false, 0o000],
  ['u=rwx,g=rx,o=', 0o644, false, 0o750],
  ['+X', 0o644, false, 0o644],
  ['+X', 0o744, false, 0o755],
  ['+X', 0o644, true, 0o755],
  ['a-X', 0o755, false, 0o644],
  ['g=u', 0o640, false, 0o660],
  ['o=g', 0o750, false, 0o755],
  ['go=u-w', 0o700, false, 0o755],
  ['u+s', 0o755, false, 0o4755],
  ['g+s', 0o755, true, 0o2755],
  ['+t', 0o777, true, 0o1777],
  ['o+t', 0o777, true, 0o777],
  ['o+s', 0o755, false, 0o755],
  ['u-s,g-s', 0o6755, false, 0o755],
  ['u+x-w', 0o644, false, 0o544],
  ['ug+rw,o-rwx', 0o604, false, 0o660],
];

for (const [text, before, directory, after] of TABLE) {
  test(`--chmod=${text} turns ${before.toString(8)}${directory ? ' (a directory)' : ''} into ${after.toString(8)}`, (t) => {
    const change = parseChmod(text);
    t.is(change.kind, 'symbolic');
    t.is(applyModeChange(change, before | (directory ? 0o40000 : 0o100000), directory).toString(8), after.toString(8));
  });
}

test('an octal --chmod replaces the permission bits, special bits included', (t) => {
  t.is(applyModeChange(parseChmod('0755'), 0o100600, false), 0o755);
  t.is(applyModeChange(parseChmod('4711'), 0o100600, false), 0o4711);
  t.deepEqual(parseChmod('7777'), { kind: 'octal', mode: 0o7777 });
});

for (const text of ['', '08', '10000', '0o755', '9', 'u+q', 'z+x', 'u', 'u+x,', '+x,,g+w', 'u!x']) {
  test(`--chmod=${JSON.stringify(text)} is refused naming it`, (t) => {
    const error = t.throws(() => parseChmod(text), { instanceOf: UsageError });
    t.true(error.message.includes(JSON.stringify(text)), error.message);
  });
}
