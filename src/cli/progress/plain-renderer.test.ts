import test from 'ava';
import { Writable } from 'node:stream';
import type { SourceRange } from '../../errors/index.ts';
import type { ProgressEvent } from '../../solver/index.ts';
import { createProgressRenderer } from './progress-renderer.ts';

const DOCKERFILE = 'FROM busybox\nCOPY src/ /app/\nRUN make\nCMD ["/app/run"]\n';

function sink() {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { out, text: () => chunks.join('') };
}

function line(n: number): SourceRange {
  return { start: { line: n, column: 1 }, end: { line: n, column: 100 } };
}

function vertex(id: string, name: string, range?: SourceRange): ProgressEvent {
  return { kind: 'vertex', time: 1000, id, name, file: range === undefined ? undefined : 'Dockerfile', range };
}

async function render(events: readonly ProgressEvent[], sources: Record<string, string> = { Dockerfile: DOCKERFILE }) {
  const { out, text } = sink();
  const renderer = createProgressRenderer({ mode: 'plain', out, source: (file) => sources[file], now: () => 0 });
  for (const event of events) renderer.write(event);
  await renderer.close();
  return text();
}

test('plain prints numbered blocks with cache-miss reasons, timed log lines, DONE, CACHED and ERROR, then the failure excerpt', async (t) => {
  const text = await render([
    vertex('a', '[internal] load build definition from Dockerfile'),
    vertex('b', '[stage-0 1/3] FROM busybox', line(1)),
    vertex('c', '[stage-0 2/3] COPY src/ /app/', line(2)),
    vertex('d', '[stage-0 3/3] RUN make', line(3)),
    { kind: 'started', time: 1000, id: 'a', cacheMiss: undefined },
    { kind: 'done', time: 1012, id: 'a' },
    { kind: 'cached', time: 1020, id: 'b' },
    { kind: 'started', time: 1030, id: 'c', cacheMiss: 'file src/app.js changed' },
    { kind: 'started', time: 1040, id: 'd', cacheMiss: undefined },
    { kind: 'log', time: 1100, id: 'd', stream: 1, data: 'compil' },
    { kind: 'log', time: 1150, id: 'd', stream: 1, data: 'ing\nlinking\npart' },
    { kind: 'done', time: 1480, id: 'c' },
    { kind: 'log', time: 1200, id: 'd', stream: 2, data: 'make: *** [all] Error 2\n' },
    { kind: 'error', time: 2340, id: 'd', message: 'process "/bin/sh -c make" did not complete successfully: exit code: 2' },
  ]);
  t.is(
    text,
    [
      '#1 [internal] load build definition from Dockerfile',
      '#1 DONE 0.0s',
      '',
      '#2 [stage-0 1/3] FROM busybox',
      '#2 CACHED',
      '',
      '#3 [stage-0 2/3] COPY src/ /app/',
      '#3 cache miss: file src/app.js changed',
      '#3 ...',
      '',
      '#4 [stage-0 3/3] RUN make',
      '#4 0.060 compiling',
      '#4 0.110 linking',
      '#4 ...',
      '',
      '#3 [stage-0 2/3] COPY src/ /app/',
      '#3 DONE 0.5s',
      '',
      '#4 [stage-0 3/3] RUN make',
      '#4 0.160 make: *** [all] Error 2',
      '#4 0.110 part',
      '#4 ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2',
      '------',
      ' > [stage-0 3/3] RUN make:',
      'compiling',
      'linking',
      'make: *** [all] Error 2',
      'part',
      '------',
      'Dockerfile:3',
      '--------------------',
      '   1 |     FROM busybox',
      '   2 |     COPY src/ /app/',
      '   3 | >>> RUN make',
      '   4 |     CMD ["/app/run"]',
      '--------------------',
      'ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2',
      '',
    ].join('\n'),
  );
});

