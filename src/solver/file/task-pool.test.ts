import test from 'ava';
import { TaskPool } from './task-pool.ts';

/** A task that ends when told to, recording that it ran. */
function gate(): { readonly task: () => Promise<void>; open(): void; fail(error: Error): void; started: boolean } {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const state = {
    started: false,
    task: () => {
      state.started = true;
      return new Promise<void>((resolve, reject) => {
        open = resolve;
        fail = reject;
      });
    },
    open: () => open(),
    fail: (error: Error) => fail(error),
  };
  return state;
}

test('no more than the limit run at once; a start waits for a free slot', async (t) => {
  const pool = new TaskPool(2);
  const [a, b, c] = [gate(), gate(), gate()];
  await pool.start(a.task);
  await pool.start(b.task);
  t.is(pool.running, 2);
  let third = false;
  const starting = pool.start(c.task).then(() => {
    third = true;
  });
  await new Promise<void>((resolve) => setImmediate(resolve));
  t.false(third);
  t.false(c.started);
  a.open();
  await starting;
  t.true(c.started);
  b.open();
  c.open();
  await pool.drain();
  t.is(pool.running, 0);
});

test('the first failure is thrown by drain once every task started is over, and no task starts after it', async (t) => {
  const pool = new TaskPool(3);
  const [a, b, c] = [gate(), gate(), gate()];
  await pool.start(a.task);
  await pool.start(b.task);
  await pool.start(c.task);
  b.fail(new Error('second failed'));
  await new Promise<void>((resolve) => setImmediate(resolve));
  a.fail(new Error('first failed later'));
  let drained = false;
  const draining = pool.drain().finally(() => {
    drained = true;
  });
  await new Promise<void>((resolve) => setImmediate(resolve));
  // c is still running: drain must not report before it is over.
  t.false(drained);
  c.open();
  await t.throwsAsync(draining, { message: 'second failed' });
  const late = gate();
  await t.throwsAsync(pool.start(late.task), { message: 'second failed' });
  t.false(late.started);
});

test('a task that throws before returning its promise fails the pool like a rejection', async (t) => {
  const pool = new TaskPool(1);
  const { done } = await pool.start(() => {
    throw new Error('at once');
  });
  await t.throwsAsync(done, { message: 'at once' });
  await t.throwsAsync(pool.drain(), { message: 'at once' });
});

test('settle waits for every task and ignores failures', async (t) => {
  const pool = new TaskPool(2);
  const [a, b] = [gate(), gate()];
  await pool.start(a.task);
  await pool.start(b.task);
  a.fail(new Error('ignored'));
  let settled = false;
  const settling = pool.settle().then(() => {
    settled = true;
  });
  await new Promise<void>((resolve) => setImmediate(resolve));
  t.false(settled);
  b.open();
  await settling;
  t.is(pool.running, 0);
});
