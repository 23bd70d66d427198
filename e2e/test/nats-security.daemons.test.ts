import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HealthReport, NodeAnswer, NodeStatus } from '@rhi/contracts';
import type { Backends, BgpPair, ConfiguredNats, HaproxyInstance } from '@rhi/test-support';
import {
  freePort,
  GiveUp,
  startBackends,
  startBgpPair,
  startHaproxy,
  startNatsWithConfig,
  waitFor,
} from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord, Started } from './support/processes.js';
import { agentBin, built, controllerBin, logRecords, runCommand, startCommand } from './support/processes.js';

// The NATS users of a fleet as an operator sets them up: the built `rhi-controller nats init` and
// `nats add-node` write the nkeys and the server's authorization, a real nats-server 2.9 runs on the config
// they wrote, and the built `rhi-controller` and one built `rhi-agent` (a real HAProxy, a real BIRD peering
// with a router BIRD) connect with the seeds they were given. Under the node's narrow permissions the agent
// must do all it does (report, follow a rollout by direct gets, answer a drain) without one permission
// violation; `nats remove-node --reload` must then cut it off. The tests run in order, each from the state
// the one before left.

if (!built)
  console.warn('nats-security.daemons.test.ts: the agent or controller is not built; nx runs ^build first');

const NODE = 'lb-a';
const TOKEN = 'an-e2e-operator-token-long-enough';
const KEY_ID = 'e2e-nats';
const HEARTBEAT_MS = 1000;
const TERMINAL = ['completed', 'rolledBack', 'aborted', 'failed'];
const V1 = '198.18.200.1/32';
const V2 = '198.18.200.2/32';
const ip = (prefix: string) => prefix.replace('/32', '');
const BASE_RULES = `${ip(V1)} = all(f:fe_web, b:be_app)\n`;

interface NodeView {
  node: { name: string; state: 'up' | 'lost'; ruleSet: { serial: number; hash: string } | null };
  status: NodeStatus | null;
  health: HealthReport | null;
}
interface Registry {
  controller: { publicKey: string };
  nodes: Record<string, { publicKey: string; labels: Record<string, string> }>;
}
interface DrainAnswer {
  action: { action: string; answers: NodeAnswer[] };
}

/** The number of times nats-server has logged a config reload. */
const reloads = (log: string) => log.split('Reloaded server configuration').length - 1;
/** The log records of a daemon whose `err` (message or any field) matches `pattern`. */
const withErr = (output: string, pattern: RegExp): LogRecord[] =>
  logRecords(output).filter((r) => r.err !== undefined && pattern.test(JSON.stringify(r.err)));

