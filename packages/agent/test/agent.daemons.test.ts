import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { connect as connectSocket } from 'node:net';
import { join } from 'node:path';
import { signRuleSet, subjects } from '@rhi/contracts';
import { parse } from '@rhi/rules-dsl';
import type { BgpPair, BirdInstance, HaproxyInstance, NatsInstance, UnixBackends } from '@rhi/test-support';
import {
  bgpSessionId,
  holdPort,
  retryOnPortClash,
  routerCaughtUp,
  startBgpPair,
  startHaproxy,
  startNats,
  startUnixBackends,
  waitFor,
} from '@rhi/test-support';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, onTestFinished } from 'vitest';
import { AgentApp } from '../src/app/agent-app.js';
import { parseConfig } from '../src/config/load.js';
import type { AgentConfig } from '../src/config/schema.js';
import { recordingLogger } from './support/fakes.js';
import { agentSettled } from './support/agent-settled.js';
import { FeedReads } from './support/feed-reads.js';

// The whole agent against real daemons: HAProxy (master-worker, real health checks on real HTTP
// backends), the agent's BIRD with the include file, a second BIRD as its iBGP peer, and nats-server.
// What the peer holds is what the routers would see. No test sleeps: each waits for a condition, and a
// test that shows something did not happen first waits until it would have happened (the agent has read
// HAProxy since, BIRD holds what the agent wants, the router has every update the node sent).

const VIP1 = '198.18.200.1/32';
const VIP2 = '198.18.200.2/32';
const OUTSIDE = '198.18.99.1/32';

