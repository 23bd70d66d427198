import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBird, waitFor, type BirdInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BirdClient, MAX_COMMAND_BYTES } from './client.js';
import {
  BirdCommandSyntaxError,
  BirdCommandTooLongError,
  BirdConfigError,
  BirdConnectionError,
  BirdReplyError,
  BirdTimeoutError,
} from './errors.js';

let bird: BirdInstance;
let client: BirdClient;
let includePath: string;
const asyncLines: string[] = [];

const routes = `protocol static vol1 {
  ipv4;
  route 198.18.10.1/32 via "lo";
  route 198.18.10.2/32 blackhole { bgp_med = 10; bgp_community.add((65000,1)); };
}
`;

beforeAll(async () => {
  bird = await startBird({
    name: 'client',
    files: { 'routes.conf': routes },
    config: (dir) => `router id 198.18.0.1;\nprotocol device {}\ninclude "${join(dir, 'routes.conf')}";\n`,
  });
  includePath = join(bird.dir, 'routes.conf');
  client = new BirdClient({
    socketPath: bird.socket,
    timeoutMs: 2000,
    onAsync: (text) => asyncLines.push(text),
  });
});

afterAll(async () => {
  client?.close();
  await bird?.stop();
});

describe('BirdClient against BIRD 2.0.12', () => {
  it('reads the version from the greeting', async () => {
    expect(await client.connect()).toBe('2.0.12');
    expect(client.version).toBe('2.0.12');
  });

  it('runs show status, show protocols and show route', async () => {
    expect(await client.showStatus()).toMatchObject({
      version: '2.0.12',
      routerId: '198.18.0.1',
      state: 'up',
    });
    expect((await client.showProtocols()).map((p) => [p.name, p.proto, p.state])).toEqual([
      ['device1', 'Device', 'up'],
      ['vol1', 'Static', 'up'],
    ]);
    const held = await client.showRoute({ protocol: 'vol1', all: true });
    expect(held.map((r) => [r.prefix, r.type, r.attributes['BGP.med']])).toEqual([
      ['198.18.10.1/32', 'unicast', undefined],
      ['198.18.10.2/32', 'blackhole', '10'],
    ]);
    expect(await client.showRouteCount({ protocol: 'vol1' })).toEqual([
      { table: 'master4', routes: 2, totalRoutes: 2, networks: 2 },
    ]);
  });

  it('answers pipelined callers in order, each with its own reply', async () => {
    const prefixes = Array.from({ length: 40 }, (_, i) => (i % 2 ? '198.18.10.1/32' : '198.18.10.2/32'));
    const results = await Promise.all(prefixes.map((prefix) => client.showRoute({ prefix })));
    expect(results.map((r) => r.map((route) => route.prefix))).toEqual(prefixes.map((p) => [p]));
  });

  it('reads 8001 as no routes in showRoute and as BirdReplyError in command', async () => {
    expect(await client.showRoute({ prefix: '198.19.255.1/32' })).toEqual([]);
    await expect(client.command('show route 198.19.255.1/32')).rejects.toMatchObject({
      constructor: BirdReplyError,
      code: 'BIRD_REPLY_ERROR',
      replyCode: 8001,
      replyText: 'Network not found',
    });
  });

  it('throws BirdCommandSyntaxError on 9xxx and stays usable', async () => {
    const err = await client.command('show route protocol nosuch').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BirdCommandSyntaxError);
    expect(err).toMatchObject({ replyCode: 9001, command: 'show route protocol nosuch' });
    expect((await client.showStatus()).state).toBe('up');
  });

  it('sends a command at the byte limit and rejects a longer one before sending', async () => {
    const atLimit = `show status${' '.repeat(MAX_COMMAND_BYTES - 'show status'.length)}`;
    expect((await client.command(atLimit)).code).toBe(13);
    await expect(client.command(`${atLimit} `)).rejects.toBeInstanceOf(BirdCommandTooLongError);
    expect((await client.showStatus()).state).toBe('up');
  });

  it('times out on a command BIRD never answers, then reconnects', async () => {
    // The same deadline covers the greeting and `show status` after the reconnect, so it must outlast a
    // loaded machine's stall; BIRD answers those in a millisecond.
    const quick = new BirdClient({ socketPath: bird.socket, timeoutMs: 1000 });
    // BIRD answers `help` with nothing (a client-only grammar entry).
    await expect(quick.command('help')).rejects.toMatchObject({
      constructor: BirdTimeoutError,
      code: 'BIRD_TIMEOUT',
      timeoutMs: 1000,
    });
    expect((await quick.showStatus()).state).toBe('up');
    quick.close();
  });

  it('waits out a configure that takes longer than answerTimeoutMs, and counts a stopped BIRD as hung after it', async () => {
    const pid = Number(await readFile(join(bird.dir, 'client.pid'), 'utf8'));
    const patient = new BirdClient({ socketPath: bird.socket, timeoutMs: 5000, answerTimeoutMs: 300 });
    try {
      await patient.connect();
      // A stopped BIRD answers nothing, as one busy parsing a very large configuration would not: the
      // configure is answered once it runs again, 800 ms later.
      process.kill(pid, 'SIGSTOP');
      const resume = setTimeout(() => process.kill(pid, 'SIGCONT'), 800);
      try {
        expect((await patient.configure()).outcome).toBe('reconfigured');
      } finally {
        clearTimeout(resume);
        process.kill(pid, 'SIGCONT');
      }
      process.kill(pid, 'SIGSTOP');
      const start = performance.now();
      try {
        await expect(patient.showStatus()).rejects.toMatchObject({ code: 'BIRD_TIMEOUT', timeoutMs: 300 });
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      expect(performance.now() - start).toBeLessThan(2000);
      expect((await patient.showStatus()).state).toBe('up');
    } finally {
      patient.close();
    }
  });

  it('reports configure check, configure and 8002 with file and line', async () => {
    expect((await client.configure({ mode: 'check' })).outcome).toBe('ok');
    expect((await client.configure()).outcome).toBe('reconfigured');
    await writeFile(includePath, routes.replace('blackhole', 'nonsense'));
    const err = await client.configure().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BirdConfigError);
    expect(err).toMatchObject({ code: 'BIRD_CONFIG_INVALID', replyCode: 8002, file: includePath, line: 4 });
    expect((err as BirdConfigError).cause).toBeInstanceOf(BirdReplyError);
    await writeFile(includePath, routes);
    expect((await client.showRouteCount({ protocol: 'vol1' }))[0]?.routes).toBe(2);
  });

  it('runs disable, enable and restart, and passes async lines to onAsync', async () => {
    await client.command('echo all');
    expect(await client.disable('vol1')).toEqual([{ protocol: 'vol1', result: 'disabled', replyCode: 9 }]);
    expect(await client.enable('vol1')).toEqual([{ protocol: 'vol1', result: 'enabled', replyCode: 11 }]);
    expect(await client.restart('vol1')).toEqual([{ protocol: 'vol1', result: 'restarted', replyCode: 12 }]);
    // BIRD queues an echoed line and writes it from its event loop; `echo off` drops what is still queued.
    await waitFor('BIRD to echo the disable', () =>
      asyncLines.includes('Disabling protocol vol1') ? true : undefined,
    );
    await client.command('echo off');
  });

  it('fails pending work with BirdConnectionError when BIRD stops, and reconnects when it is back', async () => {
    await bird.halt();
    await expect(client.showStatus()).rejects.toBeInstanceOf(BirdConnectionError);
    await bird.start();
    expect((await client.showStatus()).state).toBe('up');
  });
});
