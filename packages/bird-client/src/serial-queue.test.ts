import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('SerialQueue', () => {
  it('starts a task in the caller’s turn when idle', () => {
    const queue = new SerialQueue();
    let started = false;
    void queue.run(async () => {
      started = true;
    });
    expect(started).toBe(true);
  });

  it('runs tasks one at a time, in call order, a busy queue starting the next only after the last', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const gate = deferred();
    const first = queue.run(async () => {
      log.push('a start');
      await gate.promise;
      log.push('a end');
    });
    const second = queue.run(async () => {
      log.push('b');
    });
    await Promise.resolve();
    expect(log).toEqual(['a start']);
    gate.resolve();
    await Promise.all([first, second]);
    expect(log).toEqual(['a start', 'a end', 'b']);
  });

  it('goes on after a task rejects or throws synchronously, and passes the error to its caller', async () => {
    const queue = new SerialQueue();
    const failing = queue.run(() => Promise.reject(new Error('async')));
    const throwing = queue.run(() => {
      throw new Error('sync');
    });
    await expect(failing).rejects.toThrow('async');
    await expect(throwing).rejects.toThrow('sync');
    await expect(queue.run(async () => 'next')).resolves.toBe('next');
    await new Promise((r) => setImmediate(r));
    let started = false;
    void queue.run(async () => {
      started = true;
    });
    expect(started).toBe(true);
  });
});
