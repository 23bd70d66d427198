import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeStatus } from '@rhi/contracts';
import type { Backends, BgpPair, HaproxyInstance, NatsCluster } from '@rhi/test-support';
import {
  freePort,
  startBackends,
  startBgpPair,
  startHaproxy,
  startNatsCluster,
  waitFor,
} from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Started } from './support/processes.js';
import { agentBin, built, controllerBin, logRecords, runCommand, startCommand } from './support/processes.js';

// The built agent and controller on a 3-server NATS cluster made exactly as an operator makes it
// (`rhi-controller nats init --cluster --tls-hosts`, `nats add-node`: nkey users, client TLS, mutual route
// TLS), with a real HAProxy and a real BIRD peering with a router BIRD. The server the agent is connected
// to is stopped: it reconnects to another and the fleet view follows its routes. Two servers stopped (the
// quorum lost): the agent still follows HAProxy on its own, the controller says the quorum is lost; both
// back, the view catches up with no one doing anything. The tests run in order.

if (!built)
  console.warn('nats-cluster.daemons.test.ts: the agent or controller is not built; nx runs ^build first');

const NODE = 'lb-a';
const TOKEN = 'an-e2e-operator-token-long-enough';
const KEY_ID = 'e2e-cluster';
const HEARTBEAT_MS = 1000;
const V1 = '198.18.201.1/32';
const RULES = `${V1.replace('/32', '')} = all(f:fe_web, b:be_app)\n`;

interface Member {
  name: string;
  client: string;
  route: string;
}

