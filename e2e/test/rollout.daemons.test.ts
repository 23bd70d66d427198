import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routeId } from '@rhi/contracts';
import type { RolloutRecord } from '@rhi/contracts';
import type { Backends, BgpPair, HaproxyInstance, NatsInstance } from '@rhi/test-support';
import {
  freePort,
  routerCaughtUp,
  startBackends,
  startBgpPair,
  startHaproxy,
  startNats,
  waitFor,
} from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Started } from './support/processes.js';
import { agentBin, built, controllerBin, logRecords, runCommand, startCommand } from './support/processes.js';

// Staged rollouts on two real nodes, as users run them: two built `rhi-agent`s, each with its own real
// HAProxy and its own real BIRD speaking BGP to a router BIRD of its own, following their assignments in
// JetStream on a real nats-server, and the built `rhi-controller` signing the rule sets and driving the
// rollouts, read and commanded through its HTTP API. What the rollout record says must be what the daemons
// did: the agents' logs, the fleet view and the routers. The tests run in order, each from the rule sets
// the one before left in force.

if (!built)
  console.warn('rollout.daemons.test.ts: the agent or controller is not built; nx runs ^build first');

const TOKEN = 'an-e2e-operator-token-long-enough';
const KEY_ID = 'e2e-2026';
const HEARTBEAT_MS = 1000;
const TERMINAL = ['completed', 'rolledBack', 'aborted', 'failed'];

const V1 = '198.18.200.1/32';
const V2 = '198.18.200.2/32';
const V3 = '198.18.200.3/32';
const V4 = '198.18.200.4/32';
const V5 = '198.18.200.5/32';
const vipId = (prefix: string) => routeId({ table: 'vol1', prefix });
const ip = (prefix: string) => prefix.replace('/32', '');

/**
 * The rules file both agents start with (and run until a rule set is pushed). V2 names be_two so that the
 * nodes' health reports, which carry the proxies of the rules in force, tell the what-if about it.
 */
const BASE_RULES = `${ip(V1)} = all(f:fe_web, b:be_app)\n${ip(V2)} = any(b:be_app, b:be_two)\n`;

interface NodeSummary {
  name: string;
  state: 'up' | 'lost';
  ruleSet: { serial: number; hash: string; source: string } | null;
}
interface RuleSetState {
  sync: string;
  assigned: { serial: number; hash: string; rollout: string } | null;
  active: { serial: number; hash: string } | null;
}
interface VipNode {
  node: string;
  state: string;
}
interface StoredRuleSet {
  serial: number;
  hash: string;
}

/** One HAProxy node: its HAProxy, its BIRD and the router it peers with, and its agent. */
interface LbNode {
  readonly name: string;
  readonly haproxy: HaproxyInstance;
  readonly pair: BgpPair;
  readonly config: string;
  agent: Started;
}

