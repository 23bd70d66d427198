import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeStatusSchema, routeId } from '@rhi/contracts';
import type { HealthReport, NodeStatus } from '@rhi/contracts';
import type { Backends, BgpPair, HaproxyInstance, NatsInstance } from '@rhi/test-support';
import { freePort, startBackends, startBgpPair, startHaproxy, startNats, waitFor } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Started } from './support/processes.js';
import { agentBin, built, controllerBin, startCommand as start } from './support/processes.js';

// One node as users run it: the built `rhi-agent` (the one-file bundle behind bin/) with a real HAProxy and
// a real BIRD speaking eBGP to a router BIRD, reporting over a real nats-server (JetStream on) to the built
// `rhi-controller`, read through its HTTP API. What an operator sees in the fleet view must follow what
// HAProxy and BIRD do on the node.

if (!built) console.warn('fleet.daemons.test.ts: the agent or controller is not built; nx runs ^build first');

const NODE = 'lb1';
const VIP = '198.18.200.1/32';
const VIP_ID = routeId({ table: 'vol1', prefix: VIP });
const TOKEN = 'an-e2e-viewer-token-long-enough';
const HEARTBEAT_MS = 1000;

interface VipNode {
  node: string;
  state: string;
  reason: string;
}
interface NodeSummary {
  name: string;
  state: string;
}

