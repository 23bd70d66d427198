import { GiveUp } from '@rhi/test-support';
import { describe, expect, it } from 'vitest';
import { cancellable, throwIfCancelled } from './support/docker.js';

describe('cancellable scenarios', () => {
  it('a body whose signal aborted throws GiveUp at its next fleet action, after an await too', async () => {
    const controller = new AbortController();
    const steps: string[] = [];
    const body = cancellable(controller.signal, async () => {
      throwIfCancelled();
      steps.push('before');
      await new Promise((resolve) => setTimeout(resolve, 20));
      throwIfCancelled();
      steps.push('after');
    });
    controller.abort(new Error('test timed out'));
    await expect(body).rejects.toBeInstanceOf(GiveUp);
    await expect(body).rejects.toThrow(/cancelled.*test timed out/);
    expect(steps).toEqual(['before']);
  });

  it('a later scenario with its own signal goes on while the cancelled one stops', async () => {
    const first = new AbortController();
    const ran: string[] = [];
    const old = cancellable(first.signal, async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      throwIfCancelled();
      ran.push('old');
    });
    first.abort();
    const next = cancellable(new AbortController().signal, async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      throwIfCancelled();
      ran.push('next');
    });
    await expect(old).rejects.toBeInstanceOf(GiveUp);
    await next;
    expect(ran).toEqual(['next']);
    expect(() => throwIfCancelled()).not.toThrow();
  });
});
