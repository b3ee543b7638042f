import test from 'ava';
import { formatBuildFailure } from './build-failure.ts';

const SOURCE = ['FROM gcc', 'WORKDIR /src', 'COPY . .', 'RUN make \\', '  all', 'RUN make test', 'CMD ["app"]', ''].join('\n');

test('a one-line range shows two lines of context on each side, the line marked >>>', (t) => {
  const text = formatBuildFailure(
    {
      name: '[stage-0 5/5] RUN make test',
      file: 'app/Dockerfile',
      range: { start: { line: 6, column: 1 }, end: { line: 6, column: 14 } },
      message: 'process "/bin/sh -c make test" did not complete successfully: exit code: 2',
      lastLines: ['FAIL: test_parse', 'make: *** [test] Error 1'],
    },
    SOURCE,
  );
  t.is(
    text,
    [
      '------',
      ' > [stage-0 5/5] RUN make test:',
      'FAIL: test_parse',
      'make: *** [test] Error 1',
      '------',
      'app/Dockerfile:6',
      '--------------------',
      '   4 |     RUN make \\',
      '   5 |       all',
      '   6 | >>> RUN make test',
      '   7 |     CMD ["app"]',
      '--------------------',
      'ERROR: process "/bin/sh -c make test" did not complete successfully: exit code: 2',
    ].join('\n'),
  );
});

test('a multi-line range marks every line and shows one line of context', (t) => {
  const text = formatBuildFailure(
    { name: undefined, file: 'Dockerfile', range: { start: { line: 4, column: 1 }, end: { line: 5, column: 6 } }, message: 'exit code: 1', lastLines: [] },
    SOURCE,
  );
  t.is(
    text,
    [
      'Dockerfile:4',
      '--------------------',
      '   3 |     COPY . .',
      '   4 | >>> RUN make \\',
      '   5 | >>>   all',
      '   6 |     RUN make test',
      '--------------------',
      'ERROR: exit code: 1',
    ].join('\n'),
  );
});

test('line numbers widen past 999 and a range past the end of the text is clamped', (t) => {
  const source = Array.from({ length: 1001 }, (_, i) => `RUN echo ${i + 1}`).join('\n');
  const text = formatBuildFailure(
    { name: undefined, file: 'Dockerfile', range: { start: { line: 1000, column: 1 }, end: { line: 1200, column: 1 } }, message: 'm', lastLines: [] },
    source,
  );
  t.is(text, ['Dockerfile:1000', '--------------------', '  999 |     RUN echo 999', ' 1000 | >>> RUN echo 1000', ' 1001 | >>> RUN echo 1001', '--------------------', 'ERROR: m'].join('\n'));
});

test('without a file the failure is the name block and the message', (t) => {
  t.is(formatBuildFailure({ name: undefined, file: undefined, range: undefined, message: 'no space left on device', lastLines: ['x'] }, undefined), 'ERROR: no space left on device');
  t.is(
    formatBuildFailure({ name: '[internal] load build context', file: undefined, range: undefined, message: 'ctx', lastLines: [] }, undefined),
    '------\n > [internal] load build context:\n------\nERROR: ctx',
  );
  t.is(
    formatBuildFailure({ name: undefined, file: 'Dockerfile', range: { start: { line: 40, column: 1 }, end: { line: 40, column: 2 } }, message: 'm', lastLines: [] }, 'FROM a\n'),
    'Dockerfile:40\nERROR: m',
  );
});
