import test from 'ava';
import { Writable } from 'node:stream';
import type { ProgressEvent } from '../../solver/index.ts';
import { createProgressRenderer, resolveProgressMode, type ProgressOutput } from './progress-renderer.ts';

function sink(tty: { isTTY?: boolean; columns?: number } = {}) {
  const chunks: string[] = [];
  const out: ProgressOutput = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
    tty,
  );
  return { out, text: () => chunks.join('') };
}

const FAILED: readonly ProgressEvent[] = [
  { kind: 'vertex', time: 1, id: 'a', name: 'RUN false', file: 'Dockerfile', range: { start: { line: 1, column: 1 }, end: { line: 1, column: 10 } } },
  { kind: 'started', time: 1, id: 'a', cacheMiss: undefined },
  { kind: 'error', time: 2, id: 'a', message: 'exit code: 1' },
];

test('auto is tty on a TTY whose TERM is not dumb, else plain', (t) => {
  t.is(resolveProgressMode('auto', { isTTY: true }, { TERM: 'xterm-256color' }), 'tty');
  t.is(resolveProgressMode('auto', { isTTY: true }, {}), 'tty');
  t.is(resolveProgressMode('auto', { isTTY: true }, { TERM: 'dumb' }), 'plain');
  t.is(resolveProgressMode('auto', {}, { TERM: 'xterm' }), 'plain');
  t.is(resolveProgressMode('tty', {}, { TERM: 'dumb' }), 'tty');
  t.is(resolveProgressMode('rawjson', { isTTY: true }, {}), 'rawjson');
});

test('createProgressRenderer in auto mode draws the live view on a TTY and plain lines elsewhere', async (t) => {
  const tty = sink({ isTTY: true, columns: 40 });
  const live = createProgressRenderer({ mode: 'auto', out: tty.out, source: () => 'RUN false\n', now: () => 0, env: { TERM: 'xterm', NO_COLOR: '1' } });
  const pipe = sink();
  const plain = createProgressRenderer({ mode: 'auto', out: pipe.out, source: () => 'RUN false\n', env: { TERM: 'xterm' } });
  for (const event of FAILED) {
    live.write(event);
    plain.write(event);
  }
  await Promise.all([live.close(), plain.close()]);
  t.true(tty.text().includes('[+] Building 0.0s (1/1) FINISHED'));
  t.true(tty.text().includes(' => ERROR RUN false'));
  t.true(pipe.text().startsWith('#1 RUN false\n#1 ERROR: exit code: 1\n'));
  t.false(pipe.text().includes('\x1b'));
});

test('quiet writes nothing, not even the failure', async (t) => {
  const { out, text } = sink();
  const renderer = createProgressRenderer({ mode: 'quiet', out, source: () => 'RUN false\n' });
  for (const event of FAILED) renderer.write(event);
  await renderer.close();
  t.is(text(), '');
});

test('close resolves once, and writes after it are ignored', async (t) => {
  const { out, text } = sink();
  const renderer = createProgressRenderer({ mode: 'plain', out, source: () => undefined });
  renderer.write(FAILED[0]!);
  await renderer.close();
  await renderer.close();
  renderer.write(FAILED[1]!);
  t.is(text(), '');
});
