import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import type { SourceRange } from '../../errors/index.ts';
import type { ProgressEvent } from '../../solver/index.ts';
import type { ProgressOutput } from './progress-renderer.ts';
import { REDRAW_MS, createTtyRenderer } from './tty-renderer.ts';

const DOCKERFILE = 'FROM busybox\nCOPY . /app\nRUN make\n';
// The solver's clock is far from the fake local one: the view must only use differences.
const T0 = 1_700_000_000_000;

/** A fake terminal: the renderer's output and the screen it leaves (cursor moves, erases, \r, \n). */
function terminal(columns: number, rows?: number) {
  const chunks: string[] = [];
  const out: ProgressOutput = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
    { isTTY: true, columns, rows },
  );
  const screen = (): string[] => {
    const lines: string[] = [''];
    let row = 0;
    let col = 0;
    const text = chunks.join('');
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\x1b') {
        const m = /^\x1b\[(\??)(\d*)([A-Za-z])/.exec(text.slice(i));
        if (m === null) throw new Error(`unexpected escape at ${i}: ${JSON.stringify(text.slice(i, i + 8))}`);
        i += m[0].length - 1;
        const n = Number(m[2] || '1');
        if (m[3] === 'A') row = Math.max(0, row - n);
        else if (m[3] === 'K') lines[row] = lines[row]!.slice(0, col);
        else if (m[3] === 'J') {
          lines[row] = lines[row]!.slice(0, col);
          lines.length = row + 1;
        } else if (m[3] !== 'm' && m[3] !== 'l' && m[3] !== 'h') throw new Error(`unexpected sequence ${m[0]}`);
        continue;
      }
      if (c === '\r') col = 0;
      else if (c === '\n') {
        row++;
        col = 0;
        while (lines.length <= row) lines.push('');
      } else {
        const line = lines[row]!.padEnd(col);
        lines[row] = line.slice(0, col) + c + line.slice(col + 1);
        col++;
      }
    }
    return lines;
  };
  return { out, text: () => chunks.join(''), screen };
}

/** A step's line as a terminal `columns` wide shows it: its time right-aligned one column short of the edge. */
function row(columns: number, left: string, time: string): string {
  return left.padEnd(columns - 1 - time.length) + time;
}

function line(n: number): SourceRange {
  return { start: { line: n, column: 1 }, end: { line: n, column: 9 } };
}

