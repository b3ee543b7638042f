import test from 'ava';
import { Writable } from 'node:stream';
import type { ProgressEvent } from '../../solver/index.ts';
import { createProgressRenderer } from './progress-renderer.ts';

test('rawjson writes each event as one JSON line, unchanged, and nothing more on close', async (t) => {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const events: ProgressEvent[] = [
    { kind: 'vertex', time: 1, id: 'sha256:a', name: '[stage-0 2/2] RUN make', file: 'Dockerfile', range: { start: { line: 2, column: 1 }, end: { line: 2, column: 9 } } },
    { kind: 'started', time: 2, id: 'sha256:a', cacheMiss: 'file src/app.js changed' },
    { kind: 'log', time: 3, id: 'sha256:a', stream: 2, data: 'half a line' },
    { kind: 'message', time: 4, level: 'warning', text: 'build arg X was not used' },
    { kind: 'error', time: 5, id: 'sha256:a', message: 'exit code: 1' },
  ];
  const renderer = createProgressRenderer({ mode: 'rawjson', out, source: () => 'RUN make\n' });
  for (const event of events) renderer.write(event);
  await renderer.close();
  const text = chunks.join('');
  t.is(text, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  t.deepEqual(
    text.trimEnd().split('\n').map((l) => JSON.parse(l)),
    events,
  );
});
