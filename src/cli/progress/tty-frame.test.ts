import test from 'ava';
import { ProgressTrace } from './progress-trace.ts';
import { ttyFrame, type TtyFrameOptions } from './tty-frame.ts';

function trace(): ProgressTrace {
  const t = new ProgressTrace();
  for (const [id, name] of [
    ['a', 'FROM busybox'],
    ['b', 'RUN one'],
    ['c', 'RUN two'],
    ['d', 'RUN three'],
    ['e', 'RUN later'],
  ] as const) {
    t.apply({ kind: 'vertex', time: 0, id, name, file: undefined, range: undefined });
  }
  t.apply({ kind: 'cached', time: 0, id: 'a' });
  t.apply({ kind: 'started', time: 0, id: 'b', cacheMiss: undefined });
  t.apply({ kind: 'done', time: 1234, id: 'b' });
  t.apply({ kind: 'started', time: 100, id: 'c', cacheMiss: undefined });
  t.apply({ kind: 'error', time: 300, id: 'c', message: 'exit code: 1' });
  t.apply({ kind: 'started', time: 1000, id: 'd', cacheMiss: undefined });
  t.apply({ kind: 'log', time: 1100, id: 'd', stream: 1, data: '1\n2\n3\n4\n5\n6\n7\n8' });
  return t;
}

const OPTIONS: TtyFrameOptions = { elapsed: 3000, now: 3000, width: 32, height: undefined, final: false, color: false };

test('a frame lists started steps with state and time, and the last six output lines of running ones', (t) => {
  t.deepEqual(ttyFrame(trace(), OPTIONS), [
    '[+] Building 3.0s (3/5)',
    ' => CACHED FROM busybox    0.0s',
    ' => RUN one                1.2s',
    ' => ERROR RUN two          0.2s',
    ' => RUN three              2.0s',
    ' => => # 3',
    ' => => # 4',
    ' => => # 5',
    ' => => # 6',
    ' => => # 7',
    ' => => # 8',
  ]);
});

test('the final frame has no output lines, and FINISHED only when every announced step ended', (t) => {
  const running = trace();
  t.deepEqual(ttyFrame(running, { ...OPTIONS, final: true })[0], '[+] Building 3.0s (3/5)');
  t.is(ttyFrame(running, { ...OPTIONS, final: true }).length, 5);
  const ended = trace();
  ended.apply({ kind: 'done', time: 2000, id: 'd' });
  ended.apply({ kind: 'canceled', time: 2000, id: 'e' });
  t.is(ttyFrame(ended, { ...OPTIONS, width: 40, final: true })[0], '[+] Building 3.0s (5/5) FINISHED');
  t.deepEqual(ttyFrame(ended, { ...OPTIONS, final: true }), [
    '[+] Building 3.0s (5/5) FINISHE',
    ' => CACHED FROM busybox    0.0s',
    ' => RUN one                1.2s',
    ' => ERROR RUN two          0.2s',
    ' => RUN three              1.0s',
    ' => CANCELED RUN later     0.0s',
  ]);
});

test('a short terminal keeps the running step, then its output, then the latest ended steps', (t) => {
  t.deepEqual(ttyFrame(trace(), { ...OPTIONS, height: 10 }), [
    '[+] Building 3.0s (3/5)',
    ' => RUN one                1.2s',
    ' => ERROR RUN two          0.2s',
    ' => RUN three              2.0s',
    ' => => # 3',
    ' => => # 4',
    ' => => # 5',
    ' => => # 6',
    ' => => # 7',
    ' => => # 8',
  ]);
  t.deepEqual(ttyFrame(trace(), { ...OPTIONS, height: 2 }), ['[+] Building 3.0s (3/5)', ' => RUN three              2.0s']);
});

test('a terminal too narrow for name and time shows the name alone, cut', (t) => {
  t.deepEqual(ttyFrame(trace(), { ...OPTIONS, width: 16, final: true }).slice(0, 3), ['[+] Building 3.', ' => CACHED FROM', ' => RUN one']);
});

test('colour marks ended steps and fades output lines', (t) => {
  const lines = ttyFrame(trace(), { ...OPTIONS, color: true });
  t.is(lines[1], '\x1b[34m => CACHED FROM busybox    0.0s\x1b[0m');
  t.is(lines[3], '\x1b[31m => ERROR RUN two          0.2s\x1b[0m');
  t.is(lines[4], ' => RUN three              2.0s');
  t.is(lines[5], '\x1b[2m => => # 3\x1b[0m');
});
