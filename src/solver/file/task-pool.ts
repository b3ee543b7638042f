/** A task {@link TaskPool.start} started. */
export interface Started {
  /** Settles as the task does (its failure is also the pool's). */
  readonly done: Promise<void>;
}

/**
 * Runs asynchronous tasks with at most `limit` in flight, for a walk that starts them one by
 * one: {@link TaskPool.start} waits for a free slot, so the walk never runs far ahead of the
 * work. The first failure is kept; once a task has failed no new one starts, and
 * {@link TaskPool.drain} (or the next {@link TaskPool.start}) throws it after every task
 * started is over, so nothing still writes when the caller hears of the failure.
 */
export class TaskPool {
  readonly #limit: number;
  #running = 0;
  /** Woken, one per task that ends: whoever waits for a free slot, or for the last task. */
  #waiter: (() => void) | undefined;
  #failure: { readonly error: unknown } | undefined;

  /** @param limit the most tasks in flight at once (at least 1) */
  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** How many tasks are in flight. */
  get running(): number {
    return this.#running;
  }

  /**
   * Starts `task` once fewer than `limit` are in flight. Resolves when it has started, with
   * its completion (`done`, rejecting as the task does) for a later task that must wait for it.
   * One caller at a time: the walk awaits each start before the next.
   *
   * @throws the first failure of an earlier task, after every task started is over
   */
  async start(task: () => Promise<void>): Promise<Started> {
    while (this.#running >= this.#limit && this.#failure === undefined) await this.#ended();
    if (this.#failure !== undefined) await this.drain();
    this.#running += 1;
    let done: Promise<void>;
    try {
      done = task();
    } catch (error) {
      done = Promise.reject(error);
    }
    done.then(
      () => this.#end(),
      (error: unknown) => {
        this.#failure ??= { error };
        this.#end();
      },
    );
    return { done };
  }

  /**
   * Waits until every task started is over.
   *
   * @throws the first failure of a task
   */
  async drain(): Promise<void> {
    await this.settle();
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  /** Waits until every task started is over, ignoring their failures (for a caller already failing). */
  async settle(): Promise<void> {
    while (this.#running > 0) await this.#ended();
  }

  #ended(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waiter = resolve;
    });
  }

  #end(): void {
    this.#running -= 1;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }
}