describe.runIf(built)('one rhi-agent node in the controller fleet view', () => {
  let nats: NatsInstance;
  let backends: Backends;
  let haproxy: HaproxyInstance;
  let pair: BgpPair;
  let dir: string;
  let api: string;
  let agentConfig: string;
  let agent: Started;
  let controller: Started;

  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const vipNode = async (): Promise<VipNode | undefined> => {
    const res = await fetch(`${api}/api/v1/vips/${encodeURIComponent(VIP_ID)}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    if (res.status !== 200) return undefined;
    const { vip } = (await res.json()) as { vip: { nodes: VipNode[] } };
    return vip.nodes.find((n) => n.node === NODE);
  };
  const waitState = (state: string, timeoutMs?: number) =>
    waitFor(
      `${VIP_ID} on ${NODE} to be ${state} in the view`,
      async () => {
        const n = await vipNode();
        return n?.state === state ? n : undefined;
      },
      timeoutMs,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-e2e-'));
    nats = await startNats();
    backends = await startBackends(1);
    haproxy = await startHaproxy({
      sections: (d) => `
frontend fe_web
    bind unix@${d}/fe.sock
    default_backend be_app
backend be_app
    server s1 127.0.0.1:${backends.ports[0]} check inter 100 rise 1 fall 1
`,
    });
    pair = await startBgpPair({ exports: ['vol1'] });
    await writeFile(join(dir, 'rules.cfg'), `${VIP.replace('/32', '')} = all(f:fe_web, b:be_app)\n`);

    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    const controllerConfig = join(dir, 'controller.yaml');
    await writeFile(
      controllerConfig,
      `nats: { servers: [${nats.url}], user: ${nats.user}, password: ${nats.password} }
api:
  listen: 127.0.0.1:${apiPort}
  tokens: [{ name: e2e, role: viewer, sha256: ${createHash('sha256').update(TOKEN).digest('hex')} }]
fleet: { heartbeatMs: ${HEARTBEAT_MS} }
`,
    );
    controller = start(controllerBin, controllerConfig);
    await waitFor('the controller to serve', async () => {
      if (!controller.running) throw new Error(`rhi-controller exited:\n${controller.output}`);
      const res = await fetch(`${api}/healthz`).catch(() => null);
      return res?.status === 200 ? true : undefined;
    });

    agentConfig = join(dir, 'agent.yaml');
    await writeFile(
      agentConfig,
      `node: { name: ${NODE}, labels: { site: e2e } }
haproxy: { sockets: [${haproxy.adminSocket}], pollIntervalMs: 100 }
bird: { socket: ${pair.node.socket}, include: ${pair.includePath}, config: ${pair.node.configPath}, tables: { vol1: {} } }
rules: { file: ${join(dir, 'rules.cfg')} }
allowlist: [198.18.200.0/24]
damping: { rise: { count: 1, ms: 0 } }
admin: { listen: 127.0.0.1:${await freePort()}, socket: ${join(dir, 'admin.sock')} }
stateDir: ${dir}
nats: { servers: [${nats.url}], user: ${nats.user}, password: ${nats.password}, heartbeatMs: ${HEARTBEAT_MS} }
`,
    );
    agent = start(agentBin, agentConfig);
    await waitFor('the agent to start', () => {
      if (!agent.running) throw new Error(`rhi-agent exited:\n${agent.output}`);
      return agent.output.includes('"event":"agentStarted"') ? true : undefined;
    });
  });

  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await controller?.stop();
    await pair?.stop();
    await haproxy?.stop();
    await backends?.close();
    await nats?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows the node advertising the VIP once BIRD holds it, and the router has it', async () => {
    const n = await waitState('advertising');
    expect(n.reason).toMatch(/fe_web|be_app|hold/);
    expect(await pair.routerRoutes()).toContain(VIP);
    const { status } = await get<{ status: NodeStatus }>(`/api/v1/nodes/${NODE}`);
    // What the controller serves is the agent's own status, as the contract defines it.
    expect(NodeStatusSchema.safeParse(status).success).toBe(true);
    expect(status).toMatchObject({ node: NODE, labels: { site: 'e2e' }, drain: { drained: false } });
    expect(status.routes).toEqual([
      expect.objectContaining({ table: 'vol1', prefix: VIP, desired: true, inBird: true }),
    ]);
  });

  it('a backend dies: the VIP loses that advertiser, with the reason, and the router loses the route', async () => {
    await backends.stop(0);
    try {
      const n = await waitState('withdrawn');
      expect(n.reason).toMatch(/be_app/);
      await waitFor('the router to lose the VIP', async () =>
        (await pair.routerRoutes()).includes(VIP) ? undefined : true,
      );
      await waitFor('the alert for the VIP with no advertiser', async () => {
        const { alerts } = await get<{ alerts: { kind: string; subject: string }[] }>('/api/v1/alerts');
        return alerts.some((a) => a.kind === 'vipNoAdvertiser' && a.subject === VIP_ID) ? true : undefined;
      });
      // The node's status says why, down to the term of the rule.
      const { status } = await get<{ status: NodeStatus }>(`/api/v1/nodes/${NODE}`);
      expect(status.routes[0]?.explanation).toMatchObject({ value: false });
      expect(JSON.stringify(status.routes[0]?.explanation)).toContain('b:be_app');
      // And the node's HAProxy health, as the controller keeps it for judging rule sets.
      await waitFor('the health report with be_app down', async () => {
        const { health } = await get<{ health: HealthReport | null }>(`/api/v1/nodes/${NODE}`);
        return health?.backends['be_app']?.up === false ? true : undefined;
      });
    } finally {
      await backends.start(0);
    }
    await waitState('advertising');
    await waitFor('the router to have the VIP again', async () =>
      (await pair.routerRoutes()).includes(VIP) ? true : undefined,
    );
  });

  it('the agent is killed: the node turns lost within 3 heartbeats, its route stale, never advertised', async () => {
    await waitState('advertising');
    await agent.stop('SIGKILL');
    // The bound is the liveness rule's (3 heartbeats, proven on a fake clock in the controller's unit
    // tests) plus room for a loaded machine.
    await waitFor(
      `${NODE} to be lost`,
      async () => {
        const { node } = await get<{ node: NodeSummary }>(`/api/v1/nodes/${NODE}`);
        return node.state === 'lost' ? true : undefined;
      },
      3 * HEARTBEAT_MS + 5000,
    );
    const n = await vipNode();
    expect(n).toMatchObject({ state: 'stale', reason: expect.stringMatching(/^node lost/) });
    const { vip } = await get<{ vip: { advertisers: number } }>(`/api/v1/vips/${encodeURIComponent(VIP_ID)}`);
    expect(vip.advertisers).toBe(0);
  });
});