describe.runIf(built)('staged rollouts to two real rhi-agent nodes', () => {
  let dir: string;
  let nats: NatsInstance;
  let backends: Backends;
  let controller: Started;
  let api: string;
  const nodes: LbNode[] = [];
  const node = (name: string): LbNode => {
    const n = nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  };

  /** One API call with the operator's token; the answer's body is read deep by the assertions themselves. */
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
  const get = async <T>(path: string): Promise<T> => {
    const res = await call('GET', path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as T;
  };
  const upload = async (source: string, message: string): Promise<StoredRuleSet> => {
    const res = await call('POST', '/api/v1/rulesets', { source, message });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.ruleset as StoredRuleSet;
  };
  const rollout = async (id: string): Promise<RolloutRecord> =>
    (await get<{ rollout: RolloutRecord }>(`/api/v1/rollouts/${id}`)).rollout;
  const settle = (id: string, timeoutMs = 30_000) =>
    waitFor(
      `rollout ${id} to end`,
      async () => {
        const r = await rollout(id);
        return TERMINAL.includes(r.status) && r.outbox.length === 0 ? r : undefined;
      },
      timeoutMs,
      50,
    );
  const summaries = async () => (await get<{ nodes: NodeSummary[] }>('/api/v1/nodes')).nodes;
  const running = async () => {
    const out: Record<string, { serial: number; hash: string } | null> = {};
    for (const s of await summaries())
      out[s.name] = s.ruleSet && { serial: s.ruleSet.serial, hash: s.ruleSet.hash };
    return out;
  };
  const vipNodes = async (prefix: string): Promise<VipNode[]> => {
    const res = await call('GET', `/api/v1/vips/${encodeURIComponent(vipId(prefix))}`);
    return res.status === 200 ? (res.body.vip.nodes as VipNode[]) : [];
  };
  const advertisedBy = async (prefix: string) =>
    (await vipNodes(prefix))
      .filter((n) => n.state === 'advertising')
      .map((n) => n.node)
      .sort();
  /** The prefixes each node's router holds, by node. */
  const routers = async (): Promise<Record<string, string[]>> =>
    Object.fromEntries(
      await Promise.all(nodes.map(async (n) => [n.name, await n.pair.routerRoutes()] as const)),
    );

  const startAgent = async (n: Pick<LbNode, 'name' | 'config'>): Promise<Started> => {
    const agent = startCommand(agentBin, n.config);
    await waitFor(`${n.name}'s agent to start`, () => {
      if (!agent.running) throw new Error(`rhi-agent ${n.name} exited:\n${agent.output}`);
      return agent.output.includes('"event":"agentStarted"') ? true : undefined;
    });
    return agent;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-e2e-rollout-'));
    nats = await startNats();
    backends = await startBackends(3);
    // The signing key pair, made as the README says: the private half for the controller, the public
    // half trusted by each agent under the key id.
    await runCommand(controllerBin, ['keygen', '--out', join(dir, 'signing')]);

    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    const controllerConfig = join(dir, 'controller.yaml');
    await writeFile(
      controllerConfig,
      `nats: { servers: [${nats.url}], user: ${nats.user}, password: ${nats.password} }
api:
  listen: 127.0.0.1:${apiPort}
  tokens: [{ name: e2e, role: operator, sha256: ${createHash('sha256').update(TOKEN).digest('hex')} }]
rules: { signingKey: ${join(dir, 'signing.key')}, keyId: ${KEY_ID} }
fleet:
  heartbeatMs: ${HEARTBEAT_MS}
  leaseTtlMs: 2000
  rolloutTickMs: 100
  # The tests move a route up and down more often in a minute than a real one does in five: past 6
  # transitions of one route its node would be flapping, an alert that stops the rollout under way.
  flapping: { transitions: 100, windowMs: 300000 }
`,
    );
    controller = startCommand(controllerBin, controllerConfig);
    await waitFor('the controller to serve', async () => {
      if (!controller.running) throw new Error(`rhi-controller exited:\n${controller.output}`);
      const res = await fetch(`${api}/healthz`).catch(() => null);
      return res?.status === 200 ? true : undefined;
    });

    // lb-a (the canary: nodes are planned in name order) has a backend lb-b's HAProxy lacks, be_b.
    for (const [name, extra] of [
      ['lb-a', true],
      ['lb-b', false],
    ] as const) {
      const haproxy = await startHaproxy({
        sections: (d) => `
frontend fe_web
    bind unix@${d}/fe.sock
    default_backend be_app
backend be_app
    server s1 127.0.0.1:${backends.ports[0]} check inter 100 rise 1 fall 1
backend be_two
    server s1 127.0.0.1:${backends.ports[1]} check inter 100 rise 1 fall 1
${extra ? `backend be_b\n    server s1 127.0.0.1:${backends.ports[2]} check inter 100 rise 1 fall 1\n` : ''}`,
      });
      const pair = await startBgpPair({ exports: ['vol1'], routeLog: true });
      const stateDir = await mkdtemp(join(dir, `${name}-state-`));
      const rulesFile = join(stateDir, 'rules.cfg');
      await writeFile(rulesFile, BASE_RULES);
      const config = join(stateDir, 'agent.yaml');
      await writeFile(
        config,
        `node: { name: ${name}, labels: { site: e2e } }
haproxy: { sockets: [${haproxy.adminSocket}], pollIntervalMs: 100 }
bird: { socket: ${pair.node.socket}, include: ${pair.includePath}, config: ${pair.node.configPath}, tables: { vol1: {} } }
rules: { file: ${rulesFile}, fromController: true, trustedKeys: { ${KEY_ID}: ${join(dir, 'signing.pub')} } }
allowlist: [198.18.200.0/24]
damping: { rise: { count: 1, ms: 0 } }
admin: { listen: 127.0.0.1:${await freePort()}, socket: ${join(stateDir, 'admin.sock')} }
stateDir: ${stateDir}
nats: { servers: [${nats.url}], user: ${nats.user}, password: ${nats.password}, heartbeatMs: ${HEARTBEAT_MS}, assignmentPollMs: 600000 }
`,
      );
      nodes.push({ name, haproxy, pair, config, agent: await startAgent({ name, config }) });
    }
    await waitFor('both nodes up, with a health report each', async () => {
      for (const n of nodes) {
        const res = await call('GET', `/api/v1/nodes/${n.name}`);
        if (res.status !== 200 || res.body.node.state !== 'up' || !res.body.health) return undefined;
      }
      return true;
    });
    await waitFor('V1 and V2 advertised by both nodes and at both routers', async () => {
      for (const v of [V1, V2]) if ((await advertisedBy(v)).length !== 2) return undefined;
      for (const routes of Object.values(await routers()))
        if (!(routes.includes(V1) && routes.includes(V2))) return undefined;
      return true;
    });
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes) await n.agent.stop('SIGKILL');
    await controller?.stop();
    for (const n of nodes) {
      await n.pair.stop();
      await n.haproxy.stop();
    }
    await backends?.close();
    await nats?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The agent's own log record of `event` (`assignmentFetched`, `ruleSetAcked`) for one serial, if any. */
  const logged = (name: string, event: string, serial: number) =>
    logRecords(node(name).agent.output).find((r) => r.event === event && r.serial === serial);
  /**
   * The same, waited for: the controller may hear an ack before the test has read the line the agent
   * logged right after sending it.
   */
  const agentLogged = (name: string, event: string, serial: number) =>
    waitFor(`${name} to log ${event} for serial ${serial}`, () => logged(name, event, serial), 5000);
  const routeLogLengths = async () =>
    Object.fromEntries(
      await Promise.all(nodes.map(async (n) => [n.name, (await n.pair.routerRouteLog()).length] as const)),
    );
  const routeLogSince = async (name: string, from: number) =>
    (await node(name).pair.routerRouteLog()).slice(from).map((e) => `${e.op} ${e.prefix}`);
  /** Waits until each node's status says it runs that rule set (its hash, and the serial when given). */
  const runningEverywhere = (want: Record<string, { serial?: number; hash: string }>) =>
    waitFor(`the nodes to run ${JSON.stringify(want)}`, async () => {
      const now = await running();
      return Object.entries(want).every(
        ([n, r]) => now[n]?.hash === r.hash && (r.serial === undefined || now[n]?.serial === r.serial),
      )
        ? now
        : undefined;
    });

  it('pushes canary first: the canary applies before the other node is assigned, both end on the new serial, and the VIP it adds reaches the routers', async () => {
    const set = await upload(`${BASE_RULES}${ip(V3)} = all(b:be_app)\n`, 'add V3');
    const res = await call('POST', '/api/v1/rollouts', {
      serial: set.serial,
      message: 'add V3',
      strategy: { canary: { count: 1 }, batch: { size: 1 }, soakMs: 1000, ackTimeoutMs: 15_000 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.skipped).toEqual([]);
    expect(res.body.rollout.steps.map((s: { kind: string; nodes: string[] }) => [s.kind, s.nodes])).toEqual([
      ['canary', ['lb-a']],
      ['batch', ['lb-b']],
    ]);

    const done = await settle(res.body.rollout.id);
    expect(done.status).toBe('completed');
    expect(done.stop).toBeNull();
    const [canary, batch] = done.steps;
    expect(canary!.applied).toEqual(['lb-a']);
    expect(batch!.applied).toEqual(['lb-b']);
    expect(batch!.assignedAt!).toBeGreaterThanOrEqual(canary!.soakUntil!);
    // The agents' own logs: lb-a applied and acked before lb-b's assignment was written, which lb-b then
    // fetched; the soak lies between.
    const aAcked = await agentLogged('lb-a', 'ruleSetAcked', set.serial);
    const bFetched = await agentLogged('lb-b', 'assignmentFetched', set.serial);
    expect(aAcked).toMatchObject({ result: 'applied', hash: set.hash });
    expect(await agentLogged('lb-b', 'ruleSetAcked', set.serial)).toMatchObject({
      result: 'applied',
      hash: set.hash,
    });
    expect(aAcked.time).toBeLessThanOrEqual(batch!.assignedAt!);
    expect(bFetched.time).toBeGreaterThanOrEqual(batch!.assignedAt!);
    expect(bFetched.time - aAcked.time).toBeGreaterThanOrEqual(1000);

    await runningEverywhere({ 'lb-a': set, 'lb-b': set });
    for (const n of nodes) {
      const { ruleSet } = await get<{ ruleSet: RuleSetState }>(`/api/v1/nodes/${n.name}`);
      expect(ruleSet).toMatchObject({ sync: 'synced', assigned: { serial: set.serial, hash: set.hash } });
    }
    await waitFor('V3 advertised by both nodes and at both routers', async () =>
      (await advertisedBy(V3)).length === 2 &&
      Object.values(await routers()).every((routes) => routes.includes(V3))
        ? true
        : undefined,
    );
  });

  it('rolls back by itself when a node rejects the rule set (a backend its HAProxy lacks, forced past the guard), and no route moves at the routers', async () => {
    const good = (await running())['lb-a']!;
    expect((await running())['lb-b']).toEqual(good);
    const routesBefore = await routers();
    const logBefore = await routeLogLengths();
    const set = await upload(`${BASE_RULES}${ip(V3)} = any(b:be_app, b:be_b)\n`, 'V3 also on be_b');
    const strategy = { canary: { count: 1 }, batch: { size: 1 }, soakMs: 500, ackTimeoutMs: 15_000 };

    // Each health report carries its HAProxy's proxy names (from the agent's last full read): lb-b lacks
    // be_b, which blocks; lb-a has it, so nothing blocks there.
    const blocked = await call('POST', '/api/v1/rollouts', { serial: set.serial, strategy });
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.code).toBe('ROLLOUT_BLOCKED');
    expect(blocked.body.error.whatIf.guard.blockers).toEqual([
      { kind: 'unknownProxies', node: 'lb-b', proxies: ['b:be_b'] },
    ]);
    expect((await call('GET', '/api/v1/rollouts')).body.active).toBeNull();

    const reason = 'be_b is being added to lb-b';
    const res = await call('POST', '/api/v1/rollouts', { serial: set.serial, strategy, force: reason });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.guard.forced).toEqual({ by: 'e2e', reason });
    const rollbackTo = (res.body.rollout as RolloutRecord).rollbackTo!;
    expect(rollbackTo).toMatchObject({ of: good.serial, hash: good.hash });

    const done = await settle(res.body.rollout.id);
    expect(done.status).toBe('rolledBack');
    expect(done.stop).toMatchObject({ cause: 'rejected', nodes: ['lb-b'] });
    expect(done.rejected).toEqual([
      expect.objectContaining({ node: 'lb-b', code: 'RULESET_UNKNOWN_PROXIES' }),
    ]);
    // The canary had taken the rule set: the rollback goes to both nodes.
    expect(done.steps[0]!.applied).toEqual(['lb-a']);
    expect(done.rollback).toMatchObject({ serial: rollbackTo.serial, nodes: ['lb-a', 'lb-b'] });
    expect([...done.rollback!.applied].sort()).toEqual(['lb-a', 'lb-b']);
    expect(await agentLogged('lb-a', 'ruleSetAcked', set.serial)).toMatchObject({ result: 'applied' });
    expect(await agentLogged('lb-b', 'ruleSetAcked', set.serial)).toMatchObject({
      result: 'rejected',
      code: 'RULESET_UNKNOWN_PROXIES',
    });

    // Both run the rollback's serial: lb-b, which never left the rules rolled back to, takes the same
    // rules re-issued at the higher serial it acked (and shows synced).
    await runningEverywhere({
      'lb-a': { serial: rollbackTo.serial, hash: good.hash },
      'lb-b': { serial: rollbackTo.serial, hash: good.hash },
    });
    // Every route change the nodes sent has reached the routers, and none was sent: no healthy route was
    // withdrawn, none added, on the way there or back.
    for (const n of nodes) await routerCaughtUp(n.pair);
    expect(await routers()).toEqual(routesBefore);
    for (const n of nodes) expect(await routeLogSince(n.name, logBefore[n.name]!)).toEqual([]);
  });

  it('rolls back by itself when the canary withdraws a VIP the what-if kept (a backend of its new rule goes down), and the rollback brings the VIP back', async () => {
    const good = (await running())['lb-a']!;
    const logBefore = await routeLogLengths();
    const set = await upload(
      `${ip(V1)} = all(f:fe_web, b:be_app, b:be_two)\n${ip(V2)} = any(b:be_app, b:be_two)\n${ip(V3)} = all(b:be_app)\n`,
      'V1 needs be_two too',
    );
    // be_two is up on both nodes: the what-if keeps V1 on both, nothing blocks.
    const res = await call('POST', '/api/v1/rollouts', {
      serial: set.serial,
      strategy: { canary: { count: 1 }, batch: { size: 1 }, soakMs: 5000, ackTimeoutMs: 15_000 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.guard.blockers).toEqual([]);
    const id = res.body.rollout.id as string;
    const soaking = await waitFor('the canary to apply and soak', async () => {
      const r = await rollout(id);
      return r.status === 'soaking' ? r : undefined;
    });
    expect(soaking.steps[0]!.applied).toEqual(['lb-a']);

    const a = node('lb-a');
    try {
      expect(await a.haproxy.command('disable server be_two/s1')).toBe('\n');
      const done = await settle(id);
      expect(done.status).toBe('rolledBack');
      expect(done.stop).toMatchObject({ cause: 'vipLost', nodes: ['lb-a'], vip: vipId(V1) });
      // Stopped during the canary's soak: the other node was never assigned the rule set.
      expect(done.stop!.at).toBeLessThan(soaking.steps[0]!.soakUntil!);
      expect(done.steps[1]!.assignedAt).toBeNull();
      expect(done.rollback).toMatchObject({
        serial: soaking.rollbackTo!.serial,
        hash: good.hash,
        nodes: ['lb-a'],
        applied: ['lb-a'],
      });
      expect(logged('lb-b', 'assignmentFetched', set.serial)).toBeUndefined();
      await runningEverywhere({
        'lb-a': { serial: soaking.rollbackTo!.serial, hash: good.hash },
        'lb-b': { hash: good.hash },
      });
      // Under the rules rolled back to V1 does not need be_two: lb-a advertises it again, be_two still down.
      await waitFor('V1 advertised by both nodes again', async () =>
        (await advertisedBy(V1)).length === 2 && (await a.pair.routerRoutes()).includes(V1)
          ? true
          : undefined,
      );
      await routerCaughtUp(a.pair);
      expect(await routeLogSince('lb-a', logBefore['lb-a']!)).toEqual([`removed ${V1}`, `added ${V1}`]);
      expect(await routeLogSince('lb-b', logBefore['lb-b']!)).toEqual([]);
    } finally {
      await a.haproxy.command('enable server be_two/s1');
    }
  });

  it('an agent killed after the rollout planned it, restarted within the ack timeout, reads its assignment at start and acks: the rollout completes', async () => {
    const set = await upload(`${BASE_RULES}${ip(V3)} = all(b:be_app)\n${ip(V4)} = all(b:be_app)\n`, 'add V4');
    const res = await call('POST', '/api/v1/rollouts', {
      serial: set.serial,
      strategy: { canary: { count: 1 }, batch: { size: 1 }, soakMs: 8000, ackTimeoutMs: 20_000 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.rollout.id as string;
    expect(res.body.rollout.steps.map((s: { nodes: string[] }) => s.nodes)).toEqual([['lb-a'], ['lb-b']]);

    const b = node('lb-b');
    await b.agent.stop('SIGKILL');
    await waitFor(
      'lb-b to be lost, with its alert open',
      async () => {
        const lost = (await summaries()).find((s) => s.name === 'lb-b')?.state === 'lost';
        const { alerts } = await get<{ alerts: { kind: string; subject: string }[] }>('/api/v1/alerts');
        return lost && alerts.some((x) => x.kind === 'nodeLost' && x.subject === 'lb-b') ? true : undefined;
      },
      3 * HEARTBEAT_MS + 5000,
    );
    // Lost before its step came: the canary is still soaking.
    const meanwhile = await rollout(id);
    expect(meanwhile.status, JSON.stringify(meanwhile.stop)).toBe('soaking');
    expect(meanwhile.steps[1]!.assignedAt).toBeNull();

    const assigned = await waitFor(
      "lb-b's step to be assigned",
      async () => {
        const r = await rollout(id);
        return r.steps[1]!.assignedAt !== null ? r : undefined;
      },
      15_000,
    );
    expect(assigned.status).toBe('batch');
    b.agent = await startAgent(b);
    expect(Date.now()).toBeLessThan(assigned.steps[1]!.ackDueAt!);

    const done = await settle(id);
    expect(done.status).toBe('completed');
    expect(done.stop).toBeNull();
    expect(done.steps[1]!.applied).toEqual(['lb-b']);
    // The restarted agent read assign.lb-b when it connected (its slow poll is 10 minutes).
    expect(await agentLogged('lb-b', 'assignmentFetched', set.serial)).toMatchObject({ trigger: 'connect' });
    expect(await agentLogged('lb-b', 'ruleSetAcked', set.serial)).toMatchObject({
      result: 'applied',
      hash: set.hash,
    });
    await runningEverywhere({ 'lb-a': set, 'lb-b': set });
    await waitFor('V4 advertised by both nodes and at both routers', async () =>
      (await advertisedBy(V4)).length === 2 &&
      Object.values(await routers()).every((routes) => routes.includes(V4))
        ? true
        : undefined,
    );
  });

  it('an agent stopped (SIGTERM) before the rollout is planned is left out of its steps, assigned the rule set once it completes, and converges when it comes back', async () => {
    const b = node('lb-b');
    await b.agent.stop('SIGTERM');
    // A clean stop withdraws the node's routes first.
    await waitFor("lb-b's router to lose every VIP", async () =>
      (await b.pair.routerRoutes()).length === 0 ? true : undefined,
    );
    await waitFor(
      'lb-b to be lost',
      async () => ((await summaries()).find((s) => s.name === 'lb-b')?.state === 'lost' ? true : undefined),
      3 * HEARTBEAT_MS + 5000,
    );
    const set = await upload(
      `${BASE_RULES}${ip(V3)} = all(b:be_app)\n${ip(V4)} = all(b:be_app)\n${ip(V5)} = all(b:be_app)\n`,
      'add V5',
    );
    const res = await call('POST', '/api/v1/rollouts', {
      serial: set.serial,
      strategy: { canary: { count: 1 }, batch: { size: 1 }, soakMs: 500, ackTimeoutMs: 15_000 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.skipped).toEqual(['lb-b']);
    expect(res.body.rollout.steps.map((s: { nodes: string[] }) => s.nodes)).toEqual([['lb-a']]);
    const done = await settle(res.body.rollout.id);
    expect(done.status).toBe('completed');
    expect(done.absent).toEqual(['lb-b']);
    await waitFor('lb-b assigned the rule set', async () => {
      const { ruleSet } = await get<{ ruleSet: RuleSetState }>('/api/v1/nodes/lb-b');
      return ruleSet.assigned?.serial === set.serial ? true : undefined;
    });

    b.agent = await startAgent(b);
    await runningEverywhere({ 'lb-a': set, 'lb-b': set });
    expect(await agentLogged('lb-b', 'assignmentFetched', set.serial)).toMatchObject({ trigger: 'connect' });
    expect(await agentLogged('lb-b', 'ruleSetAcked', set.serial)).toMatchObject({
      result: 'applied',
      hash: set.hash,
    });
    const { ruleSet } = await get<{ ruleSet: RuleSetState }>('/api/v1/nodes/lb-b');
    expect(ruleSet.sync).toBe('synced');
    await waitFor('V5 advertised by both nodes and at both routers', async () =>
      (await advertisedBy(V5)).length === 2 &&
      Object.values(await routers()).every((routes) => routes.includes(V5))
        ? true
        : undefined,
    );
  });
});