describe.runIf(built)('NATS users from rhi-controller nats, with the built controller and agent', () => {
  let dir: string;
  let natsDir: string;
  let nats: ConfiguredNats | undefined;
  let backends: Backends;
  let haproxy: HaproxyInstance;
  let pair: BgpPair;
  let api: string;
  let controller: Started | undefined;
  let agent: Started | undefined;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Answer = { status: number; body: any };
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  };
  const nodeView = async (): Promise<NodeView | undefined> => {
    const res = await call('GET', `/api/v1/nodes/${NODE}`);
    return res.status === 200 ? (res.body as NodeView) : undefined;
  };
  const server = (): ConfiguredNats => {
    if (!nats) throw new Error('nats-server is not started');
    return nats;
  };
  const registryOf = (): Registry =>
    JSON.parse(readFileSync(join(natsDir, 'registry.json'), 'utf8')) as Registry;
  const agentLogged = (event: string, serial: number) =>
    waitFor(
      `${NODE} to log ${event} for serial ${serial}`,
      () => logRecords(agent!.output).find((r) => r.event === event && r.serial === serial),
      5000,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-e2e-nats-'));
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
  });

  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await controller?.stop();
    await pair?.stop();
    await haproxy?.stop();
    await backends?.close();
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('nats init and nats add-node write the registry, the authorization and 0600 seeds, and nats-server starts on them', async () => {
    // runCommand rejects unless the command exits 0.
    const init = await runCommand(controllerBin, [
      'nats',
      'init',
      '--dir',
      natsDir,
      '--listen',
      '127.0.0.1:4222',
      '--store-dir',
      join(dir, 'jetstream'),
    ]);
    expect(init).toContain(join(natsDir, 'controller.nk'));
    const add = await runCommand(controllerBin, [
      'nats',
      'add-node',
      NODE,
      '--dir',
      natsDir,
      '--labels',
      'site=par1',
    ]);
    expect(add).toContain(join(natsDir, 'nodes', `${NODE}.nk`));

    for (const seed of ['controller.nk', 'system.nk', join('nodes', `${NODE}.nk`)]) {
      const file = join(natsDir, seed);
      expect((await stat(file)).mode & 0o777, file).toBe(0o600);
      expect((await readFile(file, 'utf8')).trim()).toMatch(/^SU[A-Z2-7]{56}$/);
    }
    const registry = registryOf();
    expect(Object.keys(registry.nodes)).toEqual([NODE]);
    expect(registry.nodes[NODE]!.labels).toEqual({ site: 'par1' });
    const auth = await readFile(join(natsDir, 'auth.conf'), 'utf8');
    expect(auth).toContain(registry.controller.publicKey);
    expect(auth).toContain(registry.nodes[NODE]!.publicKey);
    expect(auth).toContain('"rhi.v1.cmd.label.site.par1"');
    expect(auth).not.toMatch(/^\s*authorization\s*\{/m);
    const serverConfig = await readFile(join(natsDir, 'nats-server.conf'), 'utf8');
    expect(serverConfig).toMatch(/^include auth\.conf$/m);
    expect(serverConfig).toContain(join(dir, 'jetstream'));

    nats = await startNatsWithConfig(join(natsDir, 'nats-server.conf'));
  });

  it('the controller and the agent connect with their seeds, and the node reports with its health', async () => {
    const { url } = server();
    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    const controllerConfig = join(dir, 'controller.yaml');
    await writeFile(
      controllerConfig,
      `nats: { servers: [${url}], nkeyFile: ${join(natsDir, 'controller.nk')} }
api:
  listen: 127.0.0.1:${apiPort}
  tokens: [{ name: e2e, role: operator, sha256: ${createHash('sha256').update(TOKEN).digest('hex')} }]
rules: { signingKey: ${join(dir, 'signing.key')}, keyId: ${KEY_ID} }
fleet:
  heartbeatMs: ${HEARTBEAT_MS}
  leaseTtlMs: 2000
  rolloutTickMs: 100
`,
    );
    controller = startCommand(controllerBin, controllerConfig);
    await waitFor('the controller to serve', async () => {
      if (!controller!.running) throw new Error(`rhi-controller exited:\n${controller!.output}`);
      const res = await fetch(`${api}/healthz`).catch(() => null);
      return res?.status === 200 ? true : undefined;
    });

    const rulesFile = join(dir, 'rules.cfg');
    await writeFile(rulesFile, BASE_RULES);
    const agentConfig = join(dir, 'agent.yaml');
    await writeFile(
      agentConfig,
      `node: { name: ${NODE}, labels: { site: par1 } }
haproxy: { sockets: [${haproxy.adminSocket}], pollIntervalMs: 100 }
bird: { socket: ${pair.node.socket}, include: ${pair.includePath}, config: ${pair.node.configPath}, tables: { vol1: {} } }
rules: { file: ${rulesFile}, fromController: true, trustedKeys: { ${KEY_ID}: ${join(dir, 'signing.pub')} } }
allowlist: [198.18.200.0/24]
damping: { rise: { count: 1, ms: 0 } }
admin: { listen: 127.0.0.1:${await freePort()}, socket: ${join(dir, 'admin.sock')} }
stateDir: ${dir}
nats: { servers: [${url}], nkeyFile: ${join(natsDir, 'nodes', `${NODE}.nk`)}, heartbeatMs: ${HEARTBEAT_MS}, assignmentPollMs: 600000 }
`,
    );
    agent = startCommand(agentBin, agentConfig);
    await waitFor('the agent to start', () => {
      if (!agent!.running) throw new Error(`rhi-agent exited:\n${agent!.output}`);
      return agent!.output.includes('"event":"agentStarted"') ? true : undefined;
    });

    const view = await waitFor(`${NODE} up in the fleet view, with its health report`, async () => {
      const v = await nodeView();
      return v?.node.state === 'up' && v.health?.backends['be_app']?.up === true ? v : undefined;
    });
    expect(view.status).toMatchObject({ node: NODE, labels: { site: 'par1' }, drain: { drained: false } });
    await waitFor('the router to hold V1', async () =>
      (await pair.routerRoutes()).includes(V1) ? true : undefined,
    );
  }, 30_000);

  it('a rollout reaches the agent: it reads its assignment and the rule set by direct get, acks, and runs the new serial', async () => {
    const uploaded = await call('POST', '/api/v1/rulesets', {
      source: `${BASE_RULES}${ip(V2)} = all(b:be_app)\n`,
      message: 'add V2',
    });
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);
    const set = uploaded.body.ruleset as { serial: number; hash: string };
    const res = await call('POST', '/api/v1/rollouts', {
      serial: set.serial,
      message: 'add V2',
      strategy: { canary: null, batch: { percent: 100 }, soakMs: 0, ackTimeoutMs: 15_000 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.rollout.id as string;
    const done = await waitFor(
      `rollout ${id} to end`,
      async () => {
        // A runner tick between the two writes of JetStreamRolloutStore.create (the `active` claim, then
        // the record) finds no record and gives the claim back: the rollout is then never driven.
        if (logRecords(controller!.output).some((r) => r.event === 'rolloutMissing' && r.rollout === id))
          throw new GiveUp(`the controller dropped rollout ${id} (rolloutMissing):\n${controller!.output}`);
        const r = (await call('GET', `/api/v1/rollouts/${id}`)).body.rollout;
        return TERMINAL.includes(r.status) && r.outbox.length === 0 ? r : undefined;
      },
      15_000,
      50,
    );
    expect(done.status, JSON.stringify(done.stop)).toBe('completed');
    expect(done.steps.map((s: { applied: string[] }) => s.applied)).toEqual([[NODE]]);

    // The put on assign.lb-a reached the agent's subscription; the rule set came by direct get of set.N.
    expect(await agentLogged('assignmentFetched', set.serial)).toMatchObject({ trigger: 'message' });
    expect(await agentLogged('ruleSetAcked', set.serial)).toMatchObject({
      result: 'applied',
      hash: set.hash,
    });
    expect(logRecords(agent!.output).filter((r) => r.event === 'assignmentReadFailed')).toEqual([]);
    await waitFor(`${NODE} to run serial ${set.serial}`, async () => {
      const v = await nodeView();
      return v?.node.ruleSet?.serial === set.serial && v.node.ruleSet.hash === set.hash ? true : undefined;
    });
    await waitFor('the router to hold V2', async () =>
      (await pair.routerRoutes()).includes(V2) ? true : undefined,
    );
  }, 30_000);

  it('a drain and an undrain from the controller are answered applied by the agent', async () => {
    // The node is its VIPs' only advertiser: the guard refuses the drain unless forced, with a reason.
    const drain = await call('POST', `/api/v1/nodes/${NODE}/drain`, {
      reason: 'e2e: nats permissions',
      force: 'e2e: the only node, drained on purpose',
    });
    expect(drain.status, JSON.stringify(drain.body)).toBe(200);
    expect((drain.body as DrainAnswer).action.answers).toEqual([
      expect.objectContaining({ node: NODE, result: 'applied' }),
    ]);
    await waitFor(`${NODE} drained in its status, and the router without its VIPs`, async () => {
      const v = await nodeView();
      return v?.status?.drain.drained === true && (await pair.routerRoutes()).length === 0 ? true : undefined;
    });

    const undrain = await call('POST', `/api/v1/nodes/${NODE}/undrain`, {});
    expect(undrain.status, JSON.stringify(undrain.body)).toBe(200);
    expect((undrain.body as DrainAnswer).action.answers).toEqual([
      expect.objectContaining({ node: NODE, result: 'applied' }),
    ]);
    await waitFor(`${NODE} undrained, and the router with V1 and V2 again`, async () => {
      const v = await nodeView();
      const routes = await pair.routerRoutes();
      return v?.status?.drain.drained === false && routes.includes(V1) && routes.includes(V2)
        ? true
        : undefined;
    });
  });

  it('nothing the agent or the controller did was refused by nats-server', () => {
    expect(agent!.output).not.toContain('Permissions Violation');
    expect(controller!.output).not.toContain('Permissions Violation');
    // The server logs every publish or subscription it refuses ("Publish Violation", "Subscription
    // Violation"); the agent logs those it is told of (natsError, natsSubscriptionRefused).
    expect(server().log()).not.toMatch(/Violation/);
    expect(agent!.output).not.toMatch(/"event":"(natsError|natsSubscriptionRefused)"/);
  });

  it('nats remove-node --reload cuts the agent off: the node turns lost and the agent is refused on reconnect', async () => {
    const nodeKey = registryOf().nodes[NODE]!.publicKey;
    const before = reloads(server().log());
    const out = await runCommand(controllerBin, [
      'nats',
      'remove-node',
      NODE,
      '--dir',
      natsDir,
      '--reload',
      String(server().pid),
    ]);
    expect(out).toContain(`pid ${server().pid}`);
    expect(existsSync(join(natsDir, 'nodes', `${NODE}.nk`))).toBe(false);
    expect(Object.keys(registryOf().nodes)).toEqual([]);
    const auth = await readFile(join(natsDir, 'auth.conf'), 'utf8');
    expect(auth).not.toContain(nodeKey);
    expect(auth).not.toContain(`node ${NODE}`);
    await waitFor('nats-server to reload its config', () =>
      reloads(server().log()) > before ? true : undefined,
    );

    await waitFor(
      `${NODE} to be lost`,
      async () => ((await nodeView())?.node.state === 'lost' ? true : undefined),
      3 * HEARTBEAT_MS + 5000,
    );
    const refused = await waitFor(
      'the agent to log an authorization error on reconnect',
      () => {
        const found = withErr(agent!.output, /Authorization Violation/);
        return found.length > 0 ? found : undefined;
      },
      10_000,
    );
    for (const r of refused) {
      expect(['natsClosed', 'natsUnreachable', 'natsError']).toContain(r.event);
      expect(r.err).toMatchObject({ type: 'AuthorizationError', message: 'Authorization Violation' });
    }
    // The server refused the removed user's key, and the agent goes on trying (it keeps failing over
    // locally meanwhile).
    expect(server().log()).toMatch(new RegExp(`authentication error - Nkey "${nodeKey}"`));
    expect(agent!.running).toBe(true);
  }, 30_000);
});
