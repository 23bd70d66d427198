import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BirdClient } from './client.js';
import { BirdTimeoutError } from './errors.js';

// How BirdClient tells a hung BIRD from a slow answer, against a unix socket that answers as scripted
// (BIRD's own replies, captured). The real BIRD's side is in client.bird.test.ts.

const reply = (name: string) =>
  readFileSync(new URL(`../test/fixtures/replies/${name}`, import.meta.url), 'utf8');
const BANNER = reply('banner.txt');

/** A control socket that greets (unless `greet` is false) and hands every command line to `answer`. */
async function fakeBird(
  options: { greet?: boolean; answer?: (line: string, socket: Socket) => void } = {},
): Promise<{ path: string; close: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rhi-bird-fake-'));
  const path = join(dir, 'bird.ctl');
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    if (options.greet ?? true) socket.write(BANNER);
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += String(chunk);
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
        options.answer?.(buffer.slice(0, nl), socket);
        buffer = buffer.slice(nl + 1);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** What `run` resolved or rejected with, and how long it took. */
const elapsed = async (run: () => Promise<unknown>) => {
  const start = performance.now();
  const outcome = await run().then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  return { ...outcome, ms: performance.now() - start };
};

describe('BirdClient timeouts', () => {
  it('counts a socket that accepts and never greets as hung after answerTimeoutMs, not timeoutMs', async () => {
    const bird = await fakeBird({ greet: false });
    const client = new BirdClient({ socketPath: bird.path, timeoutMs: 5000, answerTimeoutMs: 200 });
    cleanups.push(() => client.close(), bird.close);
    const { error, ms } = await elapsed(() => client.showStatus());
    expect(error).toBeInstanceOf(BirdTimeoutError);
    expect(error).toMatchObject({ code: 'BIRD_TIMEOUT', command: '(greeting)', timeoutMs: 200 });
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(2000);
  });

  it('counts a command that gets no answer as hung after answerTimeoutMs', async () => {
    const bird = await fakeBird();
    const client = new BirdClient({ socketPath: bird.path, timeoutMs: 5000, answerTimeoutMs: 200 });
    cleanups.push(() => client.close(), bird.close);
    await client.connect();
    const { error, ms } = await elapsed(() => client.showStatus());
    expect(error).toMatchObject({ code: 'BIRD_TIMEOUT', command: 'show status', timeoutMs: 200 });
    expect(ms).toBeLessThan(2000);
  });

  it('waits for a configure beyond answerTimeoutMs: BIRD answers it only once it has parsed everything', async () => {
    const bird = await fakeBird({
      answer: (line, socket) => {
        if (line === 'configure') setTimeout(() => socket.write(reply('configure.txt')), 600);
      },
    });
    const client = new BirdClient({ socketPath: bird.path, timeoutMs: 5000, answerTimeoutMs: 200 });
    cleanups.push(() => client.close(), bird.close);
    const { value, ms } = await elapsed(() => client.configure());
    expect(value).toMatchObject({ outcome: 'reconfigured' });
    expect(ms).toBeGreaterThanOrEqual(590);
  });

  it('lets a long reply go on while BIRD keeps sending, and bounds it by timeoutMs', async () => {
    const lines = reply('show-route-all.txt').split(/(?<=\n)/);
    const bird = await fakeBird({
      answer: (line, socket) => {
        const every = line === 'show route all' ? 100 : 400;
        lines.forEach((l, i) => setTimeout(() => socket.destroyed || socket.write(l), every * (i + 1)));
      },
    });
    const client = new BirdClient({ socketPath: bird.path, timeoutMs: 5000, answerTimeoutMs: 300 });
    cleanups.push(() => client.close(), bird.close);
    // Silent for 100 ms at a time, longer in all than answerTimeoutMs.
    expect(lines.length * 100).toBeGreaterThan(300);
    expect((await client.showRoute({ all: true })).length).toBeGreaterThan(0);
    // Silent for 400 ms: hung.
    await expect(client.showRoute()).rejects.toMatchObject({ code: 'BIRD_TIMEOUT', timeoutMs: 300 });
  });

  it('defaults answerTimeoutMs to timeoutMs', async () => {
    const bird = await fakeBird({ greet: false });
    const client = new BirdClient({ socketPath: bird.path, timeoutMs: 300 });
    cleanups.push(() => client.close(), bird.close);
    await expect(client.connect()).rejects.toMatchObject({ code: 'BIRD_TIMEOUT', timeoutMs: 300 });
  });
});

describe('BirdClient connection loss', () => {
  it('tells onConnectionLost when BIRD ends an open connection, not when the client closes it', async () => {
    const lost: Error[] = [];
    const bird = await fakeBird();
    cleanups.push(bird.close);
    const client = new BirdClient({
      socketPath: bird.path,
      timeoutMs: 1000,
      onConnectionLost: (e) => lost.push(e),
    });
    await client.connect();
    client.close();
    expect(lost).toEqual([]);
    await client.connect();
    // BIRD stops: every connection it had ends.
    await bird.close();
    await expect.poll(() => lost.length).toBe(1);
    expect(lost[0]?.message).toMatch(/connection closed/);
  });
});
