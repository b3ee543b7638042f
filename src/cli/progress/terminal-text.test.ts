import test from 'ava';
import { cutToWidth, displayWidth, terminalLine } from './terminal-text.ts';

test('terminalLine keeps what follows the last carriage return, without escapes or controls', (t) => {
  t.is(terminalLine('10%\r50%\r100%'), '100%');
  t.is(terminalLine('done\r'), 'done');
  t.is(terminalLine('\x1b[1;31merror\x1b[0m: \x1b]0;title\x07bad\x07'), 'error: bad');
  t.is(terminalLine('a\tb'), 'a       b');
  t.is(terminalLine('漢\tb'), '漢      b');
});

test('cutToWidth counts wide characters as two columns and never splits one', (t) => {
  t.is(displayWidth('漢字ab'), 6);
  t.is(cutToWidth('漢字ab', 3), '漢');
  t.is(cutToWidth('abcdef', 4), 'abcd');
  t.is(cutToWidth('e\u0301x', 1), 'e\u0301');
  t.is(cutToWidth('😀x', 2), '😀');
});
