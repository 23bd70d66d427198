import type { RuleSetAck, RuleSetRecord } from '@rhi/contracts';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { applyRolloutEvent, createRollout } from '../src/rollout/rollout-machine.js';
import { RolloutRunner } from '../src/rollouts/rollout-runner.js';
import { RolloutService } from '../src/rollouts/rollout-service.js';
import type { RuleSetService } from '../src/rulesets/rule-set-service.js';
import type { FleetView } from '../src/view/fleet-view.js';
import { MemoryEffects, MemoryStore } from './support/memory-rollout-store.js';
import { GOOD, NEW, newRollout, T } from './support/rollout.js';

// A rollback asked for by hand after a rollout ended, over an in-memory store, with a runner stepping in
// between each of the service's writes as another replica's would.

const COPY = 'd'.repeat(64);

function setup() {
  const store = new MemoryStore();
  const effects = new MemoryEffects();
  const acks = new Map<string, RuleSetAck>();
  let now = T;
  const runner = new RolloutRunner({
    store,
    effects,
    owner: 'replica-a',
    now: () => now,
    ackOf: (node) => acks.get(node),
    fleet: () => ({ vips: [], vipNodes: () => [], alerts: [] }),
    foresee: async () => () => false,
    logger: pino({ level: 'silent' }),
  });
  const ack = (node: string, result: 'applied' | 'rejected', serial: number, hash: string) =>
    acks.set(node, {
      schema: 'rhi.v1.ruleset.ack',
      node,
      serial,
      hash,
      result,
      ...(result === 'rejected' ? { reason: 'no', code: 'RULESET_UNKNOWN_PROXIES' } : {}),
      time: new Date(now).toISOString(),
    });
  const rulesets = {
    reissue: async (serial: number) => ({ serial: 12, hash: COPY, of: serial }) as unknown as RuleSetRecord,
  } as unknown as RuleSetService;
  const service = new RolloutService({
    store: () => store,
    rulesets,
    view: {} as FleetView,
    now: () => now,
  });
  /** r-1 rolled back after its canary c1 rejected serial 10; the claim given up. */
  const ended = async () => {
    const created = createRollout({ ...newRollout({ owner: null }) });
    await store.create(applyRolloutEvent(created.state, { type: 'start', now: T, by: 'alice' }).state);
    await runner.step();
    now = T + 500;
    ack('c1', 'rejected', 10, NEW);
    await runner.step();
    now = T + 900;
    ack('c1', 'applied', 11, GOOD);
    expect(await runner.step()).toMatchObject({ status: 'rolledBack' });
    expect(store.activeId).toBeNull();
  };
  return { store, effects, runner, service, ended };
}

describe('RolloutService.rollbackTo', () => {
  it('makes an ended rollout the one under way again, though a runner stepped in before its write landed', async () => {
    const { store, effects, runner, service, ended } = setup();
    await ended();
    let stepped = 0;
    store.beforeUpdate = async () => {
      stepped++;
      await runner.step();
    };
    const moved = await service.rollbackTo('r-1', 10, 'alice', 'it was fine');
    store.beforeUpdate = null;
    expect(stepped).toBeGreaterThan(0);
    expect(moved.status).toBe('rollingBack');
    expect(store.activeId).toBe('r-1');
    await runner.step();
    expect(effects.assigned.at(-1)).toMatchObject({ node: 'c1', serial: 12, hash: COPY });
  });

  it('refuses while another rollout is under way, and leaves the ended one as it was', async () => {
    const { store, service, ended } = setup();
    await ended();
    store.activeId = 'r-2';
    const before = store.records.get('r-1')!;
    await expect(service.rollbackTo('r-1', 10, 'alice', 'it was fine')).rejects.toMatchObject({
      code: 'ROLLOUT_BUSY',
    });
    expect(store.records.get('r-1')).toBe(before);
  });

  it('writes the ended rollout back as it was when another took the claim while its write landed', async () => {
    const { store, service, ended } = setup();
    await ended();
    const before = store.records.get('r-1')!.record;
    store.beforeUpdate = async () => {
      store.activeId = 'r-2';
      store.beforeUpdate = null;
    };
    await expect(service.rollbackTo('r-1', 10, 'alice', 'it was fine')).rejects.toMatchObject({
      code: 'ROLLOUT_ACTIVE',
    });
    expect(store.records.get('r-1')!.record).toEqual(before);
    expect(store.activeId).toBe('r-2');
  });
});
