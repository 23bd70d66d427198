import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HaproxyError, RingEvent } from '../src/index.js';
import { HaproxyClient } from '../src/index.js';
import type { Backends, HaproxyInstance } from '@rhi/test-support';
import { startBackends, startHaproxy, waitFor } from '@rhi/test-support';
import { recordingLogger } from './support/log-sink.js';

let backends: Backends;
let haproxy: HaproxyInstance;
let client: HaproxyClient;

beforeAll(async () => {
  backends = await startBackends(3);
  const [p0, p1, p2] = backends.ports;
  const check = 'check inter 100 rise 2 fall 2';
  haproxy = await startHaproxy({
    masterWorker: false,
    sections: (dir) => `
frontend fe
    bind unix@${dir}/fe.sock
    default_backend be
backend be
    option httpchk GET /
    server s1 127.0.0.1:${p0} ${check}
    server s2 127.0.0.1:${p1} ${check}
    server s3 127.0.0.1:${p2} ${check}
backend be_single
    server only 127.0.0.1:${p2} ${check}
`,
  });
  client = new HaproxyClient({ socket: haproxy.adminSocket, timeoutMs: 2000 });
});

afterAll(async () => {
  await haproxy?.stop();
  await backends?.close();
});

async function serverStatus(be: string, srv: string): Promise<string | undefined> {
  const table = await client.showStat(['server']);
  return table.rows.find((r) => r.proxy === be && r.name === srv)?.status;
}

const untilStatus = (be: string, srv: string, status: string) =>
  waitFor(`${be}/${srv} ${status}`, async () =>
    (await serverStatus(be, srv)) === status ? true : undefined,
  );

async function rejection(promise: Promise<unknown>): Promise<HaproxyError> {
  try {
    await promise;
  } catch (err) {
    return err as HaproxyError;
  }
  throw new Error('expected a rejection');
}

describe('HaproxyClient against a real HAProxy 2.6', () => {
  it.each([
    ['unix', () => haproxy.adminSocket],
    ['ipv4@', () => haproxy.tcpSocket],
    ['ipv6@', () => haproxy.tcp6Socket],
  ])('reads show info over %s', async (_kind, socket) => {
    const info = await new HaproxyClient({ socket: socket() }).showInfo();
    expect(info.pid).toBe(await haproxy.workerPid());
    expect(info.stopping).toBe(false);
  });

  it('filters show stat by type on the real daemon', async () => {
    const feBe = await client.showStat(['frontend', 'backend']);
    expect(feBe.rows.map((r) => `${r.type}:${r.proxy}`)).toEqual([
      'frontend:fe',
      'backend:be',
      'backend:be_single',
    ]);
    const servers = await client.showStat(['server']);
    expect(new Set(servers.rows.map((r) => r.type))).toEqual(new Set(['server']));
    expect(servers.rows).toHaveLength(4);
  });

  it('reads show servers state', async () => {
    const rows = await client.showServersState('be');
    expect(rows.map((r) => r.server)).toEqual(['s1', 's2', 's3']);
  });

  it('reads a health snapshot in one round trip', async () => {
    const snapshot = await waitFor('all servers up', async () => {
      const s = await client.readHealth();
      return s.backends['be']?.serversUp === 3 ? s : undefined;
    });
    expect(snapshot.frontends['fe']).toEqual({ up: true, reason: 'OPEN', sessions: 0 });
    expect(snapshot.backends['be']).toMatchObject({ up: true, serversTotal: 3 });
    expect(snapshot.process.pid).toBe(await haproxy.workerPid());
  });

  it('sees a server go DOWN when its backend dies, and UP when it returns', async () => {
    await untilStatus('be_single', 'only', 'UP');
    await backends.stop(2);
    await untilStatus('be_single', 'only', 'DOWN');
    expect((await client.readHealth()).backends['be_single']).toMatchObject({ up: false, serversUp: 0 });
    await backends.start(2);
    await untilStatus('be_single', 'only', 'UP');
    expect((await client.readHealth()).backends['be_single']?.up).toBe(true);
  });

  it('disables and enables servers, drains, forces health and weight', async () => {
    await client.disableServer('be', 's1');
    expect(await serverStatus('be', 's1')).toBe('MAINT');
    await client.enableServer('be', 's1');
    expect(await serverStatus('be', 's1')).not.toMatch(/MAINT/);
    await client.setServerState('be', 's2', 'drain');
    expect(await serverStatus('be', 's2')).toBe('DRAIN');
    await client.setServerState('be', 's2', 'ready');
    await client.setServerHealth('be_single', 'only', 'down');
    expect((await client.readHealth()).backends['be_single']?.up).toBe(false);
    await untilStatus('be_single', 'only', 'UP');
    await client.setServerWeight('be_single', 'only', 0);
    expect((await client.readHealth()).backends['be_single']).toMatchObject({ up: false, serversUp: 1 });
    await client.setServerWeight('be_single', 'only', 1);
    expect((await client.readHealth()).backends['be_single']?.up).toBe(true);
  });

  it('disables and enables a frontend (PAUSED on 2.6)', async () => {
    await client.disableFrontend('fe');
    expect((await client.readHealth()).frontends['fe']).toEqual({ up: false, reason: 'PAUSED', sessions: 0 });
    await client.enableFrontend('fe');
    expect((await client.readHealth()).frontends['fe']).toEqual({ up: true, reason: 'OPEN', sessions: 0 });
  });

  it('turns error replies into typed errors', async () => {
    expect((await rejection(client.disableServer('be', 'nosuch'))).code).toBe('HAPROXY_UNKNOWN_SERVER');
    expect((await rejection(client.disableServer('nosuch', 's1'))).code).toBe('HAPROXY_UNKNOWN_PROXY');
    expect((await rejection(client.disableFrontend('nosuch'))).code).toBe('HAPROXY_UNKNOWN_PROXY');
    expect((await rejection(client.showServersState('nosuch'))).code).toBe('HAPROXY_UNKNOWN_PROXY');
    expect((await rejection(client.runMany(['frobnicate']))).code).toBe('HAPROXY_UNKNOWN_COMMAND');
    expect((await rejection(client.enableFrontend('fe'))).code).toBe('HAPROXY_COMMAND_REJECTED');
  });

  it('reports a level too low as permission denied', async () => {
    const operator = new HaproxyClient({ socket: haproxy.operatorSocket });
    const denied = await rejection(operator.disableServer('be', 's1'));
    expect(denied).toMatchObject({ code: 'HAPROXY_PERMISSION_DENIED', command: 'disable server be/s1' });
    const user = new HaproxyClient({ socket: haproxy.userSocket });
    expect((await user.showStat()).rows.length).toBeGreaterThan(0);
    const follower = user.followEvents('events', () => undefined);
    expect((await rejection(follower.closed)).code).toBe('HAPROXY_PERMISSION_DENIED');
  });

  it('follows the events ring', async () => {
    const events: RingEvent[] = [];
    const follower = client.followEvents('events', (e) => events.push(e));
    await waitFor('the follower to attach', async () => {
      await client.disableServer('be', 's3');
      await client.enableServer('be', 's3');
      return events.some((e) => e.server === 's3') ? true : undefined;
    });
    follower.close();
    await follower.closed;
    expect(events.find((e) => e.server === 's3')).toMatchObject({
      proxy: 'be',
      pid: await haproxy.workerPid(),
    });
  });

  it('rejects an unknown ring, and a sink that is not a ring, with the ring named', async () => {
    const follower = client.followEvents('nosuch', () => undefined);
    expect(await rejection(follower.closed)).toMatchObject({
      code: 'HAPROXY_UNKNOWN_RING',
      ring: 'nosuch',
      notARing: false,
    });
    expect(await follower.attached).toBe(false);
    const stdout = client.followEvents('stdout', () => undefined);
    expect(await rejection(stdout.closed)).toMatchObject({ code: 'HAPROXY_UNKNOWN_RING', notARing: true });
  });

  it('confirms a ring it follows, and lists the sinks', async () => {
    const follower = client.followEvents('events', () => undefined);
    expect(await follower.attached).toBe(true);
    follower.close();
    await follower.closed;
    expect((await client.showEventSinks()).filter((s) => s.type === 'buffer').map((s) => s.name)).toEqual([
      'buf0',
      'events',
    ]);
    // Listing needs no more than level user; following needs operator.
    const user = new HaproxyClient({ socket: haproxy.userSocket });
    expect((await user.showEventSinks()).map((s) => s.name)).toContain('events');
  });
});