describe('rhi-agent with real haproxy, bird2, a BGP peer and nats-server', () => {
  let backends: UnixBackends;
  let haproxy: HaproxyInstance;
  let bird: BirdInstance;
  let peer: BirdInstance;
  let pair: BgpPair;
  let nats: NatsInstance;
  let observer: NatsConnection;
  let app: AgentApp | null = null;
  let dir: string;
  let config: AgentConfig;
  let webSocket: string;
  const keys = generateKeyPairSync('ed25519');
  const { logger, records } = recordingLogger();
  const reads = new FeedReads();
  // The agent's statuses and heartbeats as the observer receives them, each with its reconnect count then.
  let observerReconnects = 0;
  const agentMessages: { readonly reconnects: number }[] = [];

  const running = () => {
    if (!app) throw new Error('no agent is running');
    return app;
  };
  const peerRoutes = () => pair.routerRoutes();
  const peerHas = (want: string[]) =>
    waitFor(`the peer to hold exactly ${want.join(', ') || 'nothing'}`, async () => {
      const got = await peerRoutes();
      return JSON.stringify(got) === JSON.stringify([...want].sort()) ? got : undefined;
    });
  /** A control request on the admin socket (TCP refuses them). */
  const admin = (path: string, body?: unknown) =>
    new Promise<{ status: number }>((resolve, reject) => {
      const req = request({ socketPath: config.admin.socket, method: 'POST', path }, (res) => {
        res.resume();
        res.once('end', () => resolve({ status: res.statusCode ?? 0 }));
      });
      req.once('error', reject);
      req.end(body === undefined ? '' : JSON.stringify(body));
    });
  const connections = async () => Number(/^CurrConns: (\d+)$/m.exec(await haproxy.command('show info'))?.[1]);
  /** One worker's pid and its servers' status and last check, from `show stat;show info` in one round trip. */
  const haproxyServers = async () => {
    const [stat = '', info = ''] = (await haproxy.command('show stat;show info')).split('\n\n');
    const [header = '', ...rows] = stat.trim().split('\n');
    const column = (name: string) => header.replace(/^# /, '').split(',').indexOf(name);
    const servers: Record<string, { status: string; check: string }> = {};
    for (const fields of rows.map((row) => row.split(','))) {
      if (fields[column('type')] !== '2') continue;
      servers[`${fields[column('pxname')]}/${fields[column('svname')]}`] = {
        status: fields[column('status')] ?? '',
        check: fields[column('check_status')] ?? '',
      };
    }
    return { pid: Number(/^Pid: (\d+)$/m.exec(info)?.[1]), servers };
  };
  const serversAre = (want: Record<string, string>) =>
    waitFor(`HAProxy to report ${JSON.stringify(want)}`, async () => {
      const { servers } = await haproxyServers();
      return Object.entries(want).every(([name, status]) => servers[name]?.status === status)
        ? true
        : undefined;
    });
  const settled = () => agentSettled(running);
  /**
   * Everything the agent does about HAProxy's state after `mark` has reached the router: the agent handled
   * a read since (one `accept` takes), BIRD holds what it plans, and the router has all the node sent.
   * Resolves with the router's counts.
   */
  const quiet = async (what: string, mark: number, accept?: Parameters<FeedReads['handled']>[2]) => {
    await reads.handled(what, mark, accept);
    await settled();
    return routerCaughtUp(pair);
  };
  const natsUp = async (up: boolean) =>
    waitFor(`the agent to see NATS ${up ? 'up' : 'down'}`, async () =>
      (await running().metrics.registry.metrics()).includes(
        `rhi_dependency_up{dependency="nats"} ${up ? 1 : 0}`,
      )
        ? true
        : undefined,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-agent-it-'));
    // Unix sockets for the frontend and the backends: no TCP port to collide with another test's, none
    // freed while a backend is stopped.
    backends = await startUnixBackends(2);
    const [p0, p1] = backends.paths;
    // startHaproxy and startNats bind ports that freePort() chose and released: retried on a clash.
    haproxy = await retryOnPortClash(() =>
      startHaproxy({
        sections: (haproxyDir) =>
          [
            'frontend fe_web',
            `    bind unix@${join(haproxyDir, 'web.sock')}`,
            // Longer than any test holds an idle connection open (the defaults close it after 5 s).
            '    timeout client 1m',
            '    default_backend be_app',
            'backend be_app',
            '    option httpchk GET /',
            '    default-server check inter 100 fall 1 rise 1',
            `    server s1 unix@${p0}`,
            `    server s2 unix@${p1}`,
            'backend be_other',
            '    option httpchk GET /',
            `    server o1 unix@${p0} check inter 100 fall 1 rise 1`,
          ].join('\n'),
      }),
    );
    webSocket = join(haproxy.dir, 'web.sock');
    pair = await startBgpPair({ exports: ['vol1', 'vol2'], routeLog: true });
    bird = pair.node;
    peer = pair.router;
    nats = await retryOnPortClash(startNats);
    observer = await connect({
      servers: nats.url,
      user: nats.user,
      pass: nats.password,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    void (async () => {
      for await (const s of observer.status()) if (s.type === 'reconnect') observerReconnects++;
    })();
    for (const subject of [subjects.status('lb-it'), subjects.heartbeat('lb-it')])
      observer.subscribe(subject, {
        callback: () => void agentMessages.push({ reconnects: observerReconnects }),
      });
    const rulesFile = join(dir, 'rules.cfg');
    await writeFile(
      rulesFile,
      `198.18.200.1 = all(b:be_app)\nvol2%198.18.200.2 = all(f:fe_web, b:be_other)\n198.18.99.1 = true\n`,
    );
    await writeFile(join(dir, 'ops.pub'), keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    config = parseConfig(
      `node: { name: lb-it, labels: { site: test } }
haproxy: { sockets: [${haproxy.adminSocket}], pollIntervalMs: 100, eventRing: events, reloadGraceMs: 2000 }
bird: { socket: ${bird.socket}, include: ${pair.includePath}, config: ${bird.configPath}, tables: { vol1: {}, vol2: {} }, reconcileIntervalMs: 1000 }
rules: { file: ${rulesFile}, fromController: true, trustedKeys: { ops: ${join(dir, 'ops.pub')} } }
allowlist: [198.18.200.0/24]
damping: { rise: { count: 1, ms: 300 }, fall: { count: 1, ms: 0 }, holdDown: false }
nats: { servers: [${nats.url}], user: ${nats.user}, password: ${nats.password}, heartbeatMs: 1000 }
admin: { listen: 127.0.0.1:0, socket: ${join(dir, 'admin.sock')} }
stateDir: ${dir}
`,
      'agent.yaml',
    );
    app = await AgentApp.start({ config, logger, version: 'test' });
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    reads.restore();
    await observer?.close();
    await Promise.allSettled([haproxy?.stop(), pair?.stop(), nats?.destroy(), backends?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('advertises the VIPs whose rules hold, never one outside the allowlist', async () => {
    await peerHas([VIP1, VIP2]);
    // The agent weighed the route outside the allowlist in the same plan (its rule holds) and refused it.
    expect(running().snapshot().routes).toContainEqual(
      expect.objectContaining({ prefix: OUTSIDE, decision: true, allowed: false, desired: false }),
    );
    expect(await peerRoutes()).not.toContain(OUTSIDE);
  });

  it('withdraws a VIP when its backend dies, and brings it back after the rise, one BGP update each', async () => {
    const session = await bgpSessionId(pair);
    const before = await routerCaughtUp(pair);
    const from = Date.now();
    onTestFailed(async () => {
      const log = (await pair.routerRouteLog()).filter((e) => e.at >= from - 1000);
      const events = records.filter((r) => typeof r['time'] === 'number' && r['time'] >= from - 1000);
      console.error('router route log', JSON.stringify(log, null, 1));
      console.error('agent log', events.map((r) => JSON.stringify(r)).join('\n'));
    });
    // A failure here must not leave the backend dead for the tests after this one.
    onTestFinished(async () => {
      await backends.start(0);
      await peerHas([VIP1, VIP2]);
    });
    await backends.stop(0);
    await peerHas([VIP1]);
    // The router may see the withdraw before the agent has BIRD's reply, and logs it.
    await waitFor('the agent to log the withdraw', () =>
      records.some((r) => r['event'] === 'routeWithdrawn' && r['prefix'] === VIP2) ? true : undefined,
    );
    expect(records).toContainEqual(
      expect.objectContaining({
        event: 'routeWithdrawn',
        prefix: VIP2,
        table: 'vol2',
        reason: 'b:be_other down',
      }),
    );
    await serversAre({ 'be_app/s1': 'DOWN', 'be_other/o1': 'DOWN' });
    expect(await quiet('with the backend dead', reads.mark())).toEqual({
      updates: before.updates,
      withdraws: before.withdraws + 1,
    });
    await backends.start(0);
    await peerHas([VIP1, VIP2]);
    await serversAre({ 'be_app/s1': 'UP', 'be_other/o1': 'UP' });
    expect(await quiet('with the backend back', reads.mark())).toEqual({
      updates: before.updates + 1,
      withdraws: before.withdraws + 1,
    });
    // The same BGP session throughout: BIRD took both changes without a reset.
    expect(await bgpSessionId(pair)).toBe(session);
  });

  it('keeps every route through a HAProxy master-worker reload', async () => {
    const session = await bgpSessionId(pair);
    const before = await routerCaughtUp(pair);
    const pid = await haproxy.reload();
    // The reload is over once the new worker has checked every server (its first state is a guess) and
    // the agent has handled a read of it since.
    await waitFor('the new worker to have checked every server', async () => {
      const now = await haproxyServers();
      return now.pid === pid && Object.values(now.servers).every((s) => s.check !== 'INI') ? true : undefined;
    });
    const after = await quiet(
      'from the new worker',
      reads.mark(),
      (r) => r.snapshot?.process.pid === pid && !r.snapshot.process.stopping,
    );
    // Not one withdraw or update reached the router, on the same session: no route was ever missing.
    expect(after).toEqual(before);
    expect(await bgpSessionId(pair)).toBe(session);
    expect(await peerRoutes()).toEqual([VIP1, VIP2]);
    expect(running().snapshot().haproxy).toEqual({
      reachable: true,
      pid,
      // Followed all along (on the old worker, then the new one): nothing to tell, no degradation.
      eventRing: { name: 'events', state: 'following', pid: expect.any(Number) },
    });
  });

  it('repairs BIRD after it restarts without its routes', async () => {
    // As after a reboot that emptied /run: BIRD comes back without the include's routes, and only the
    // agent can bring them back.
    await bird.halt();
    await writeFile(pair.includePath, '');
    await bird.start();
    await peerHas([VIP1, VIP2]);
  });

  it('keeps failing over with NATS down', async () => {
    const port = Number(new URL(nats.url).port);
    const reconnects = observerReconnects;
    await nats.stop();
    // Kept from other processes until NATS starts on it again.
    const hold = await holdPort(port);
    try {
      await natsUp(false);
      await haproxy.command('disable server be_app/s1');
      await haproxy.command('disable server be_app/s2');
      await peerHas([VIP2]);
      await haproxy.command('enable server be_app/s1');
      await peerHas([VIP1, VIP2]);
    } finally {
      await haproxy.command('enable server be_app/s2');
      await hold.release();
      await nats.start();
    }
    // NATS is back for both ends: a status or heartbeat the agent published reached the observer over the
    // new server (nats.js resubscribes before it publishes anything on a new connection).
    await waitFor('a status or heartbeat from the agent through the restarted NATS', () =>
      agentMessages.some((s) => s.reconnects > reconnects) ? true : undefined,
    );
  });

  it('takes a signed rule set from the controller and refuses a bad one, changing nothing', async () => {
    const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const send = async (body: unknown) =>
      (
        await observer.request(subjects.nodeCommand('lb-it'), JSON.stringify(body), { timeout: 10_000 })
      ).json<{ result: string; reason?: string }>();
    const good = signRuleSet(parse('198.18.200.1 = all(b:be_app)\n').ruleSet, {
      privateKeyPem,
      keyId: 'ops',
      serial: 5,
    });
    expect(await send({ schema: 'rhi.v1.command', id: 'c1', type: 'ruleset', ruleSet: good })).toMatchObject({
      result: 'applied',
    });
    await peerHas([VIP1]);
    const inForce = running().snapshot().ruleSet;
    expect(inForce).toMatchObject({ serial: 5, source: 'controller' });
    const typo = signRuleSet(parse('198.18.200.1 = all(b:be_typo)\n').ruleSet, {
      privateKeyPem,
      keyId: 'ops',
      serial: 6,
    });
    expect(await send({ schema: 'rhi.v1.command', id: 'c2', type: 'ruleset', ruleSet: typo })).toMatchObject({
      result: 'rejected',
    });
    const unsigned = { ...typo, signature: Buffer.from('forged').toString('base64') };
    expect(
      await send({ schema: 'rhi.v1.command', id: 'c3', type: 'ruleset', ruleSet: unsigned }),
    ).toMatchObject({ result: 'rejected' });
    const replay = signRuleSet(parse('198.18.200.1 = all(b:be_other)\n').ruleSet, {
      privateKeyPem,
      keyId: 'ops',
      serial: 4,
    });
    expect(
      await send({ schema: 'rhi.v1.command', id: 'c4', type: 'ruleset', ruleSet: replay }),
    ).toMatchObject({ result: 'rejected' });
    const mark = records.length;
    await writeFile(
      join(dir, 'rules.cfg'),
      '198.18.200.1 = all(b:be_app)\nvol2%198.18.200.2 = all(b:be_app)\n',
    );
    // The agent saw the edit and decided to ignore it; the controller's rule set stays in force.
    await waitFor('the agent to ignore the edited rules file', () =>
      records.slice(mark).some((r) => r['event'] === 'rulesFileIgnored' && r['reason'] === 'file changed')
        ? true
        : undefined,
    );
    expect(running().snapshot().ruleSet).toEqual(inForce);
    expect(
      running()
        .snapshot()
        .routes.map((r) => r.prefix),
    ).toEqual([VIP1]);
    expect(records.slice(mark)).not.toContainEqual(expect.objectContaining({ event: 'ruleSetApplied' }));
    expect(await peerRoutes()).toEqual([VIP1]);
  });

  it('switches to a rule set naming proxies it did not read before without withdrawing anything', async () => {
    const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const push = async (text: string, serial: number) =>
      (
        await observer.request(
          subjects.nodeCommand('lb-it'),
          JSON.stringify({
            schema: 'rhi.v1.command',
            id: `s${serial}`,
            type: 'ruleset',
            ruleSet: signRuleSet(parse(text).ruleSet, { privateKeyPem, keyId: 'ops', serial }),
          }),
          { timeout: 10_000 },
        )
      ).json<{ result: string }>();
    const before = await routerCaughtUp(pair);
    // The feed reads only be_app now; the new rules also need be_other and fe_web.
    expect(
      await push('198.18.200.1 = all(b:be_app, b:be_other)\nvol2%198.18.200.2 = all(f:fe_web)\n', 7),
    ).toMatchObject({ result: 'applied' });
    await peerHas([VIP1, VIP2]);
    expect(await push('198.18.200.1 = all(b:be_app)\n', 8)).toMatchObject({ result: 'applied' });
    await peerHas([VIP1]);
    await settled();
    // The router got VIP2's announcement and its withdrawal, and nothing about VIP1.
    expect(await routerCaughtUp(pair)).toEqual({
      updates: before.updates + 1,
      withdraws: before.withdraws + 1,
    });
  });

  it('waits for HAProxy connections to fall before withdrawing, though the rules name no frontend', async () => {
    const before = await routerCaughtUp(pair);
    const held = connectSocket(webSocket);
    await new Promise((resolve, reject) => held.once('connect', resolve).once('error', reject));
    const mark = records.length;
    try {
      await waitFor('HAProxy to count the connection', async () =>
        (await connections()) === 1 ? true : undefined,
      );
      // No read from before HAProxy counted it is still under way: the drain's first reading counts it.
      await reads.handled('with the connection counted', reads.mark());
      const drain = await admin('/drain', { reason: 'sessions', waitSessions: 0, timeoutMs: 20_000 });
      expect(drain.status).toBe(200);
      await reads.handled('since the drain began', reads.mark());
      // De-preferred, not withdrawn, while the connection stays.
      expect(running().snapshot().routes).toEqual([
        expect.objectContaining({ prefix: VIP1, desired: true, reason: 'node draining: de-preferred' }),
      ]);
      expect(records.slice(mark)).not.toContainEqual(expect.objectContaining({ event: 'drained' }));
      await waitFor('the peer to hold VIP1 de-preferred', async () =>
        /BGP\.local_pref: 0\n/.test(await peer.command(`show route ${VIP1} all`)) ? true : undefined,
      );
      expect(await peerRoutes()).toEqual([VIP1]);
    } finally {
      held.destroy();
    }
    await peerHas([]);
    // Withdrawn because the sessions fell (the 20 s timeout would say so instead).
    expect(records.slice(mark)).toContainEqual(
      expect.objectContaining({ event: 'drained', reason: 'sessions (sessions fell to 0)' }),
    );
    // One update (de-preferred), one withdraw.
    expect(await routerCaughtUp(pair)).toEqual({
      updates: before.updates + 1,
      withdraws: before.withdraws + 1,
    });
    expect((await admin('/undrain')).status).toBe(200);
    await peerHas([VIP1]);
  });

  it('finishes a drain at once when the connections are already gone, whatever the last event said', async () => {
    const held = connectSocket(webSocket);
    await new Promise((resolve, reject) => held.once('connect', resolve).once('error', reject));
    try {
      await waitFor('HAProxy to count the connection', async () =>
        (await connections()) === 1 ? true : undefined,
      );
      // Changes the agent hears about while the connection is open, the last one bringing VIP1 back:
      // the last event it got counts 1 connection.
      await haproxy.command('disable server be_app/s1');
      await haproxy.command('disable server be_app/s2');
      await peerHas([]);
      await haproxy.command('enable server be_app/s1');
      await haproxy.command('enable server be_app/s2');
      await peerHas([VIP1]);
    } finally {
      held.destroy();
    }
    await waitFor('HAProxy to drop the connection', async () =>
      (await connections()) === 0 ? true : undefined,
    );
    // Not tracked outside a drain: the agent reads that the connection is gone, and is not told.
    await reads.handled(
      'without the connection',
      reads.mark(),
      (r) => r.snapshot?.process.currentConnections === 0,
    );
    const mark = records.length;
    const drain = await admin('/drain', { reason: 'already quiet', waitSessions: 0, timeoutMs: 60_000 });
    expect(drain.status).toBe(200);
    // At once: done when the feed has handled its first read since the request.
    await reads.handled('since the drain began', reads.mark());
    expect(records.slice(mark)).toContainEqual(
      expect.objectContaining({ event: 'drained', reason: 'already quiet (sessions fell to 0)' }),
    );
    await peerHas([]);
    expect((await admin('/undrain')).status).toBe(200);
    await peerHas([VIP1]);
  });

  it('drains and undrains through the admin endpoint', async () => {
    expect((await admin('/drain', { reason: 'test' })).status).toBe(200);
    await peerHas([]);
    expect((await admin('/undrain')).status).toBe(200);
    await peerHas([VIP1]);
  });

  it('withdraws everything on a clean stop, and a new agent brings the routes back', async () => {
    await app?.stop();
    app = null;
    await peerHas([]);
    app = await AgentApp.start({ config, logger, version: 'test' });
    await peerHas([VIP1]);
  });

  it('fails closed once HAProxy is gone for longer than the reload grace', async () => {
    await peerHas([VIP1]);
    const mark = records.length;
    const stoppedAt = Date.now();
    await haproxy.stop();
    await peerHas([]);
    // A lower bound: a slow machine only makes it longer. The agent measures the grace from its first
    // failed read, which comes after stoppedAt, on the same clock.
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(1900);
    expect(records.slice(mark)).toContainEqual(expect.objectContaining({ event: 'haproxyUnreachable' }));
    expect((await fetch(`http://127.0.0.1:${running().adminAddress?.port}/healthz`)).status).toBe(503);
  });
});
