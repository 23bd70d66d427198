import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subjects } from '@rhi/contracts';
import { connect, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { freePort, startNatsCluster, waitFor, type NatsCluster } from '@rhi/test-support';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControllerConfigSchema } from '../src/config/schema.js';
import { writeKeyPair } from '../src/config/signing-key.js';
import { tokenHash } from '../src/http/auth.js';
import { natsAddNode, natsFiles, natsInit } from '../src/nats-admin/nats-admin.js';
import { tlsFiles } from '../src/nats-admin/tls.js';
import { ControllerRuntime } from '../src/runtime.js';
import { route, status } from './support/statuses.js';

// A controller on a cluster of three real nats-servers, configured exactly as `rhi-controller nats init
// --cluster --tls-hosts` writes it (nkey users, client TLS, mutual route TLS, R3 streams and buckets):
// one server down, writes go on and nothing is lost; two down (the quorum lost), the view is served
// read-only, stale, saying so, and writes are refused with 503; the quorum back, everything goes on with
// no one doing anything.

const TOKEN = 'cluster-test-token-of-some-length';

describe('the controller on a 3-node NATS cluster', () => {
  let cluster: NatsCluster;
  let dir: string;
  let urls: string[] = [];
  /** Every healthz answer saying the quorum is lost, with when. */
  const quorumLostSeen: number[] = [];
  let watching: NodeJS.Timeout | null = null;
  let replica: ControllerRuntime;
  let agent: NatsConnection;
  let seq = 1;
  let version = 0;

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${replica.address?.port}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const healthz = async () => {
    const res = await fetch(`http://127.0.0.1:${replica.address?.port}/healthz`);
    return { status: res.status, body: (await res.json()) as { ok: boolean; reason?: string } };
  };
  /** A simulated agent's status, on the server that stays up. */
  let latest = '';
  /**
   * A simulated agent on the server that stays up, as the agent does: its status on change, a heartbeat
   * every second naming that status's seq, the status again when a controller asks (a status published
   * while a stream had no leader is not stored: the heartbeats make the controller ask for it).
   */
  const report = (prefix: string) => {
    latest = JSON.stringify(
      status('lb-1', { time: new Date().toISOString(), seq: seq++, routes: [route(prefix)] }),
    );
    agent.publish(subjects.status('lb-1'), latest);
  };
  let beat: NodeJS.Timeout | null = null;
  const showing = (prefix: string, timeoutMs = 30_000) =>
    waitFor(
      `the view to show ${prefix}`,
      () => (replica.view.node('lb-1')?.status.routes.some((r) => r.prefix === prefix) ? true : undefined),
      timeoutMs,
    );
  const upload = () => {
    version++;
    return call('POST', '/api/v1/rulesets', {
      source: `198.18.230.${version} = all(b:be_app)\n`,
      message: `version ${version}`,
    });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-cluster-'));
    const members = await Promise.all(
      ['n1', 'n2', 'n3'].map(async (name) => ({
        name,
        client: `127.0.0.1:${await freePort()}`,
        route: `127.0.0.1:${await freePort()}`,
      })),
    );
    await natsInit(dir, {
      listen: '127.0.0.1:4222',
      storeDir: join(dir, 'jetstream'),
      maxFileStore: '256M',
      maxMemoryStore: '64M',
      tlsHosts: ['127.0.0.1', 'localhost'],
      cluster: members,
    });
    await natsAddNode(dir, 'lb-1', { site: 'par1' });
    urls = members.map((m) => `tls://${m.client}`);
    cluster = await startNatsCluster(members.map((m) => join(dir, natsFiles.clusterServer(m.name))));
    await writeKeyPair(join(dir, 'signing'));
    replica = await ControllerRuntime.start({
      config: ControllerConfigSchema.parse({
        nats: {
          servers: urls,
          nkeyFile: join(dir, natsFiles.controllerSeed),
          tls: { ca: join(dir, tlsFiles.ca) },
          replicas: 3,
        },
        api: { listen: '127.0.0.1:0', tokens: [{ name: 'ops', role: 'operator', sha256: tokenHash(TOKEN) }] },
        rules: { signingKey: join(dir, 'signing.key'), keyId: 'ops-2026' },
        fleet: { heartbeatMs: 1000 },
      }),
      logger: pino({ level: (process.env.RHI_TEST_LOG as 'info') ?? 'silent' }),
      version: 'test',
    });
    await waitFor(
      'the controller on the cluster',
      async () => ((await healthz()).status === 200 ? true : undefined),
      30_000,
    );
    agent = await connect({
      servers: urls,
      tls: { caFile: join(dir, tlsFiles.ca) },
      authenticator: nkeyAuthenticator(
        new TextEncoder().encode((await readFile(join(dir, natsFiles.nodeSeed('lb-1')), 'utf8')).trim()),
      ),
      inboxPrefix: '_INBOX_lb-1',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    agent.subscribe(subjects.resend('lb-1'), {
      callback: () => agent.publish(subjects.status('lb-1'), latest),
    });
    beat = setInterval(
      () =>
        agent.publish(
          subjects.heartbeat('lb-1'),
          JSON.stringify({
            schema: 'rhi.v1.heartbeat',
            node: 'lb-1',
            time: new Date().toISOString(),
            seq: seq - 1,
          }),
        ),
      1000,
    );
    report('198.18.231.1/32');
    await showing('198.18.231.1/32');
    watching = setInterval(() => {
      void healthz()
        .then(({ body }) => {
          if (/quorum lost/i.test(body.reason ?? '')) quorumLostSeen.push(Date.now());
        })
        .catch(() => undefined);
    }, 250);
  }, 60_000);

  afterAll(async () => {
    if (beat) clearInterval(beat);
    if (watching) clearInterval(watching);
    await agent?.close();
    await replica?.stop();
    await cluster?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The server holding the JetStream metadata leadership now, by the servers' own logs. */
  const metaLeader = () => {
    let best = -1;
    let at = -1;
    for (let i = 0; i < 3; i++) {
      const log = cluster.log(i);
      const k = Math.max(log.lastIndexOf('Self is new JetStream cluster metadata leader'), -1);
      const lost = log.lastIndexOf('JetStream cluster no metadata leader');
      if (k > lost && k > at) [best, at] = [i, k];
    }
    return best === -1 ? 0 : best;
  };

  it('goes on with one server down (the metadata leader): writes, statuses, nothing lost, no false alarm', async () => {
    const before = (await call('GET', '/api/v1/rulesets')).body;
    const down = metaLeader();
    await cluster.stop(down);
    const t0 = Date.now();
    const stored = await waitFor(
      'a rule set stored with one server down',
      async () => {
        const r = await upload();
        return r.status === 201 ? r : undefined;
      },
      20_000,
      250,
    );
    expect(stored.body.ruleset.serial).toBeGreaterThan(0);
    report('198.18.231.2/32');
    await showing('198.18.231.2/32', 20_000);
    const after = (await call('GET', '/api/v1/rulesets')).body;
    expect(after.rulesets.length).toBe((before.rulesets?.length ?? 0) + 1);
    expect(quorumLostSeen.filter((t) => t >= t0)).toEqual([]);
    await cluster.start(down);
    // The restarted server catches up; everything stored is still there, read through any server.
    expect((await call('GET', '/api/v1/rulesets')).body.rulesets.length).toBe(after.rulesets.length);
  }, 60_000);

  it('serves the last view read-only and says the quorum is lost with two down, then resumes by itself', async () => {
    // The survivor is the metadata leader, the hardest case: it answers reads for ~20 s, no write.
    const keep = metaLeader();
    const down = [0, 1, 2].filter((i) => i !== keep);
    for (const i of down) await cluster.stop(i);
    const health = await waitFor(
      'the quorum seen lost',
      async () => {
        const { status, body } = await healthz();
        return status === 503 && /quorum lost/i.test(body.reason ?? '') ? body : undefined;
      },
      30_000,
      200,
    );
    expect(health.reason).toMatch(/NATS quorum lost: JetStream takes no writes/);
    const nodes = await call('GET', '/api/v1/nodes');
    expect(nodes.status).toBe(503);
    expect(nodes.body).toMatchObject({ stale: true, error: { code: 'NATS_QUORUM_LOST' } });
    expect(nodes.body.nodes.map((n: { name: string }) => n.name)).toEqual(['lb-1']);
    const refused = await upload();
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('NATS_QUORUM_LOST');

    for (const i of down) await cluster.start(i);
    await waitFor(
      'the quorum back',
      async () => ((await healthz()).status === 200 ? true : undefined),
      30_000,
      200,
    );
    const stored = await waitFor(
      'a rule set stored again',
      async () => {
        const r = await upload();
        return r.status === 201 ? r : undefined;
      },
      30_000,
      500,
    );
    expect(stored.body.ruleset.serial).toBeGreaterThan(0);
    report('198.18.231.3/32');
    await showing('198.18.231.3/32', 120_000);
    expect((await call('GET', '/api/v1/nodes')).status).toBe(200);
  }, 240_000);
});
