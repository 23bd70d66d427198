/**
 * Runs async tasks one at a time, in call order. A task called while the queue is idle starts at once,
 * in the caller's turn rather than a microtask later: on the failover path, the write to BIRD then goes
 * out before whatever else the caller does next (logging, publishing).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.pending === 0 ? start(task) : this.tail.then(task, task);
    this.pending++;
    const done = (): void => {
      this.pending--;
    };
    this.tail = run.then(done, done);
    return run;
  }
}

function start<T>(task: () => Promise<T>): Promise<T> {
  try {
    return task();
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