describe('HaproxyClient connection failures', () => {
  let dir: string;
  const servers: Server[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-haproxy-client-'));
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function fakeSocket(name: string, onLine: (socket: Socket) => void): Promise<string> {
    const path = join(dir, name);
    const server = createServer({ allowHalfOpen: true }, (socket) =>
      socket.once('data', () => onLine(socket)),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return path;
  }

  it('reports a missing socket after its retries, logging each retry', async () => {
    const { logger, records } = recordingLogger();
    const socket = join(dir, 'none.sock');
    const missing = new HaproxyClient({ socket, retries: 2, retryDelayMs: 10, logger });
    expect(await rejection(missing.showInfo())).toMatchObject({ code: 'HAPROXY_SOCKET_MISSING', socket });
    expect(
      records.map((r) => [r['event'], r['op'], r['attempt'], (r['err'] as { code?: string }).code]),
    ).toEqual([
      ['haproxyRetry', 'exchange', 0, 'HAPROXY_SOCKET_MISSING'],
      ['haproxyRetry', 'exchange', 1, 'HAPROXY_SOCKET_MISSING'],
    ]);
  });

  it('reports a refused TCP port as a connection failure', async () => {
    const port = haproxy.tcpPort;
    const refused = new HaproxyClient({ socket: `ipv4@127.0.0.1:${port === 1 ? 2 : 1}`, retries: 0 });
    expect((await rejection(refused.showInfo())).code).toBe('HAPROXY_CONNECTION_FAILED');
  });

  it('times out on a socket that never answers', async () => {
    const path = await fakeSocket('silent.sock', () => undefined);
    const silent = new HaproxyClient({ socket: path, timeoutMs: 100 });
    expect(await rejection(silent.showInfo())).toMatchObject({ code: 'HAPROXY_TIMEOUT', timeoutMs: 100 });
  });

  it('reports a garbled reply as malformed, with the text', async () => {
    const path = await fakeSocket('garbled.sock', (s) => s.end('this is not csv\n\n'));
    const garbled = new HaproxyClient({ socket: path });
    const error = await rejection(garbled.showStat());
    expect(error).toMatchObject({ code: 'HAPROXY_MALFORMED_REPLY', text: 'this is not csv' });
  });

  it('reports a reply count that does not match the commands as malformed', async () => {
    const path = await fakeSocket('short.sock', (s) => s.end('Pid: 1\n\n'));
    const short = new HaproxyClient({ socket: path });
    expect((await rejection(short.readHealth())).code).toBe('HAPROXY_MALFORMED_REPLY');
  });
});
