import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A free TCP port on `host` (bound, then released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Two loopback addresses and a port, random enough for test files running in parallel. */
export function loopbackPair(): { local: string; remote: string; port: number } {
  const second = 40 + Math.floor(Math.random() * 8);
  const third = Math.floor(Math.random() * 250);
  return {
    local: `127.${second}.${third}.1`,
    remote: `127.${second}.${third}.2`,
    port: 20_000 + Math.floor(Math.random() * 40_000),
  };
}

/** Thrown by a `waitFor` probe to stop waiting at once: the condition can no longer come true. */
export class GiveUp extends Error {}

/**
 * Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes; errors count as "not yet",
 * except `GiveUp`, which is thrown at once (e.g. the daemon being waited for has exited).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(everyMs);
  }
}
