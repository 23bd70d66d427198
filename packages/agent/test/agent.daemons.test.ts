import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { signRuleSet, subjects } from '@rhi/contracts';
import { parse } from '@rhi/rules-dsl';
import type { Backends, BgpPair, BirdInstance, HaproxyInstance, NatsInstance } from '@rhi/test-support';
import { freePort, startBackends, startBgpPair, startHaproxy, startNats, waitFor } from '@rhi/test-support';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentApp } from '../src/app/agent-app.js';
import { parseConfig } from '../src/config/load.js';
import type { AgentConfig } from '../src/config/schema.js';
import { recordingLogger } from './support/fakes.js';

// The whole agent against real daemons: HAProxy (master-worker, real health checks on real HTTP
// backends), the agent's BIRD with the include file, a second BIRD as its iBGP peer, and nats-server.
// What the peer holds is what the routers would see.

const VIP1 = '198.18.200.1/32';
const VIP2 = '198.18.200.2/32';
const OUTSIDE = '198.18.99.1/32';

describe('rhi-agent with real haproxy, bird2, a BGP peer and nats-server', () => {
  let backends: Backends;
  let haproxy: HaproxyInstance;
  let bird: BirdInstance;
  let peer: BirdInstance;
  let pair: BgpPair;
  let nats: NatsInstance;
  let observer: NatsConnection;
  let app: AgentApp | null = null;
  let dir: string;
  let config: AgentConfig;
  let webPort: number;
  const keys = generateKeyPairSync('ed25519');
  const { logger, records } = recordingLogger();

  const peerRoutes = () => pair.routerRoutes();
  const peerHas = (want: string[]) =>
    waitFor(`the peer to hold exactly ${want.join(', ') || 'nothing'}`, async () => {
      const got = await peerRoutes();
      return JSON.stringify(got) === JSON.stringify([...want].sort()) ? got : undefined;
    });
  // What the peer holds, read every `ms` until stopped.
  const recordPeer = (ms: number) => {
    const seen: string[][] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        seen.push(await peerRoutes());
        await new Promise((r) => setTimeout(r, ms));
      }
    })();
    return {
      stop: async () => {
        polling = false;
        await poll;
        return seen;
      },
    };
  };
  // When the BGP session last came up, in ms of the day (BIRD prints it with a jitter of about 1 ms).
  const bgpSince = async () => {
    const m = /up\s+(\d+):(\d+):(\d+\.\d+)\s+Established/.exec(await peer.command('show protocols node1'));
    if (!m) throw new Error('the BGP session is not established');
    return (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-agent-it-'));
    backends = await startBackends(2);
    const [p0, p1] = backends.ports;
    webPort = await freePort();
    haproxy = await startHaproxy({
      sections: [
        'frontend fe_web',
        `    bind 127.0.0.1:${webPort}`,
        '    default_backend be_app',
        'backend be_app',
        '    option httpchk GET /',
        '    default-server check inter 100 fall 1 rise 1',
        `    server s1 127.0.0.1:${p0}`,
        `    server s2 127.0.0.1:${p1}`,
        'backend be_other',
        '    option httpchk GET /',
        `    server o1 127.0.0.1:${p0} check inter 100 fall 1 rise 1`,
      ].join('\n'),
    });
    pair = await startBgpPair({ exports: ['vol1', 'vol2'] });
    bird = pair.node;
    peer = pair.router;
    nats = await startNats();
    observer = await connect({
      servers: nats.url,
      user: nats.user,
      pass: nats.password,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
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
admin: { listen: 127.0.0.1:0 }
stateDir: ${dir}
`,
      'agent.yaml',
    );
    app = await AgentApp.start({ config, logger, version: 'test' });
  });

  afterAll(async () => {
    await app?.stop();
    await observer?.close();
    await Promise.allSettled([haproxy?.stop(), pair?.stop(), nats?.destroy(), backends?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('advertises the VIPs whose rules hold, never one outside the allowlist', async () => {
    await peerHas([VIP1, VIP2]);
    expect(await peerRoutes()).not.toContain(OUTSIDE);
  });

  it('withdraws a VIP when its backend dies, and brings it back after the rise, one BGP update each', async () => {
    const since = await bgpSince();
    const before = await pair.routerReceived();
    await backends.stop(0);
    await peerHas([VIP1]);
    expect(records).toContainEqual(
      expect.objectContaining({
        event: 'routeWithdrawn',
        prefix: VIP2,
        table: 'vol2',
        reason: 'b:be_other down',
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await pair.routerReceived()).toEqual({ updates: before.updates, withdraws: before.withdraws + 1 });
    await backends.start(0);
    await peerHas([VIP1, VIP2]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await pair.routerReceived()).toEqual({
      updates: before.updates + 1,
      withdraws: before.withdraws + 1,
    });
    expect(Math.abs((await bgpSince()) - since)).toBeLessThanOrEqual(5);
  });

  it('keeps every route through a HAProxy master-worker reload', async () => {
    const recording = recordPeer(20);
    await haproxy.reload();
    await new Promise((r) => setTimeout(r, 1500));
    const seen = await recording.stop();
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.filter((s) => s.length !== 2)).toEqual([]);
  });

  it('repairs BIRD after it restarts', async () => {
    await bird.restart();
    await peerHas([VIP1, VIP2]);
  });

  it('keeps failing over with NATS down', async () => {
    await nats.stop();
    await haproxy.command('disable server be_app/s1');
    await haproxy.command('disable server be_app/s2');
    await peerHas([VIP2]);
    await haproxy.command('enable server be_app/s1');
    await peerHas([VIP1, VIP2]);
    await nats.start();
  });

  it('takes a signed rule set from the controller and refuses a bad one, changing nothing', async () => {
    await waitFor('the agent to reconnect to NATS', async () => ((await app?.snapshot()) ? true : undefined));
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
    const ack = await waitFor(
      'an ack',
      () =>
        send({ schema: 'rhi.v1.command', id: 'c1', type: 'ruleset', ruleSet: good }).catch(() => undefined),
      20_000,
    );
    expect(ack).toMatchObject({ result: 'applied' });
    await peerHas([VIP1]);
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
    await writeFile(
      join(dir, 'rules.cfg'),
      '198.18.200.1 = all(b:be_app)\nvol2%198.18.200.2 = all(b:be_app)\n',
    );
    await new Promise((r) => setTimeout(r, 800));
    expect(await peerRoutes()).toEqual([VIP1]);
    expect(records).toContainEqual(expect.objectContaining({ event: 'rulesFileIgnored' }));
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
    // The feed reads only be_app now; the new rules also need be_other and fe_web.
    const recording = recordPeer(10);
    let seen: string[][] = [];
    try {
      expect(
        await push('198.18.200.1 = all(b:be_app, b:be_other)\nvol2%198.18.200.2 = all(f:fe_web)\n', 7),
      ).toMatchObject({ result: 'applied' });
      await peerHas([VIP1, VIP2]);
      expect(await push('198.18.200.1 = all(b:be_app)\n', 8)).toMatchObject({ result: 'applied' });
      await peerHas([VIP1]);
    } finally {
      seen = await recording.stop();
    }
    expect(seen.filter((routes) => !routes.includes(VIP1))).toEqual([]);
  });

  it('waits for HAProxy connections to fall before withdrawing, though the rules name no frontend', async () => {
    const base = `http://127.0.0.1:${app?.adminAddress?.port}`;
    const held = connectTcp(webPort, '127.0.0.1');
    await new Promise((resolve, reject) => held.once('connect', resolve).once('error', reject));
    try {
      const drain = await fetch(`${base}/drain`, {
        method: 'POST',
        body: JSON.stringify({ reason: 'sessions', waitSessions: 0, timeoutMs: 20_000 }),
      });
      expect(drain.status).toBe(200);
      await new Promise((r) => setTimeout(r, 600));
      // De-preferred, not withdrawn, while the connection stays.
      expect(await peerRoutes()).toEqual([VIP1]);
    } finally {
      held.destroy();
    }
    const closedAt = Date.now();
    await peerHas([]);
    expect(Date.now() - closedAt).toBeLessThan(10_000);
    expect(records).toContainEqual(
      expect.objectContaining({ event: 'drained', reason: expect.stringContaining('sessions fell to 0') }),
    );
    expect((await fetch(`${base}/undrain`, { method: 'POST' })).status).toBe(200);
    await peerHas([VIP1]);
  });

  it('finishes a drain at once when the connections are already gone, whatever the last event said', async () => {
    const base = `http://127.0.0.1:${app?.adminAddress?.port}`;
    const connections = async () =>
      Number(/^CurrConns: (\d+)$/m.exec(await haproxy.command('show info'))?.[1]);
    const held = connectTcp(webPort, '127.0.0.1');
    await new Promise((resolve, reject) => held.once('connect', resolve).once('error', reject));
    await waitFor('HAProxy to count the connection', async () =>
      (await connections()) === 1 ? true : undefined,
    );
    // A change the agent hears about while the connection is open: its last event counts 1 connection.
    await haproxy.command('disable server be_app/s1');
    await new Promise((r) => setTimeout(r, 500));
    held.destroy();
    await waitFor('HAProxy to drop the connection', async () =>
      (await connections()) === 0 ? true : undefined,
    );
    // Not tracked outside a drain, so the agent has not been told.
    await new Promise((r) => setTimeout(r, 300));
    const drainedAt = Date.now();
    const drain = await fetch(`${base}/drain`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'already quiet', waitSessions: 0, timeoutMs: 60_000 }),
    });
    expect(drain.status).toBe(200);
    await waitFor('the drain to finish', async () =>
      records.some((r) => r['event'] === 'drained' && r['reason'] === 'already quiet (sessions fell to 0)')
        ? true
        : undefined,
    );
    expect(Date.now() - drainedAt).toBeLessThan(5_000);
    await peerHas([]);
    expect((await fetch(`${base}/undrain`, { method: 'POST' })).status).toBe(200);
    await haproxy.command('enable server be_app/s1');
    await peerHas([VIP1]);
  });

  it('drains and undrains through the admin endpoint', async () => {
    const base = `http://127.0.0.1:${app?.adminAddress?.port}`;
    expect((await fetch(`${base}/drain`, { method: 'POST', body: '{"reason":"test"}' })).status).toBe(200);
    await peerHas([]);
    expect((await fetch(`${base}/undrain`, { method: 'POST' })).status).toBe(200);
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
    const stoppedAt = Date.now();
    await haproxy.stop();
    await peerHas([]);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(1900);
    expect(records).toContainEqual(expect.objectContaining({ event: 'haproxyUnreachable' }));
    expect((await fetch(`http://127.0.0.1:${app?.adminAddress?.port}/healthz`)).status).toBe(503);
  });
});
