import type { RuleSetAck } from '@rhi/contracts';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { applyRolloutEvent, createRollout } from '../src/rollout/rollout-machine.js';
import { RolloutRunner, type FleetReading } from '../src/rollouts/rollout-runner.js';
import { MemoryEffects, MemoryStore } from './support/memory-rollout-store.js';
import { NEW, newRollout, T } from './support/rollout.js';

// The runner over an in-memory store and effects: what it writes, in what order, and what it does when a
// write conflicts, an effect fails, or another replica drove the rollout before.

const quiet: FleetReading = { vips: [], vipNodes: () => [], alerts: [] };

function setup(
  owner = 'replica-a',
  foresee: () => Promise<(node: string, vip: string) => boolean> = async () => () => false,
) {
  const store = new MemoryStore();
  const effects = new MemoryEffects();
  const acks = new Map<string, RuleSetAck>();
  let now = T;
  let fleet: FleetReading = quiet;
  const runner = new RolloutRunner({
    store,
    effects,
    owner,
    now: () => now,
    ackOf: (node) => acks.get(node),
    fleet: () => fleet,
    foresee,
    logger: pino({ level: 'silent' }),
  });
  const ack = (node: string, result: 'applied' | 'rejected' = 'applied', serial = 10, hash = NEW) =>
    acks.set(node, {
      schema: 'rhi.v1.ruleset.ack',
      node,
      serial,
      hash,
      result,
      ...(result === 'rejected'
        ? { reason: 'b:be_x is not in this HAProxy', code: 'RULESET_UNKNOWN_PROXIES' }
        : {}),
      time: new Date(now).toISOString(),
    });
  return {
    store,
    effects,
    runner,
    ack,
    at: (t: number) => (now = t),
    setFleet: (f: FleetReading) => (fleet = f),
  };
}

/** A rollout started by the API of a replica (no owner yet), stored as the one under way. */
async function started(store: MemoryStore, soakMs = 0) {
  const input = newRollout({ owner: null });
  const created = createRollout({ ...input, strategy: { ...input.strategy, soakMs } });
  const record = applyRolloutEvent(created.state, { type: 'start', now: T, by: 'alice' }).state;
  await store.create(record);
  return record;
}

const stepNodes = (e: MemoryEffects) => e.assigned.map((a) => a.node);