describe.runIf(built)('the built agent and controller on a 3-server NATS cluster with TLS', () => {
  let dir: string;
  let natsDir: string;
  let members: Member[] = [];
  let cluster: NatsCluster | undefined;
  let backends: Backends;
  let haproxy: HaproxyInstance;
  let pair: BgpPair;
  let api: string;
  let controller: Started | undefined;
  let agent: Started | undefined;

  const get = async (path: string) => {
    const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (await res.json()) as any };
  };
  /** V1's decision in the node's status as the controller's view holds it. */
  const viewed = async (): Promise<string | undefined> => {
    const res = await get(`/api/v1/nodes/${NODE}`);
    const status = res.body?.status as NodeStatus | null | undefined;
    return status?.routes.find((r) => r.prefix === V1)?.decision;
  };
  const atRouter = async () => (await pair.routerRoutes()).includes(V1);
  /** The member the agent says it is connected to now (its last natsConnected / natsReconnected). */
  const agentServer = (): number => {
    const records = logRecords(agent!.output).filter(
      (r) => r.event === 'natsConnected' || r.event === 'natsReconnected',
    );
    const server = String(records.at(-1)?.server ?? '');
    const i = members.findIndex((m) => server.endsWith(m.client));
    if (i < 0) throw new Error(`the agent logged no server of the cluster (last: '${server}')`);
    return i;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-e2e-cluster-'));
    natsDir = join(dir, 'nats');
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
    await runCommand(controllerBin, ['keygen', '--out', join(dir, 'signing')]);
    members = [];
    for (const name of ['n1', 'n2', 'n3'])
      members.push({ name, client: `127.0.0.1:${await freePort()}`, route: `127.0.0.1:${await freePort()}` });
  });

  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await controller?.stop();
    await pair?.stop();
    await haproxy?.stop();
    await backends?.close();
    await cluster?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('nats init --cluster writes a config per server with TLS routes, and the three servers form a cluster on them', async () => {
    const out = await runCommand(controllerBin, [
      'nats',
      'init',
      '--dir',
      natsDir,
      '--store-dir',
      join(dir, 'jetstream'),
      '--tls-hosts',
      '127.0.0.1,localhost',
      '--cluster',
      members.map((m) => `${m.name}=${m.client}/${m.route}`).join(','),
    ]);
    expect(out).toContain(`nats.servers ${members.map((m) => `tls://${m.client}`).join(',')}`);
    await runCommand(controllerBin, ['nats', 'add-node', NODE, '--dir', natsDir, '--labels', 'site=par1']);
    const n2 = await readFile(join(natsDir, 'nats-server.n2.conf'), 'utf8');
    expect(n2).toContain(`routes: [${members.map((m) => `"tls://${m.route}"`).join(', ')}]`);
    expect(n2).toMatch(/verify: true/);
    cluster = await startNatsCluster(members.map((m) => join(natsDir, `nats-server.${m.name}.conf`)));
    // The routes speak TLS (routes dial tls://); none failed its handshake.
    for (let i = 0; i < 3; i++) expect(cluster.log(i)).not.toMatch(/TLS handshake error/);
  }, 60_000);

  it('the controller and the agent connect over TLS with their seeds, and V1 is advertised and seen', async () => {
    const servers = members.map((m) => `tls://${m.client}`).join(', ');
    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    const controllerConfig = join(dir, 'controller.yaml');
    await writeFile(
      controllerConfig,
      `nats:
  servers: [${servers}]
  nkeyFile: ${join(natsDir, 'controller.nk')}
  tls: { ca: ${join(natsDir, 'tls', 'ca.pem')} }
  replicas: 3
api:
  listen: 127.0.0.1:${apiPort}
  tokens: [{ name: e2e, role: operator, sha256: ${createHash('sha256').update(TOKEN).digest('hex')} }]
rules: { signingKey: ${join(dir, 'signing.key')}, keyId: ${KEY_ID} }
fleet: { heartbeatMs: ${HEARTBEAT_MS}, leaseTtlMs: 2000 }
`,
    );
    controller = startCommand(controllerBin, controllerConfig);
    await waitFor(
      'the controller to serve',
      async () => {
        if (!controller!.running) throw new Error(`rhi-controller exited:\n${controller!.output}`);
        const res = await fetch(`${api}/healthz`).catch(() => null);
        return res?.status === 200 ? true : undefined;
      },
      30_000,
    );
    const rulesFile = join(dir, 'rules.cfg');
    await writeFile(rulesFile, RULES);
    const agentConfig = join(dir, 'agent.yaml');
    await writeFile(
      agentConfig,
      `node: { name: ${NODE}, labels: { site: par1 } }
haproxy: { sockets: [${haproxy.adminSocket}], pollIntervalMs: 100 }
bird: { socket: ${pair.node.socket}, include: ${pair.includePath}, config: ${pair.node.configPath}, tables: { vol1: {} } }
rules: { file: ${rulesFile}, trustedKeys: { ${KEY_ID}: ${join(dir, 'signing.pub')} } }
allowlist: [198.18.201.0/24]
damping: { rise: { count: 1, ms: 0 } }
admin: { listen: 127.0.0.1:${await freePort()}, socket: ${join(dir, 'admin.sock')} }
stateDir: ${dir}
nats:
  servers: [${servers}]
  nkeyFile: ${join(natsDir, 'nodes', `${NODE}.nk`)}
  tls: { ca: ${join(natsDir, 'tls', 'ca.pem')} }
  heartbeatMs: ${HEARTBEAT_MS}
`,
    );
    agent = startCommand(agentBin, agentConfig);
    await waitFor('the agent to start', () => {
      if (!agent!.running) throw new Error(`rhi-agent exited:\n${agent!.output}`);
      return agent!.output.includes('"event":"natsConnected"') ? true : undefined;
    });
    await waitFor('V1 advertised at the router and in the view', async () =>
      (await atRouter()) && (await viewed()) === 'advertise' ? true : undefined,
    );
  }, 60_000);

  it("the agent's server stopped: the agent reconnects to another, and the view follows its routes", async () => {
    const down = agentServer();
    await cluster!.stop(down);
    await waitFor('the agent on another server', () => (agentServer() !== down ? true : undefined), 15_000);
    await backends.stop(0);
    await waitFor('V1 gone from the router', async () => ((await atRouter()) ? undefined : true), 10_000);
    await waitFor(
      'the view to show V1 withdrawn',
      async () => ((await viewed()) === 'withdraw' ? true : undefined),
      20_000,
    );
    await cluster!.start(down);
    await backends.start(0);
    await waitFor(
      'V1 back at the router and in the view',
      async () => ((await atRouter()) && (await viewed()) === 'advertise' ? true : undefined),
      20_000,
    );
    const refused = logRecords(agent!.output).filter((r) => r.event === 'natsSubscriptionRefused');
    expect(refused).toEqual([]);
  }, 90_000);

  it('two servers stopped: the agent follows HAProxy alone, the controller says the quorum is lost; both back, the view catches up', async () => {
    const keep = agentServer();
    const down = [0, 1, 2].filter((i) => i !== keep);
    for (const i of down) await cluster!.stop(i);
    await backends.stop(0);
    await waitFor(
      'V1 gone from the router (the agent alone)',
      async () => ((await atRouter()) ? undefined : true),
      10_000,
    );
    const health = await waitFor(
      'the controller to say the quorum is lost',
      async () => {
        const res = await fetch(`${api}/healthz`);
        const body = (await res.json()) as { reason?: string };
        return res.status === 503 && /quorum lost/i.test(body.reason ?? '') ? body : undefined;
      },
      30_000,
      250,
    );
    expect(health.reason).toMatch(/NATS quorum lost/);
    for (const i of down) await cluster!.start(i);
    await waitFor(
      'the controller healthy again',
      async () => ((await fetch(`${api}/healthz`)).status === 200 ? true : undefined),
      40_000,
      250,
    );
    await waitFor(
      'the view to show V1 withdrawn, as the agent has it',
      async () => ((await viewed()) === 'withdraw' ? true : undefined),
      40_000,
    );
    await backends.start(0);
    await waitFor(
      'V1 back at the router and in the view',
      async () => ((await atRouter()) && (await viewed()) === 'advertise' ? true : undefined),
      20_000,
    );
  }, 150_000);
});