test('plain never cuts a line and keeps a partial line until its newline', async (t) => {
  const long = 'x'.repeat(5000);
  const text = await render([
    vertex('a', '[stage-0 2/2] RUN build'),
    { kind: 'started', time: 0, id: 'a', cacheMiss: undefined },
    { kind: 'log', time: 12_345, id: 'a', stream: 1, data: long.slice(0, 100) },
    { kind: 'log', time: 12_400, id: 'a', stream: 1, data: `${long.slice(100)}\r\n` },
    { kind: 'log', time: 123_456, id: 'a', stream: 1, data: 'late\n' },
    { kind: 'done', time: 125_000, id: 'a' },
  ]);
  t.is(text, `#1 [stage-0 2/2] RUN build\n#1 12.35 ${long}\n#1 123.5 late\n#1 DONE 125.0s\n`);
});

test('plain separates stdout from stderr when their chunks interleave', async (t) => {
  const text = await render([
    vertex('a', 'RUN x'),
    { kind: 'started', time: 0, id: 'a', cacheMiss: undefined },
    { kind: 'log', time: 1, id: 'a', stream: 1, data: 'out-' },
    { kind: 'log', time: 2, id: 'a', stream: 2, data: 'err\n' },
    { kind: 'log', time: 3, id: 'a', stream: 1, data: 'line\n' },
    { kind: 'done', time: 4, id: 'a' },
  ]);
  t.is(text, '#1 RUN x\n#1 0.002 err\n#1 0.001 out-line\n#1 DONE 0.0s\n');
});

test('plain prints a partial line held by a step that never ended when it closes', async (t) => {
  const text = await render([
    vertex('a', 'RUN sleep 100'),
    { kind: 'started', time: 0, id: 'a', cacheMiss: undefined },
    { kind: 'log', time: 500, id: 'a', stream: 1, data: 'waiting' },
  ]);
  t.is(text, '#1 RUN sleep 100\n#1 0.500 waiting\n');
});

test('plain prints build messages in their own block and CANCELED steps', async (t) => {
  const text = await render([
    vertex('a', 'RUN one'),
    { kind: 'started', time: 0, id: 'a', cacheMiss: undefined },
    { kind: 'message', time: 1, level: 'warning', text: 'build arg VERSION was not used' },
    { kind: 'message', time: 2, level: 'info', text: 'exporting to the store' },
    { kind: 'canceled', time: 300, id: 'a' },
  ]);
  t.is(
    text,
    [
      '#1 RUN one',
      '#1 ...',
      '',
      'WARNING: build arg VERSION was not used',
      'exporting to the store',
      '',
      '#1 RUN one',
      '#1 CANCELED',
      '',
    ].join('\n'),
  );
});

test('plain prints the failure of the first error only, FILE:LINE alone when the Dockerfile is unknown', async (t) => {
  const text = await render(
    [
      vertex('a', 'RUN a', line(3)),
      vertex('b', 'RUN b', line(4)),
      { kind: 'started', time: 0, id: 'a', cacheMiss: undefined },
      { kind: 'error', time: 100, id: 'a', message: 'exit code: 1' },
      { kind: 'error', time: 200, id: 'b', message: 'exit code: 2' },
      { kind: 'done', time: 300, id: 'a' },
    ],
    {},
  );
  t.is(
    text,
    [
      '#1 RUN a',
      '#1 ERROR: exit code: 1',
      '',
      '#2 RUN b',
      '#2 ERROR: exit code: 2',
      '------',
      ' > RUN a:',
      '------',
      'Dockerfile:3',
      'ERROR: exit code: 1',
      '',
    ].join('\n'),
  );
});

test('plain prints nothing for a build without events', async (t) => {
  t.is(await render([]), '');
});

test('events for a step never announced are shown under its id, and write never throws', async (t) => {
  const { out, text } = sink();
  const renderer = createProgressRenderer({
    mode: 'plain',
    out,
    source: () => {
      throw new Error('unreadable');
    },
  });
  t.notThrows(() => renderer.write({ kind: 'error', time: 5, id: 'sha256:ab', message: 'boom' }));
  t.notThrows(() => renderer.write({ kind: 'log', time: 5, id: 'x', stream: 3, data: 4 } as unknown as ProgressEvent));
  await renderer.close();
  renderer.write({ kind: 'cached', time: 6, id: 'late' });
  t.is(text(), '#1 sha256:ab\n#1 ERROR: boom\n------\n > sha256:ab:\n------\nERROR: boom\n');
});
