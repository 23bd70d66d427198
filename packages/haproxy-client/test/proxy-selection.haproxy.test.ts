import { readFile, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthSnapshot, ProxyNames, ReadHealthOptions, SnapshotEvent } from '../src/index.js';
import { HaproxyClient } from '../src/index.js';
import { CountingClient, FeedRecorder, isSnapshot, snapshotWhere } from './support/feed-recorder.js';
import type { Backends, HaproxyInstance } from '@rhi/test-support';
import { startBackends, startHaproxy, waitFor } from '@rhi/test-support';

const check = 'check inter 100 rise 2 fall 2';

/** Opens a connection to a frontend and leaves an HTTP request unfinished, so HAProxy keeps the session. */
function holdSession(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write('GET / HTTP/1.1\r\n');
      resolve(socket);
    });
  });
}

/** A unix socket that passes every connection on to `target` and counts them. */
async function countingRelay(target: string, path: string) {
  let count = 0;
  const server = createServer({ allowHalfOpen: true }, (inbound) => {
    count++;
    const outbound = connect({ path: target, allowHalfOpen: true });
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  return {
    path,
    connections: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// `app` is a frontend and a backend of the same name: HAProxy's `show stat app ...` selects only the
// frontend, so the client must notice and read every proxy to find the backend.
const proxies: ProxyNames = { frontends: ['fe', 'app'], backends: ['be', 'app', 'be_extra', 'nosuch'] };

describe('reads limited to the proxies the rules name, against a real HAProxy', () => {
  let backends: Backends;
  let haproxy: HaproxyInstance;
  let client: HaproxyClient;

  beforeAll(async () => {
    backends = await startBackends(2);
    const [p0, p1] = backends.ports;
    haproxy = await startHaproxy({
      masterWorker: true,
      sections: (dir) => `
frontend fe
    bind unix@${dir}/fe.sock
    default_backend be
frontend app
    bind unix@${dir}/app.sock
    default_backend app
backend app
    server s1 127.0.0.1:${p0} ${check}
backend be
    server s1 127.0.0.1:${p0} ${check}
    server s2 127.0.0.1:${p1} ${check}
backend be_other
    server s1 127.0.0.1:${p0} ${check}
backend be_extra
    server s1 127.0.0.1:${p0} ${check}
`,
    });
    client = new HaproxyClient({ socket: haproxy.adminSocket });
    // Compare reads only once the first checks have settled every server.
    await waitFor('every server UP', async () => {
      const all = Object.values((await client.readHealth()).backends);
      return all.every((b) => Object.values(b.servers ?? {}).every((s) => s.status === 'UP'))
        ? true
        : undefined;
    });
  });

  afterAll(async () => {
    await haproxy?.stop();
    await backends?.close();
  });

  it('reads exactly the requested proxies and reports unknown names as missing', async () => {
    const full = await client.readHealth();
    const limited = await client.readHealth({ proxies });
    expect(Object.keys(limited.frontends).sort()).toEqual(['app', 'fe']);
    expect(Object.keys(limited.backends).sort()).toEqual(['app', 'be', 'be_extra']);
    expect(limited.missing).toEqual({ frontends: [], backends: ['nosuch'] });
    for (const name of ['app', 'be', 'be_extra']) expect(limited.backends[name]).toEqual(full.backends[name]);
    expect(limited.frontends['fe']).toEqual(full.frontends['fe']);
    expect(limited.process.pid).toBe(full.process.pid);
  });

  it('needs one round trip per read once it knows the ids of a frontend and a backend sharing a name', async () => {
    // Counted on a relay in front of the stats socket: HAProxy's own `CumConns` may or may not include
    // the connection that reads it yet, depending on which thread accepted it.
    const relay = await countingRelay(haproxy.adminSocket, join(haproxy.dir, 'relay.sock'));
    try {
      const fresh = new HaproxyClient({ socket: relay.path });
      await fresh.readHealth({ proxies });
      expect(relay.connections()).toBe(2); // by name (ambiguous for `app`), then a full read
      const byId = await fresh.readHealth({ proxies });
      expect(relay.connections()).toBe(2 + 1);
      expect(byId.frontends['app']).toMatchObject({ up: true, reason: 'OPEN' });
      expect(byId.backends['app']).toEqual((await client.readHealth()).backends['app']);
    } finally {
      await relay.close();
    }
  });

  it('reads a selection of more than 50 names whole, with the same result', async () => {
    const many = {
      frontends: ['fe'],
      backends: ['be', ...Array.from({ length: 60 }, (_, i) => `gone_${i}`)],
    };
    const limited = await client.readHealth({ proxies: many });
    const full = await client.readHealth();
    expect(limited.frontends).toEqual({ fe: full.frontends['fe'] });
    expect(limited.backends).toEqual({ be: full.backends['be'] });
    expect(limited.missing).toEqual({ frontends: [], backends: many.backends.slice(1) });
  });

  it('reads a selection without server rows', async () => {
    const light = await client.readHealth({
      proxies: { frontends: [], backends: ['be'] },
      withServers: false,
    });
    expect(light).toMatchObject({ frontends: {}, backends: { be: { up: true, reason: 'UP' } } });
    expect(light.backends['be']?.servers).toBeUndefined();
  });

  it('counts the current sessions of a frontend', async () => {
    const held = await holdSession(join(haproxy.dir, 'fe.sock'));
    try {
      const busy = await waitFor('the session', async () => {
        const s = await client.readHealth({ proxies });
        return s.frontends['fe']?.sessions === 1 ? s : undefined;
      });
      expect(busy.frontends['app']?.sessions).toBe(0);
      expect(busy.process.currentConnections).toBe(1);
    } finally {
      held.destroy();
    }
    await waitFor('the session to end', async () =>
      (await client.readHealth()).frontends['fe']?.sessions === 0 ? true : undefined,
    );
  });

  it('yields for sessions only when asked to (trackSessions)', async () => {
    const tracking = new FeedRecorder(client, { intervalMs: 20, proxies, trackSessions: true });
    const plainClient = new CountingClient({ socket: haproxy.adminSocket });
    const plain = new FeedRecorder(plainClient, { intervalMs: 20, proxies });
    try {
      await tracking.until('first snapshot', isSnapshot);
      await plain.until('first snapshot', isSnapshot);
      const from = tracking.mark();
      const held = await holdSession(join(haproxy.dir, 'fe.sock'));
      const busy = await tracking.until(
        'a session',
        snapshotWhere((e) => e.snapshot.frontends['fe']?.sessions === 1),
        from,
      );
      expect(busy.changes.frontends.changed).toEqual(['fe']);
      // The plain feed reads the session too, and must not yield for it.
      await plainClient.moreReads(2);
      held.destroy();
      await tracking.until(
        'no session',
        snapshotWhere((e) => e.snapshot.frontends['fe']?.sessions === 0),
        from,
      );
      expect(plain.events).toHaveLength(1);
    } finally {
      await tracking.stop();
      await plain.stop();
    }
  });

  it('tracks connections only while the trackSessions function says so', async () => {
    let tracking = false;
    const noFrontends = { frontends: [], backends: ['be'] };
    const counting = new CountingClient({ socket: haproxy.adminSocket });
    const feed = new FeedRecorder(counting, {
      intervalMs: 20,
      proxies: noFrontends,
      trackSessions: () => tracking,
    });
    try {
      await feed.until('first snapshot', isSnapshot);
      let held = await holdSession(join(haproxy.dir, 'fe.sock'));
      await waitFor('the connection', async () =>
        (await client.readHealth({ proxies: noFrontends })).process.currentConnections === 1
          ? true
          : undefined,
      );
      // The feed reads the connection too, and must not yield for it while tracking is off.
      await counting.moreReads(2);
      held.destroy();
      await waitFor('no connection', async () =>
        (await client.readHealth({ proxies: noFrontends })).process.currentConnections === 0
          ? true
          : undefined,
      );
      expect(feed.events).toHaveLength(1);
      tracking = true;
      // The first read with tracking on is yielded whatever changed: it tells the current count (none).
      const first = await feed.until('the first read while tracking', isSnapshot, feed.mark());
      expect(first.snapshot.process.currentConnections).toBe(0);
      const from = feed.mark();
      held = await holdSession(join(haproxy.dir, 'fe.sock'));
      const busy = await feed.until(
        'a connection',
        snapshotWhere((e) => e.snapshot.process.currentConnections === 1),
        from,
      );
      expect(busy.changes).toMatchObject({ connectionsChanged: true, processChanged: false });
      held.destroy();
    } finally {
      await feed.stop();
    }
  });

  it('takes the first tracked read from a read sent once tracking is on, not one already under way', async () => {
    // Tracking turns on while a read is under way (a drain starting): that read's counts predate it.
    let tracking = false;
    let underWay: Promise<HealthSnapshot> | undefined;
    class FlippingClient extends CountingClient {
      flipDuringRead = false;
      override readHealth(options?: ReadHealthOptions): Promise<HealthSnapshot> {
        const read = super.readHealth(options);
        if (this.flipDuringRead) {
          this.flipDuringRead = false;
          tracking = true;
          underWay = read;
        }
        return read;
      }
    }
    const flipping = new FlippingClient({ socket: haproxy.adminSocket });
    const feed = new FeedRecorder(flipping, { intervalMs: 20, proxies, trackSessions: () => tracking });
    try {
      await feed.until('first snapshot', isSnapshot);
      const from = feed.mark();
      flipping.flipDuringRead = true;
      const first = await feed.until(
        'a snapshot while tracking',
        snapshotWhere(() => true),
        from,
      );
      expect(first.snapshot).not.toBe(await underWay);
    } finally {
      await feed.stop();
    }
  });

  it('sees a killed backend server go DOWN and the backend go DOWN through a limited feed', async () => {
    const feed = new FeedRecorder(client, { intervalMs: 20, proxies });
    try {
      const first = await feed.until(
        'be up',
        snapshotWhere((e) => e.snapshot.backends['be']?.serversUp === 2),
      );
      expect(first.snapshot.missing?.backends).toEqual(['nosuch']);
      let from = feed.mark();
      await backends.stop(1);
      await feed.until(
        's2 down',
        snapshotWhere((e) => e.snapshot.backends['be']?.servers?.['s2']?.status === 'DOWN'),
        from,
      );
      from = feed.mark();
      await backends.stop(0);
      const down = await feed.until(
        'be down',
        snapshotWhere((e) => e.snapshot.backends['be']?.up === false),
        from,
      );
      expect(down.snapshot.backends['app']).toMatchObject({ up: false, serversUp: 0 });
      expect(down.changes.backends.changed).toEqual(expect.arrayContaining(['be']));
      from = feed.mark();
      await backends.start(0);
      await backends.start(1);
      await feed.until(
        'be up again',
        snapshotWhere((e) => e.snapshot.backends['be']?.serversUp === 2),
        from,
      );
    } finally {
      await feed.stop();
    }
  });

  it('polls through master-worker reloads with zero false downs', async () => {
    const feed = new FeedRecorder(client, { intervalMs: 10, proxies, eventsRing: 'events' });
    try {
      await feed.until(
        'all up',
        snapshotWhere((e) => e.snapshot.backends['be']?.serversUp === 2),
      );
      const pids = [await haproxy.workerPid()];
      for (let i = 0; i < 3; i++) pids.push(await haproxy.reload());
      await feed.until(
        'the last worker',
        snapshotWhere((e) => e.snapshot.process.pid === pids[3]),
      );
      expect(feed.events.filter((e) => e.type === 'unreachable')).toEqual([]);
      for (const e of feed.events.filter(isSnapshot)) {
        expect(e.snapshot.frontends['fe']).toMatchObject({ up: true, reason: 'OPEN' });
        expect(e.snapshot.backends['be']).toMatchObject({ up: true, serversUp: 2 });
        expect(e.snapshot.missing).toEqual({ frontends: [], backends: ['nosuch'] });
      }
    } finally {
      await feed.stop();
    }
  });

  it('re-reads the selection at once on a ring event', async () => {
    // Polling is slowed to a minute: the change below can only come through the events ring.
    const feed = new FeedRecorder(client, { intervalMs: 60_000, proxies, eventsRing: 'events' });
    try {
      await feed.until('first snapshot', isSnapshot);
      const inMaint = (e: SnapshotEvent): boolean =>
        e.snapshot.backends['be']?.servers?.['s1']?.status === 'MAINT';
      // The follower attaches shortly after the first read: toggle s1 until a toggle comes through.
      await waitFor(
        'a change seen through the ring',
        async () => {
          const from = feed.mark();
          const maint = (await client.readHealth()).backends['be']?.servers?.['s1']?.status === 'MAINT';
          if (maint) await client.enableServer('be', 's1');
          else await client.disableServer('be', 's1');
          await feed.until(
            'the toggle',
            snapshotWhere((e) => inMaint(e) !== maint),
            from,
            2000,
          );
          return true;
        },
        20_000,
      );
      const from = feed.mark();
      const maint = (await client.readHealth()).backends['be']?.servers?.['s1']?.status === 'MAINT';
      if (maint) await client.enableServer('be', 's1');
      else await client.disableServer('be', 's1');
      await feed.until(
        'the next toggle',
        snapshotWhere((e) => inMaint(e) !== maint),
        from,
        2000,
      );
      await client.enableServer('be', 's1');
    } finally {
      await feed.stop();
    }
  });

  it('reports a requested proxy that a reload removes, as vanished and then missing', async () => {
    const feed = new FeedRecorder(client, { intervalMs: 20, proxies });
    try {
      await feed.until('first snapshot', isSnapshot);
      const config = await readFile(haproxy.configPath, 'utf8');
      await writeFile(haproxy.configPath, config.replace('backend be_extra', 'backend be_renamed'));
      const from = feed.mark();
      await haproxy.reload({ viaMasterCli: true });
      const gone = await feed.until(
        'be_extra gone',
        snapshotWhere((e) => e.changes.backends.vanished.length > 0),
        from,
      );
      expect(gone.changes.backends).toMatchObject({ vanished: ['be_extra'], appeared: [] });
      expect(gone.snapshot.missing).toEqual({ frontends: [], backends: ['be_extra', 'nosuch'] });
      expect(gone.snapshot.backends['be_renamed']).toBeUndefined();
    } finally {
      await feed.stop();
    }
  });
});
