import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  jetstream as names,
  OperatorActionSchema,
  publicKeyFrom,
  RolloutTimelineEventSchema,
  ruleSetKeys,
  subjects,
  type RolloutRecord,
  type RolloutTimelineEvent,
} from '@rhi/contracts';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/rhictl.js';
import { ControllerConfigSchema } from '../src/config/schema.js';
import { writeKeyPair } from '../src/config/signing-key.js';
import { tokenHash } from '../src/http/auth.js';
import { ControllerRuntime } from '../src/runtime.js';
import { SimulatedAgent, type SimulatedAgentOptions } from './support/simulated-agent.js';
import { route, withdrawn } from './support/statuses.js';

// Staged rollouts driven by real controller replicas over a real nats-server (JetStream), to simulated
// agents made of real NATS clients that check each rule set's signature as the agent does: canary then
// batches, automatic rollback on a rejection, a silent node and a lost advertiser, the guard, pause,
// resume and abort, and a replica killed in the middle of a rollout.

const OPERATOR = 'operator-token-of-some-length';
const VIP = '198.18.220.1/32';
const TERMINAL = ['completed', 'rolledBack', 'aborted', 'failed'];

describe('rollouts on a real nats-server', () => {
  let nats: NatsInstance;
  let nc: NatsConnection;
  let kv: KV;
  let dir: string;
  let trusted: Map<string, ReturnType<typeof publicKeyFrom>>;
  const replicas: ControllerRuntime[] = [];
  let agents: SimulatedAgent[] = [];
  let version = 0;
  /** Each test has agents of its own (names and a `run` label its rollouts target): those of the tests before are still up for a while. */
  let run = 0;
  const node = (i: number) => agents[i - 1]!.node;

  const start = async () => {
    const config = ControllerConfigSchema.parse({
      nats: { servers: [nats.url], user: nats.user, password: nats.password },
      api: {
        listen: '127.0.0.1:0',
        tokens: [{ name: 'alice', role: 'operator', sha256: tokenHash(OPERATOR) }],
      },
      rules: { signingKey: join(dir, 'signing.key'), keyId: 'ops-2026' },
      fleet: { heartbeatMs: 1000, leaseTtlMs: 1500, rolloutTickMs: 50 },
    });
    const r = await ControllerRuntime.start({
      config,
      logger: pino({ level: (process.env.RHI_TEST_LOG as 'info') ?? 'silent' }),
      version: 'test',
    });
    replicas.push(r);
    await waitFor('the replica to reach NATS', async () => {
      const res = await fetch(`http://127.0.0.1:${r.address?.port}/healthz`);
      return res.status === 200 ? true : undefined;
    });
    return r;
  };
  const call = async (r: ControllerRuntime, method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${r.address?.port}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${OPERATOR}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // The answers are read deep and checked by the assertions themselves.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  /** Stores a new rule set (each version names one more VIP, so that every hash differs). */
  const upload = async (r: ControllerRuntime, rule = 'all(b:be_app)', vip = '198.18.220.1') => {
    version++;
    const source = `${vip} = ${rule}\n198.18.221.${version} = all(b:be_app)\n`;
    const res = await call(r, 'POST', '/api/v1/rulesets', { source, message: `version ${version}` });
    expect(res.status).toBe(201);
    return res.body.ruleset as { serial: number; hash: string };
  };
  const fleet = async (n: number, over: (name: string) => Partial<SimulatedAgentOptions> = () => ({})) => {
    agents = [];
    run++;
    for (let i = 1; i <= n; i++)
      agents.push(
        await SimulatedAgent.start(nats, `t${run}-lb-${i}`, {
          trusted,
          labels: { site: 'par1', run: `t${run}` },
          ...over(`lb-${i}`),
        }),
      );
  };
  const inView = (r: ControllerRuntime) =>
    waitFor('every agent in the view', () =>
      agents.every((a) => r.view.node(a.node)) && agents.every((a) => r.health.get(a.node))
        ? true
        : undefined,
    );
  const settle = (r: ControllerRuntime, id: string, timeoutMs = 20_000) =>
    waitFor(
      `rollout ${id} to end`,
      async () => {
        const res = await call(r, 'GET', `/api/v1/rollouts/${id}`);
        const rollout = res.body.rollout as RolloutRecord;
        return TERMINAL.includes(rollout.status) && rollout.outbox.length === 0 ? rollout : undefined;
      },
      timeoutMs,
      50,
    );
  const rolloutEvents = async (id: string): Promise<RolloutTimelineEvent[]> => {
    const js = jetstream(nc);
    const consumer = await js.consumers.get(names.eventsStream, {
      filter_subjects: subjects.rolloutEvents,
    });
    const out: RolloutTimelineEvent[] = [];
    const info = await consumer.info();
    let left = info.num_pending;
    while (left > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(left, 500), expires: 2000 });
      for await (const m of batch) {
        left = m.info.pending;
        const e = RolloutTimelineEventSchema.parse(m.json());
        if (e.rollout === id) out.push(e);
      }
    }
    return out;
  };
  /** The `rollout` changes of the live stream, read until `until` is true of the last one. */
  const streamed = async (r: ControllerRuntime, until: (p: { status: string }) => boolean) => {
    const res = await fetch(`http://127.0.0.1:${r.address?.port}/api/v1/stream`, {
      headers: { authorization: `Bearer ${OPERATOR}` },
    });
    const reader = res.body!.getReader();
    const seen: { id: string; status: string; revision: number }[] = [];
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        if (!block.includes('event: rollout')) continue;
        const data = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { data: (typeof seen)[number] };
        seen.push(data.data);
        if (until(data.data)) {
          await reader.cancel();
          return seen;
        }
      }
    }
    return seen;
  };
  const rhictl = async (r: ControllerRuntime, args: string[]) => {
    let out = '';
    let err = '';
    const code = await main(
      [...args],
      { RHICTL_URL: `http://127.0.0.1:${r.address?.port}`, RHICTL_TOKEN: OPERATOR },
      { write: (t) => void (out += t) },
      { write: (t) => void (err += t) },
    );
    return { code, out, err };
  };
  const lead = async () => waitFor('a replica to hold the lease', () => replicas.find((r) => r.leaseHeld));

  beforeAll(async () => {
    nats = await startNats();
    dir = await mkdtemp(join(tmpdir(), 'rhi-rollouts-'));
    const { publicFile } = await writeKeyPair(join(dir, 'signing'));
    trusted = new Map([['ops-2026', publicKeyFrom(await readFile(publicFile, 'utf8'))]]);
    nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    await start();
    kv = await new Kvm(nc).open(names.ruleSetBucket);
  }, 30_000);

  afterEach(async () => {
    for (const a of agents) await a.stop();
    agents = [];
  });

  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await nc?.close();
    await nats?.stop();
  });

  it('rolls out canary first, then batches, each gated on every ack and the soak; all in the timeline', async () => {
    const r = await lead();
    await fleet(4);
    await inView(r);
    const set = await upload(r);
    const res = await call(r, 'POST', '/api/v1/rollouts', {
      target: `run=t${run}`,
      serial: set.serial,
      message: 'first rules',
      strategy: { canary: { count: 1 }, batch: { size: 2 }, soakMs: 300, ackTimeoutMs: 10_000 },
    });
    expect(res.status).toBe(201);
    const id = res.body.rollout.id as string;
    expect(res.body.rollout.steps.map((s: { nodes: string[] }) => s.nodes)).toEqual([
      [node(1)],
      [node(2), node(3)],
      [node(4)],
    ]);
    // Nothing else runs while one is under way.
    const second = await call(r, 'POST', '/api/v1/rollouts', { serial: set.serial, target: `run=t${run}` });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('ROLLOUT_BUSY');

    const live = streamed(r, (p) => p.status === 'completed');
    const done = await settle(r, id);
    expect(done.status).toBe('completed');
    for (const a of agents) expect(a.running).toEqual({ serial: set.serial, hash: set.hash });
    // Its progress went out on the live stream as it moved, as counts.
    const progress = await live;
    expect(progress.at(-1)).toMatchObject({
      id,
      status: 'completed',
      steps: [
        { nodes: 1, applied: 1 },
        { nodes: 2, applied: 2 },
        { nodes: 1, applied: 1 },
      ],
    });
    expect(new Set(progress.map((p) => p.status))).toContain('soaking');
    // The canary applied and soaked before the first batch was assigned.
    const [canary, batch] = done.steps;
    expect(batch!.assignedAt!).toBeGreaterThanOrEqual(canary!.soakUntil!);
    for (const a of agents) {
      const e = await kv.get(ruleSetKeys.assignment(a.node));
      expect(e?.json()).toMatchObject({ serial: set.serial, rollout: id });
    }
    const events = await rolloutEvents(id);
    expect(events.map((e) => e.action)).toEqual([
      'created',
      'started',
      'stepAssigned',
      'stepApplied',
      'stepCompleted',
      'stepAssigned',
      'stepApplied',
      'stepCompleted',
      'stepAssigned',
      'stepApplied',
      'stepCompleted',
      'completed',
    ]);
    expect(events[0]).toMatchObject({ by: 'alice', reason: 'first rules', serial: set.serial });
    expect(new Set(events.map((e) => e.seq)).size).toBe(events.length);
    await waitFor('the active claim given back', async () =>
      (await call(r, 'GET', '/api/v1/rollouts')).body.active === null ? true : undefined,
    );
  });

  it('stops at a rejection and rolls every node that got the rule set back to the last good one', async () => {
    const r = await lead();
    const good = await upload(r);
    await fleet(4, (n) => ({ running: good, behaviour: n === 'lb-3' ? 'rejectOnce' : 'apply' }));
    await inView(r);
    const next = await upload(r);
    const res = await call(r, 'POST', '/api/v1/rollouts', {
      target: `run=t${run}`,
      serial: next.serial,
      strategy: { canary: { count: 1 }, batch: { size: 2 }, soakMs: 0, ackTimeoutMs: 10_000 },
    });
    expect(res.status).toBe(201);
    const rollout = res.body.rollout as RolloutRecord;
    expect(rollout.rollbackTo).toMatchObject({ of: good.serial, hash: good.hash });
    expect(rollout.rollbackTo!.serial).toBeGreaterThan(next.serial);
    const done = await settle(r, rollout.id);
    expect(done.status).toBe('rolledBack');
    expect(done.stop).toMatchObject({ cause: 'rejected', nodes: [node(3)] });
    expect(done.rejected[0]).toMatchObject({ node: node(3), code: 'RULESET_UNKNOWN_PROXIES' });
    const copy = rollout.rollbackTo!;
    for (const a of agents.slice(0, 3)) expect(a.running).toEqual({ serial: copy.serial, hash: good.hash });
    // The last batch was never assigned.
    expect(agents[3]!.running).toEqual(good);
    const copyRecord = await call(r, 'GET', `/api/v1/rulesets/${copy.serial}`);
    expect(copyRecord.body.ruleset).toMatchObject({ copyOf: good.serial, author: 'controller' });
    const actions = (await rolloutEvents(rollout.id)).map((e) => e.action ?? e.alert);
    expect(actions).toEqual(
      expect.arrayContaining([
        'nodeRejected',
        'ruleSetRejected',
        'stopped',
        'rolloutStopped',
        'rollbackAssigned',
        'rolledBack',
      ]),
    );
  });

  it('stops when a node of the step never acks, and fails when it does not ack the rollback either', async () => {
    const r = await lead();
    const good = await upload(r);
    await fleet(3, (n) => ({ running: good, behaviour: n === 'lb-2' ? 'silent' : 'apply' }));
    await inView(r);
    const next = await upload(r);
    const res = await call(r, 'POST', '/api/v1/rollouts', {
      target: `run=t${run}`,
      serial: next.serial,
      strategy: { canary: null, batch: { size: 3 }, soakMs: 0, ackTimeoutMs: 800 },
    });
    const done = await settle(r, res.body.rollout.id);
    expect(done.stop).toMatchObject({ cause: 'ackTimeout', nodes: [node(2)] });
    expect(done.status).toBe('failed');
    expect(done.failure).toMatchObject({ cause: 'rollbackAckTimeout', nodes: [node(2)] });
    expect(done.rollback!.applied.sort()).toEqual([node(1), node(3)]);
  });

  it('rolls back when a node that got the new rules stops advertising a VIP the what-if kept', async () => {
    const r = await lead();
    const good = await upload(r);
    let bad = 0;
    await fleet(3, (n) => ({
      running: good,
      routes: (serial) => [
        n === 'lb-1' && serial === bad
          ? withdrawn(VIP, { since: new Date().toISOString() })
          : route(VIP, { since: new Date(Date.now() - 60_000).toISOString() }),
      ],
    }));
    await inView(r);
    const next = await upload(r);
    bad = next.serial;
    const res = await call(r, 'POST', '/api/v1/rollouts', {
      target: `run=t${run}`,
      serial: next.serial,
      strategy: { canary: { count: 1 }, batch: { size: 2 }, soakMs: 1000, ackTimeoutMs: 10_000 },
    });
    const done = await settle(r, res.body.rollout.id);
    expect(done.status).toBe('rolledBack');
    expect(done.stop).toMatchObject({ cause: 'vipLost', nodes: [node(1)], vip: `vol1%${VIP}` });
    expect(done.steps[1]!.assignedAt).toBeNull();
    await waitFor('lb-1 advertising again in the view', () =>
      r.view.vip(`vol1%${VIP}`)?.nodes.filter((n) => n.state === 'advertising').length === 3
        ? true
        : undefined,
    );
  });

  it('refuses a rule set the guard blocks, changing no node, unless forced with a reason that is recorded', async () => {
    const r = await lead();
    const own = '198.18.225.1';
    const good = await upload(r, 'all(b:be_app)', own);
    await fleet(2, () => ({
      running: good,
      routes: () => [route(`${own}/32`, { since: new Date().toISOString() })],
    }));
    await inView(r);
    const before = await Promise.all(agents.map((a) => kv.get(ruleSetKeys.assignment(a.node))));
    // be_missing is in no health report: unverified, taken as down, so both nodes would withdraw the VIP.
    const next = await upload(r, 'all(b:be_missing)', own);
    const refused = await call(r, 'POST', '/api/v1/rollouts', { serial: next.serial, target: `run=t${run}` });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('ROLLOUT_BLOCKED');
    expect(refused.body.error.whatIf.guard.blockers).toEqual([
      expect.objectContaining({ kind: 'belowMinimum', vip: `vol1%${own}/32`, before: 2, after: 0 }),
    ]);
    expect(refused.body.error.whatIf.guard.warnings.unverifiedProxies).toEqual([
      { node: node(1), proxies: ['b:be_missing'] },
      { node: node(2), proxies: ['b:be_missing'] },
    ]);
    const after = await Promise.all(agents.map((a) => kv.get(ruleSetKeys.assignment(a.node))));
    expect(after.map((e) => e?.revision ?? null)).toEqual(before.map((e) => e?.revision ?? null));
    expect((await call(r, 'GET', '/api/v1/rollouts')).body.active).toBeNull();

    const forced = await call(r, 'POST', '/api/v1/rollouts', {
      target: `run=t${run}`,
      serial: next.serial,
      force: 'be_missing is being added to HAProxy',
      strategy: { canary: null, soakMs: 0 },
    });
    expect(forced.status).toBe(201);
    expect(forced.body.guard.forced).toEqual({ by: 'alice', reason: 'be_missing is being added to HAProxy' });
    const events = await waitFor('the created entry', async () => {
      const e = await rolloutEvents(forced.body.rollout.id);
      return e.length > 0 ? e : undefined;
    });
    expect(events[0]!.reason).toContain('guard forced by alice: be_missing is being added to HAProxy');
    await settle(r, forced.body.rollout.id);
  });

  it('pauses, resumes and aborts by hand, each in the timeline with who did it', async () => {
    const r = await lead();
    const good = await upload(r);
    await fleet(2, () => ({ running: good }));
    await inView(r);
    const next = await upload(r);
    const res = await call(r, 'POST', '/api/v1/rollouts', {
      target: `run=t${run}`,
      serial: next.serial,
      strategy: { canary: { count: 1 }, batch: { size: 1 }, soakMs: 60_000, ackTimeoutMs: 10_000 },
    });
    const id = res.body.rollout.id as string;
    await waitFor('the canary soaking', async () =>
      (await call(r, 'GET', `/api/v1/rollouts/${id}`)).body.rollout.status === 'soaking' ? true : undefined,
    );
    const paused = await call(r, 'POST', `/api/v1/rollouts/${id}/pause`, { reason: 'lunch' });
    expect(paused.body.rollout.status).toBe('paused');
    const again = await call(r, 'POST', `/api/v1/rollouts/${id}/resume`, {});
    expect(again.body.rollout.status).toBe('soaking');
    const notPaused = await call(r, 'POST', `/api/v1/rollouts/${id}/resume`, {});
    expect(notPaused.status).toBe(200);
    const noReason = await call(r, 'POST', `/api/v1/rollouts/${id}/abort`, {});
    expect(noReason.status).toBe(400);
    const aborted = await call(r, 'POST', `/api/v1/rollouts/${id}/abort`, { reason: 'wrong VIP' });
    expect(aborted.body.rollout.status).toBe('rollingBack');
    const done = await settle(r, id);
    expect(done.status).toBe('rolledBack');
    expect(agents[0]!.running!.hash).toBe(good.hash);
    expect(agents[1]!.running).toEqual(good);
    const events = await rolloutEvents(id);
    const by = (action: string) => events.find((e) => e.action === action)?.by;
    expect([by('paused'), by('resumed'), by('stopped')]).toEqual(['alice', 'alice', 'alice']);
    const finished = await call(r, 'POST', `/api/v1/rollouts/${id}/pause`, {});
    expect(finished.status).toBe(409);
    expect(finished.body.error.code).toBe('ROLLOUT_NOT_RUNNING');
  });

  it('rhictl rules push --wait stores a file and follows its rollout to the end; a blocked push changes nothing', async () => {
    const r = await lead();
    const own = '198.18.226.1';
    const good = await upload(r, 'all(b:be_app)', own);
    await fleet(3, () => ({
      running: good,
      routes: () => [route(`${own}/32`, { since: new Date().toISOString() })],
    }));
    await inView(r);
    const rules = join(dir, 'edge.rules');
    await writeFile(rules, `${own} = all(b:be_app)\n198.18.222.1 = all(b:be_app)\n`);
    const pushed = await rhictl(r, [
      'rules',
      'push',
      rules,
      '-m',
      'add 222.1',
      '--target',
      `run=t${run}`,
      '--canary',
      '1',
      '--batch',
      '50%',
      '--soak',
      '200ms',
      '--wait',
    ]);
    expect(pushed.err).toMatch(/stored .*edge\.rules as serial \d+/);
    expect(pushed.out).toMatch(/: COMPLETED/);
    expect(pushed.out).toMatch(/step 0 canary +1 node +applied 1\/1 +done/);
    expect(pushed.code).toBe(0);
    const serial = Number(/as serial (\d+)/.exec(pushed.err)![1]);
    for (const a of agents) expect(a.running?.serial).toBe(serial);

    const broken = join(dir, 'missing.rules');
    await writeFile(broken, `${own} = all(b:be_missing)\n`);
    const blocked = await rhictl(r, ['rules', 'push', broken, '-m', 'oops', '--target', `run=t${run}`]);
    expect(blocked.code).toBe(1);
    expect(blocked.err).toContain('ROLLOUT_BLOCKED');
    expect(blocked.err).toContain(
      `belowMinimum: vol1%${own}/32 would keep 0 advertiser(s), its minimum is 1`,
    );
    expect(blocked.err).toContain('nothing was changed');
    for (const a of agents) expect(a.running?.serial).toBe(serial);

    const status = await rhictl(r, ['rollout', 'status']);
    expect(status.code).toBe(0);
    expect(status.out).toContain(`serial ${serial} to run=t${run}: COMPLETED`);
    const list = await rhictl(r, ['rollout', 'list']);
    expect(list.out.split('\n')[0]).toContain(`serial ${serial}`);
    const usage = await rhictl(r, ['rules', 'push', rules]);
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('-m MESSAGE');
  });

  it('rhictl rollout pause, abort and rules rollback --to: each by hand, exit 1 for a rollout stopped', async () => {
    const r = await lead();
    const good = await upload(r);
    await fleet(2, () => ({ running: good }));
    await inView(r);
    const next = await upload(r);
    const pushed = await rhictl(r, [
      'rules',
      'push',
      '--serial',
      String(next.serial),
      '--target',
      `run=t${run}`,
      '--canary',
      '1',
      '--soak',
      '1m',
    ]);
    expect(pushed.code).toBe(0);
    const id = /rollout (\S+) started/.exec(pushed.out)![1]!;
    await waitFor('the canary soaking', async () =>
      (await rhictl(r, ['rollout', 'status', id])).out.includes('SOAKING') ? true : undefined,
    );
    const paused = await rhictl(r, ['rollout', 'pause', '--reason', 'look first']);
    expect(paused.out).toContain('PAUSED (by alice: look first)');
    const noReason = await rhictl(r, ['rollout', 'abort']);
    expect(noReason.code).toBe(2);
    const aborted = await rhictl(r, ['rollout', 'abort', '--reason', 'not today']);
    expect(aborted.code).toBe(0);
    const watched = await rhictl(r, ['rollout', 'status', id, '--watch']);
    expect(watched.code).toBe(1);
    expect(watched.out).toContain('ROLLEDBACK');
    expect(watched.out).toContain('stopped (abort) by alice');

    const back = await rhictl(r, [
      'rules',
      'rollback',
      '--to',
      String(good.serial),
      '--target',
      `run=t${run}`,
      '--wait',
    ]);
    expect(back.code).toBe(0);
    expect(back.out).toContain('COMPLETED');
    for (const a of agents) expect(a.running!.hash).toBe(good.hash);
    expect(agents[0]!.running!.serial).toBeGreaterThan(next.serial);

    // The aborted rollout's nodes, rolled back by hand to the rules it rolled out.
    const again = await rhictl(r, [
      'rollout',
      'rollback',
      id,
      '--to',
      String(next.serial),
      '--reason',
      'it was fine',
    ]);
    expect(again.code).toBe(0);
    await waitFor('the canary on a copy of the rolled-out rules', () =>
      agents[0]!.running!.hash === next.hash ? true : undefined,
    );
    expect(agents[0]!.running!.serial).toBeGreaterThan(next.serial);
  });

  it('leaves a node that is lost out of the steps, assigns it once the rollout completes, and it converges when back', async () => {
    const r = await lead();
    const good = await upload(r);
    await fleet(3, () => ({ running: good }));
    await inView(r);
    const away = agents.pop()!;
    await away.stop();
    await waitFor(
      'the node lost',
      () => (r.view.node(away.node)?.summary.state === 'lost' ? true : undefined),
      10_000,
    );
    const next = await upload(r);
    const res = await call(r, 'POST', '/api/v1/rollouts', {
      target: `run=t${run}`,
      serial: next.serial,
      strategy: { canary: { count: 1 }, batch: { size: 1 }, soakMs: 0 },
    });
    expect(res.body.skipped).toEqual([away.node]);
    expect(res.body.rollout.absent).toEqual([away.node]);
    expect(res.body.rollout.steps.flatMap((s: { nodes: string[] }) => s.nodes)).not.toContain(away.node);
    const done = await settle(r, res.body.rollout.id);
    expect(done.status).toBe('completed');
    const e = await kv.get(ruleSetKeys.assignment(away.node));
    expect(e?.json()).toMatchObject({ serial: next.serial, rollout: done.id });
    const back = await SimulatedAgent.start(nats, away.node, {
      trusted,
      running: good,
      labels: { site: 'par1', run: `t${run}` },
    });
    agents.push(back);
    await waitFor('the node back on the new rules', () =>
      back.running?.serial === next.serial ? true : undefined,
    );
    const events = await rolloutEvents(done.id);
    expect(events.at(-1)).toMatchObject({ action: 'absentAssigned', nodes: [away.node] });
  });

  it('drains a node from the controller unless that takes a VIP’s last advertiser; undrains a label group; all in the timeline', async () => {
    const r = await lead();
    const own = '198.18.223.1/32';
    const ownId = `vol1%${own}`;
    await fleet(2, () => ({ routes: () => [route(own, { since: new Date().toISOString() })] }));
    await inView(r);
    await waitFor('both advertising', () => (r.view.vip(ownId)?.advertisers === 2 ? true : undefined));
    const one = await call(r, 'POST', `/api/v1/nodes/${node(1)}/drain`, { reason: 'kernel upgrade' });
    expect(one.status).toBe(200);
    expect(one.body.action.answers).toEqual([{ node: node(1), result: 'applied' }]);
    expect(agents[0]!.commands).toEqual([
      expect.objectContaining({ type: 'drain', reason: 'kernel upgrade' }),
    ]);
    await waitFor('the drain in the view', () => (r.view.vip(ownId)?.advertisers === 1 ? true : undefined));

    const blocked = await call(r, 'POST', `/api/v1/nodes/${node(2)}/drain`, {});
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.code).toBe('DRAIN_BLOCKED');
    expect(blocked.body.error.guard.blockers).toEqual([
      expect.objectContaining({
        kind: 'belowMinimum',
        vip: ownId,
        before: 1,
        after: 0,
        withdrawnBy: [node(2)],
      }),
    ]);
    expect(agents[1]!.commands).toEqual([]);
    const forced = await call(r, 'POST', `/api/v1/nodes/${node(2)}/drain`, {
      force: 'maintenance window 42',
    });
    expect(forced.status).toBe(200);
    expect(forced.body.action.forced).toEqual({ reason: 'maintenance window 42', blockers: 1 });

    const group = await call(r, 'POST', '/api/v1/undrain', { selector: `run=t${run}` });
    expect(group.status).toBe(200);
    expect(group.body.action.answers.map((a: { result: string }) => a.result)).toEqual([
      'applied',
      'applied',
    ]);
    expect(agents.map((a) => a.drained)).toEqual([null, null]);
    expect((await call(r, 'POST', `/api/v1/nodes/nowhere/drain`, {})).status).toBe(404);
    expect((await call(r, 'POST', '/api/v1/drain', { selector: 'run=none' })).body.error.code).toBe(
      'DRAIN_NO_NODES',
    );

    const js = jetstream(nc);
    const consumer = await js.consumers.get(names.eventsStream, {
      filter_subjects: subjects.operatorActions,
    });
    const actions = [];
    for await (const m of await consumer.fetch({ max_messages: 3, expires: 2000 })) {
      actions.push(OperatorActionSchema.parse(m.json()));
      if (m.info.pending === 0) break;
    }
    expect(actions.map((a) => [a.action, a.by, a.target])).toEqual([
      ['drain', 'alice', node(1)],
      ['drain', 'alice', node(2)],
      ['undrain', 'alice', `run=t${run}`],
    ]);

    const cli = await rhictl(r, ['drain', node(1), '--reason', 'disk swap']);
    expect(cli.code).toBe(0);
    expect(cli.out).toContain(`drain of ${node(1)} by alice: 1/1 node(s) applied`);
    await waitFor('the drain in the view', () => (r.view.vip(ownId)?.advertisers === 1 ? true : undefined));
    const refused = await rhictl(r, ['drain', node(2)]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('DRAIN_BLOCKED');
    expect(refused.err).toContain(`${ownId}: 1 -> 0 advertiser(s), minimum 1 (withdrawn by ${node(2)})`);
    const back = await rhictl(r, ['undrain', '--selector', `run=t${run}`]);
    expect(back.code).toBe(0);
    expect((await rhictl(r, ['drain'])).code).toBe(2);

    // A drain that waits for sessions: the agent is told how many and how long.
    const unbounded = await call(r, 'POST', `/api/v1/nodes/${node(1)}/drain`, { timeoutSec: 5 });
    expect(unbounded.status).toBe(400);
    expect(JSON.stringify(unbounded.body.error)).toContain('timeoutSec');
    expect((await rhictl(r, ['drain', node(1), '--timeout', '3'])).code).toBe(2);
    expect((await rhictl(r, ['drain', node(1), '--wait-sessions', 'lots'])).code).toBe(2);
    const waiting = await rhictl(r, ['drain', node(1), '--wait-sessions', '5', '--timeout', '30']);
    expect(waiting.code).toBe(0);
    expect(agents[0]!.commands.at(-1)).toMatchObject({ type: 'drain', waitSessions: 5, timeoutSec: 30 });
    expect((await rhictl(r, ['undrain', node(1)])).code).toBe(0);
  });

  it('is finished by another replica when the one driving it dies in the middle, no step done twice', async () => {
    const first = await lead();
    const other = await start();
    const good = await upload(first);
    await fleet(3, () => ({ running: good }));
    await inView(first);
    await inView(other);
    const next = await upload(first);
    const res = await call(other, 'POST', '/api/v1/rollouts', {
      target: `run=t${run}`,
      serial: next.serial,
      strategy: { canary: { count: 1 }, batch: { size: 1 }, soakMs: 1500, ackTimeoutMs: 10_000 },
    });
    const id = res.body.rollout.id as string;
    await waitFor('the canary soaking', async () =>
      (await call(other, 'GET', `/api/v1/rollouts/${id}`)).body.rollout.status === 'soaking'
        ? true
        : undefined,
    );
    await first.stop({ releaseLease: false });
    replicas.splice(replicas.indexOf(first), 1);
    const done = await settle(other, id, 30_000);
    expect(done.status).toBe('completed');
    expect(done.owner).toBe(other.replicaId);
    for (const a of agents) expect(a.running).toEqual({ serial: next.serial, hash: next.hash });
    const events = await rolloutEvents(id);
    const assigned = events.filter((e) => e.action === 'stepAssigned').map((e) => e.step);
    expect(assigned).toEqual([0, 1, 2]);
    expect(events.map((e) => e.action)).toContain('takeover');
    expect(new Set(events.map((e) => e.seq)).size).toBe(events.length);
  }, 60_000);
});