describe('RolloutRunner', () => {
  it('does nothing without a rollout under way', async () => {
    const { runner, store } = setup();
    expect(await runner.step()).toBeNull();
    expect(store.writes).toEqual([]);
  });

  it('takes the rollout, does its outbox, then writes it done; the next step moves on the acks', async () => {
    const { runner, store, effects, ack, at } = setup();
    await started(store);
    const first = await runner.step();
    expect(first).toMatchObject({ owner: 'replica-a', status: 'canary', outbox: [] });
    expect(stepNodes(effects)).toEqual(['c1']);
    expect(effects.assigned[0]).toMatchObject({
      serial: 10,
      hash: NEW,
      rollout: 'r-1',
      assignedAt: new Date(T).toISOString(),
    });
    expect(effects.published.map((e) => e.action)).toEqual(['created', 'started', 'stepAssigned']);
    // Two writes: the takeover, then the outbox done; the effects in between.
    expect(store.writes.map((w) => w.outbox.length)).toEqual([4, 0]);

    at(T + 1000);
    ack('c1');
    const second = await runner.step();
    expect(second).toMatchObject({ status: 'batch', step: 1 });
    expect(stepNodes(effects)).toEqual(['c1', 'b1', 'b2']);
  });

  it('redoes the whole outbox at the next step when an effect failed, and writes nothing done before', async () => {
    const { runner, store, effects } = setup();
    await started(store);
    effects.failNext = true;
    await expect(runner.step()).rejects.toThrow('NATS went away');
    expect(store.records.get('r-1')!.record.outbox.length).toBe(4);
    await runner.step();
    expect(store.records.get('r-1')!.record.outbox).toEqual([]);
    expect(stepNodes(effects)).toEqual(['c1']);
    // The timeline entries published before the failure are published again: the Nats-Msg-Id drops them.
    expect(effects.published.map((e) => e.seq)).toEqual([1, 2, 1, 2, 4]);
  });

  it('leaves a write that conflicts to the next step, which reads the record again', async () => {
    const { runner, store, effects } = setup();
    await started(store);
    store.conflictNext = true;
    expect(await runner.step()).toBeNull();
    expect(effects.assigned).toEqual([]);
    await runner.step();
    expect(stepNodes(effects)).toEqual(['c1']);
  });

  it('takes over a rollout another replica drove, doing what that one left in the outbox', async () => {
    const { store } = setup();
    await started(store);
    const a = setup('replica-a');
    a.store.records = store.records;
    a.store.activeId = 'r-1';
    a.effects.failNext = true;
    await expect(a.runner.step()).rejects.toThrow();
    const b = setup('replica-b');
    b.store.records = store.records;
    b.store.activeId = 'r-1';
    const r = await b.runner.step();
    expect(r).toMatchObject({ owner: 'replica-b', outbox: [] });
    expect(stepNodes(b.effects)).toEqual(['c1']);
    expect(b.effects.published.map((e) => e.action)).toEqual([
      'created',
      'started',
      'stepAssigned',
      'takeover',
    ]);
  });

  it('rolls back on a rejection and gives up the claim once the rollback is applied', async () => {
    const { runner, store, effects, ack, at } = setup();
    await started(store);
    await runner.step();
    at(T + 500);
    ack('c1', 'rejected');
    const stopped = await runner.step();
    expect(stopped).toMatchObject({ status: 'rollingBack', stop: { cause: 'rejected', nodes: ['c1'] } });
    expect(effects.assigned.at(-1)).toMatchObject({ node: 'c1', serial: 11 });
    expect(effects.published.map((e) => e.alert).filter(Boolean)).toEqual([
      'ruleSetRejected',
      'rolloutStopped',
    ]);
    expect(store.activeId).toBe('r-1');
    at(T + 900);
    ack('c1', 'applied', 11, 'b'.repeat(64));
    expect(await runner.step()).toMatchObject({ status: 'rolledBack' });
    expect(store.activeId).toBeNull();
  });

  it('stops on a VIP lost through a node that got the rule set, against the baseline taken when it began', async () => {
    const { runner, store, ack, at, setFleet } = setup();
    const vip = 'vol1%198.18.200.1/32';
    setFleet({ vips: [{ id: vip, advertisers: 4 }], vipNodes: () => [], alerts: [] });
    await started(store, 60_000);
    await runner.step();
    at(T + 1000);
    ack('c1');
    expect(await runner.step()).toMatchObject({ status: 'soaking' });
    at(T + 2000);
    setFleet({
      vips: [{ id: vip, advertisers: 3 }],
      vipNodes: () => [{ node: 'c1', state: 'withdrawn', since: new Date(T + 1500).toISOString() }],
      alerts: [],
    });
    expect(await runner.step()).toMatchObject({
      status: 'rollingBack',
      stop: { cause: 'vipLost', vip, nodes: ['c1'] },
    });
  });

  it('says when a step moved the rollout, so that the next comes at once, and not when it idled', async () => {
    const { runner, store, ack, at } = setup();
    await started(store);
    await runner.step();
    expect(runner.moved).toBe(true);
    await runner.step();
    expect(runner.moved).toBe(false);
    at(T + 1000);
    ack('c1');
    await runner.step();
    expect(runner.moved).toBe(true);
  });

  it('assigns the first step without waiting for the what-if, and judges no health until it has it', async () => {
    let resolve: (f: (node: string, vip: string) => boolean) => void = () => undefined;
    const pending = new Promise<(node: string, vip: string) => boolean>((r) => (resolve = r));
    const { runner, store, effects, ack, at, setFleet } = setup('replica-a', () => pending);
    const vip = 'vol1%198.18.200.1/32';
    setFleet({ vips: [{ id: vip, advertisers: 4 }], vipNodes: () => [], alerts: [] });
    await started(store, 0);
    await runner.step();
    expect(stepNodes(effects)).toEqual(['c1']);
    at(T + 1000);
    ack('c1');
    setFleet({
      vips: [{ id: vip, advertisers: 3 }],
      vipNodes: () => [{ node: 'c1', state: 'withdrawn', since: new Date(T + 500).toISOString() }],
      alerts: [],
    });
    // Soaked (no soak), but not judged healthy nor lost while the what-if runs.
    expect(await runner.step()).toMatchObject({ status: 'soaking' });
    expect(await runner.step()).toMatchObject({ status: 'soaking' });
    resolve(() => false);
    await pending;
    expect(await runner.step()).toMatchObject({ status: 'rollingBack', stop: { cause: 'vipLost' } });
  });
});
