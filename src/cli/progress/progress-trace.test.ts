import test from 'ava';
import { KEPT_LINES, ProgressTrace } from './progress-trace.ts';

test('output chunks become whole lines stamped with the time their first byte came, CRLF ending as LF', (t) => {
  const trace = new ProgressTrace();
  t.deepEqual(trace.apply({ kind: 'log', time: 1, id: 'a', stream: 1, data: 'he' }), []);
  t.deepEqual(trace.apply({ kind: 'log', time: 2, id: 'a', stream: 1, data: 'llo\r\nwor' }), [{ text: 'hello', time: 1, stream: 1 }]);
  t.deepEqual(trace.apply({ kind: 'log', time: 3, id: 'a', stream: 1, data: 'ld\n\n' }), [
    { text: 'world', time: 2, stream: 1 },
    { text: '', time: 3, stream: 1 },
  ]);
  t.deepEqual(trace.vertex('a').tail(2), ['world', '']);
});

test('a step keeps its last lines, held ones included, and its first end', (t) => {
  const trace = new ProgressTrace();
  trace.apply({ kind: 'started', time: 0, id: 'a', cacheMiss: undefined });
  const data = Array.from({ length: 15 }, (_, i) => `line ${i + 1}`).join('\n');
  trace.apply({ kind: 'log', time: 1, id: 'a', stream: 2, data });
  t.deepEqual(trace.vertex('a').tail(3), ['line 13', 'line 14', 'line 15']);
  t.deepEqual(trace.apply({ kind: 'error', time: 5, id: 'a', message: 'exit code: 1' }), [{ text: 'line 15', time: 1, stream: 2 }]);
  trace.apply({ kind: 'done', time: 6, id: 'a' });
  const v = trace.vertex('a');
  t.is(v.state, 'error');
  t.is(v.endedAt, 5);
  t.is(v.recent.length, KEPT_LINES);
  t.is(v.recent[0], 'line 6');
  t.is(trace.firstError, v);
  t.is(trace.completed, 1);
});