function vertex(id: string, name: string, range?: SourceRange): ProgressEvent {
  return { kind: 'vertex', time: T0, id, name, file: range === undefined ? undefined : 'Dockerfile', range };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('the live view shows running steps with their last output lines, and close leaves the final frame and the failure', async (t) => {
  const term = terminal(60);
  let clock = 50_000;
  const renderer = createTtyRenderer({ out: term.out, source: (f) => (f === 'Dockerfile' ? DOCKERFILE : undefined), now: () => clock, env: { NO_COLOR: '1' } });
  renderer.write(vertex('a', '[stage-0 1/3] FROM busybox', line(1)));
  renderer.write(vertex('b', '[stage-0 2/3] COPY . /app', line(2)));
  renderer.write(vertex('c', '[stage-0 3/3] RUN make', line(3)));
  renderer.write({ kind: 'cached', time: T0 + 10, id: 'a' });
  renderer.write({ kind: 'started', time: T0 + 20, id: 'b', cacheMiss: 'file app.js changed' });
  renderer.write({ kind: 'done', time: T0 + 420, id: 'b' });
  renderer.write({ kind: 'started', time: T0 + 500, id: 'c', cacheMiss: undefined });
  const output = Array.from({ length: 8 }, (_, i) => `cc -c file${i + 1}.c`);
  renderer.write({ kind: 'log', time: T0 + 600, id: 'c', stream: 1, data: `${output.join('\n')}\n\x1b[1mlinking\x1b[0m 10%\r50%` });
  clock += 1700;

  await until(() => term.screen().includes(' => => # 50%'), 'a live frame');
  t.deepEqual(term.screen(), [
    '[+] Building 1.7s (2/3)',
    row(60, ' => CACHED [stage-0 1/3] FROM busybox', '0.0s'),
    row(60, ' => [stage-0 2/3] COPY . /app', '0.4s'),
    row(60, ' => [stage-0 3/3] RUN make', '1.2s'),
    ' => => # cc -c file4.c',
    ' => => # cc -c file5.c',
    ' => => # cc -c file6.c',
    ' => => # cc -c file7.c',
    ' => => # cc -c file8.c',
    ' => => # 50%',
    '',
  ]);

  renderer.write({ kind: 'log', time: T0 + 2000, id: 'c', stream: 1, data: '\n' });
  renderer.write({ kind: 'log', time: T0 + 2000, id: 'c', stream: 2, data: 'make: *** [all] Error 1\n' });
  renderer.write({ kind: 'error', time: T0 + 2100, id: 'c', message: 'process "/bin/sh -c make" did not complete successfully: exit code: 2' });
  clock += 500;
  await renderer.close();
  t.deepEqual(term.screen(), [
    '[+] Building 2.2s (3/3) FINISHED',
    row(60, ' => CACHED [stage-0 1/3] FROM busybox', '0.0s'),
    row(60, ' => [stage-0 2/3] COPY . /app', '0.4s'),
    row(60, ' => ERROR [stage-0 3/3] RUN make', '1.6s'),
    '------',
    ' > [stage-0 3/3] RUN make:',
    'cc -c file1.c',
    'cc -c file2.c',
    'cc -c file3.c',
    'cc -c file4.c',
    'cc -c file5.c',
    'cc -c file6.c',
    'cc -c file7.c',
    'cc -c file8.c',
    // Written as it came: the fake terminal drops the SGR and lets 50% overwrite the line.
    '50%king 10%',
    'make: *** [all] Error 1',
    '------',
    'Dockerfile:3',
    '--------------------',
    '   1 |     FROM busybox',
    '   2 |     COPY . /app',
    '   3 | >>> RUN make',
    '--------------------',
    'ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2',
    '',
  ]);
});

test('no timer is left after close: a step still running is not redrawn any more', async (t) => {
  const term = terminal(80);
  let clock = 0;
  const renderer = createTtyRenderer({ out: term.out, source: () => undefined, now: () => clock, env: {} });
  renderer.write(vertex('a', 'RUN sleep 1000'));
  renderer.write({ kind: 'started', time: T0, id: 'a', cacheMiss: undefined });
  await until(() => term.text().length > 0, 'the first frame');
  const before = term.text().length;
  clock += 1000;
  await until(() => term.text().length > before, 'a redraw while the step runs');

  await renderer.close();
  t.is(term.screen()[0], '[+] Building 1.0s (0/1)');
  t.is(term.screen()[1], row(80, ' => RUN sleep 1000', '1.0s'));
  const closed = term.text().length;
  clock += 1000;
  await sleep(REDRAW_MS * 4);
  t.is(term.text().length, closed);
});

test('lines are cut to the terminal width and the region to its height', async (t) => {
  const term = terminal(30, 6);
  let clock = 0;
  const renderer = createTtyRenderer({ out: term.out, source: () => undefined, now: () => clock, env: {} });
  for (let i = 1; i <= 6; i++) renderer.write(vertex(`v${i}`, `[stage-0 ${i}/6] RUN a-rather-long-command-${i}`));
  for (let i = 1; i <= 5; i++) {
    renderer.write({ kind: 'started', time: T0 + i, id: `v${i}`, cacheMiss: undefined });
    renderer.write({ kind: 'done', time: T0 + i * 100, id: `v${i}` });
  }
  renderer.write({ kind: 'started', time: T0 + 600, id: 'v6', cacheMiss: undefined });
  renderer.write({ kind: 'log', time: T0 + 700, id: 'v6', stream: 1, data: 'one\ntwo\nthree\n' + '漢'.repeat(40) + '\n' });
  clock = 1000;
  await until(() => term.screen().some((l) => l.startsWith(' => => #')), 'a live frame');
  const live = term.screen();
  // Six rows: the running step and its output come before the steps that ended.
  t.deepEqual(live, [
    '[+] Building 1.0s (5/6)',
    ' => [stage-0 6/6] RUN a- 0.4s',
    ' => => # two',
    ' => => # three',
    ` => => # ${'漢'.repeat(10)}`,
    '',
  ]);
  renderer.write({ kind: 'done', time: T0 + 1000, id: 'v6' });
  await renderer.close();
  const final = term.screen();
  t.is(final.length, 8, 'the final frame lists every step');
  t.is(final[1], ' => [stage-0 1/6] RUN a- 0.1s');
  t.is(final[6], ' => [stage-0 6/6] RUN a- 0.4s');
});

test('build messages print above the live region and colours mark ended steps', async (t) => {
  const term = terminal(50);
  const renderer = createTtyRenderer({ out: term.out, source: () => undefined, now: () => 0, env: {} });
  renderer.write(vertex('a', 'RUN ok'));
  renderer.write(vertex('b', 'RUN bad'));
  renderer.write({ kind: 'started', time: T0, id: 'a', cacheMiss: undefined });
  renderer.write({ kind: 'done', time: T0, id: 'a' });
  renderer.write({ kind: 'message', time: T0, level: 'warning', text: 'build arg X was not used' });
  renderer.write({ kind: 'canceled', time: T0, id: 'b' });
  await renderer.close();
  t.deepEqual(term.screen(), [
    'WARNING: build arg X was not used',
    '[+] Building 0.0s (2/2) FINISHED',
    row(50, ' => RUN ok', '0.0s'),
    row(50, ' => CANCELED RUN bad', '0.0s'),
    '',
  ]);
  t.true(term.text().includes('\x1b[34m => RUN ok'));
  t.true(term.text().includes('\x1b[33m => CANCELED RUN bad'));
});

test('a build without events draws nothing', async (t) => {
  const term = terminal(80);
  const renderer = createTtyRenderer({ out: term.out, source: () => undefined, now: () => 0, env: {} });
  await renderer.close();
  t.is(term.text(), '');
});
