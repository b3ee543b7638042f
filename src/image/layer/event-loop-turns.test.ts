import test from 'ava';
import { eventLoopTurns } from './event-loop-turns.ts';

/** Spins for `ms` of wall time. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('a turn is due once the slice has passed, and not before', async (t) => {
  const turn = eventLoopTurns(5);
  t.is(turn(), undefined);
  busy(6);
  const pause = turn();
  t.true(pause instanceof Promise);
  await pause;
  // The slice starts again after the turn.
  t.is(turn(), undefined);
});

test('with a stride, the clock is read every stride-th item: the items between go on whatever the time', async (t) => {
  const turn = eventLoopTurns(1, 4);
  busy(2);
  t.is(turn(), undefined);
  t.is(turn(), undefined);
  t.is(turn(), undefined);
  const pause = turn();
  t.true(pause instanceof Promise);
  await pause;
  busy(2);
  for (let i = 0; i < 3; i++) t.is(turn(), undefined);
  t.true(turn() instanceof Promise);
});

test('a walk that awaits its pauses lets a timer fire while it runs', async (t) => {
  let fired = false;
  setTimeout(() => {
    fired = true;
  }, 5);
  const turn = eventLoopTurns(2, 16);
  const started = performance.now();
  let firedAt = Number.NaN;
  while (performance.now() - started < 200) {
    busy(0.05);
    const pause = turn();
    if (pause) await pause;
    if (fired && Number.isNaN(firedAt)) firedAt = performance.now() - started;
  }
  t.true(fired);
  t.true(firedAt < 100, `fired after ${firedAt.toFixed(1)} ms of a 200 ms walk`);
});
