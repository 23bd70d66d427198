import type { RolloutRecord } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import type { VipNodeState } from '../src/fleet/vip-view.js';
import type { GateVipNode, HealthGateInput } from '../src/rollout/health-gate.js';
import { healthEvents } from '../src/rollout/health-gate.js';
import { applyRolloutEvent } from '../src/rollout/rollout-machine.js';
import { applied, Drive, newRollout, SOAK, T } from './support/rollout.js';

// The health gate over a fake fleet: records come from the rollout machine, times are plain numbers (ms).

const V1 = 'vol1%198.18.200.1/32';
const V2 = 'vol1%198.18.200.2/32';
const V3 = 'vol1%198.18.200.3/32';
const V4 = 'vol1%198.18.200.4/32';

const iso = (ms: number) => new Date(ms).toISOString();

/** When the canary (c1) applied, and when its soak ends and step 1 (b1, b2) is assigned. */
const APPLIED = T + 1000;
const B = APPLIED + SOAK;

const vipNode = (node: string, state: VipNodeState, since: number): GateVipNode => ({
  node,
  state,
  since: iso(since),
});

/** Its canary c1 assigned at T. */
function canary(): Drive {
  const d = new Drive();
  d.send({ type: 'start', now: T, by: 'alice' });
  expect(d.state.status).toBe('canary');
  return d;
}

/** c1 applied at APPLIED: soaking until B. */
function soaking(): Drive {
  const d = canary();
  d.send(applied('c1', APPLIED));
  expect(d.state).toMatchObject({ status: 'soaking', step: 0 });
  expect(d.state.steps[0]!.soakUntil).toBe(B);
  return d;
}

/** The canary passed: step 1 (b1, b2) assigned at B, step 2 (b3) not yet. */
function batch(): Drive {
  const d = soaking();
  d.send({ type: 'healthy', now: B });
  expect(d.state).toMatchObject({ status: 'batch', step: 1 });
  return d;
}

function completed(): Drive {
  const d = batch();
  d.send(applied('b1', B + 1000));
  d.send(applied('b2', B + 1000));
  const s2 = B + 1000 + SOAK;
  d.send({ type: 'healthy', now: s2 });
  d.send(applied('b3', s2 + 1000));
  d.send({ type: 'healthy', now: s2 + 1000 + SOAK });
  expect(d.state.status).toBe('completed');
  return d;
}

function rollingBack(): Drive {
  const d = canary();
  d.send({ type: 'abort', now: T + 2000, by: 'alice', reason: 'wrong rules' });
  expect(d.state.status).toBe('rollingBack');
  return d;
}

function pausedFromSoaking(): Drive {
  const d = soaking();
  d.send({ type: 'pause', now: APPLIED + 10, by: 'alice', reason: 'lunch' });
  expect(d.state).toMatchObject({ status: 'paused', paused: { from: 'soaking' } });
  return d;
}

/** What the gate reads, with a quiet fleet unless `over` says otherwise. */
function gate(record: RolloutRecord, over: Partial<HealthGateInput> = {}): HealthGateInput {
  return {
    record,
    now: record.updatedAt,
    baseline: new Map(),
    vips: [],
    vipNodes: () => [],
    foreseen: () => false,
    alerts: [],
    ...over,
  };
}

/** V1 down from 3 advertisers to 2, with these nodes; the VIPs whose nodes were read are kept in `read`. */
function v1Lost(nodes: readonly GateVipNode[]): Partial<HealthGateInput> & { read: string[] } {
  const read: string[] = [];
  return {
    read,
    baseline: new Map([[V1, 3]]),
    vips: [{ id: V1, advertisers: 2 }],
    vipNodes: (id) => {
      read.push(id);
      return id === V1 ? nodes : [];
    },
  };
}

const nodeAlert = (subject: string, since: number, kind = 'nodeDrift') => ({
  kind,
  subject,
  message: `${subject}: BIRD lacks 1 route`,
  since,
});

describe('healthEvents: a rollout not going forward', () => {
  it.each([
    ['pending', () => new Drive()],
    ['completed', completed],
    ['rollingBack', rollingBack],
  ])('gives nothing for a %s rollout, and reads no VIP', (status, make) => {
    const r = make().state;
    expect(r.status).toBe(status);
    const fleet = v1Lost([vipNode('c1', 'withdrawn', T + 5000)]);
    const now = T + 100 * SOAK;
    expect(healthEvents(gate(r, { ...fleet, now, alerts: [nodeAlert('c1', T + 5000)] }))).toEqual([]);
    expect(fleet.read).toEqual([]);
  });
});

describe('healthEvents: VIPs lost', () => {
  it('gives vipLost when a VIP fell below its baseline and a node that got the rule set withdrew it since', () => {
    const r = canary().state;
    const now = T + 6000;
    const events = healthEvents(gate(r, { ...v1Lost([vipNode('c1', 'withdrawn', T + 5000)]), now }));
    expect(events).toEqual([{ type: 'vipLost', now, vip: V1, before: 3, after: 2, withdrawnBy: ['c1'] }]);
  });

  it.each<VipNodeState>(['withdrawn', 'drift', 'not-sent'])(
    'counts a node %s as not advertising',
    (state) => {
      const r = canary().state;
      const events = healthEvents(gate(r, v1Lost([vipNode('c1', state, T + 5000)])));
      expect(events.map((e) => e.type)).toEqual(['vipLost']);
    },
  );

  it.each<VipNodeState>(['advertising', 'stale', 'unknown'])('does not blame a node %s', (state) => {
    const r = canary().state;
    expect(healthEvents(gate(r, v1Lost([vipNode('c1', state, T + 5000)])))).toEqual([]);
  });

  it.each([
    ['at the default slack (10 s) before the assignment', T - 10_000, undefined, true],
    ['just past the default slack', T - 10_001, undefined, false],
    ['at a slack of 0, at the assignment', T, 0, true],
    ['at a slack of 0, 1 ms before the assignment', T - 1, 0, false],
    ['at a 30 s slack', T - 30_000, 30_000, true],
    ['just past a 30 s slack', T - 30_001, 30_000, false],
  ])('blames a withdrawal stamped %s: %s', (_what, since, clockSlackMs, blamed) => {
    const r = canary().state;
    const input = gate(r, {
      ...v1Lost([vipNode('c1', 'withdrawn', since)]),
      ...(clockSlackMs === undefined ? {} : { clockSlackMs }),
    });
    expect(healthEvents(input).length).toBe(blamed ? 1 : 0);
  });

  it("judges each node against its own step's assignment", () => {
    const r = batch().state;
    const blamed = (node: string, since: number) =>
      healthEvents(gate(r, v1Lost([vipNode(node, 'withdrawn', since)]))).length === 1;
    expect(blamed('c1', T + 5000)).toBe(true);
    expect(blamed('b1', T + 5000)).toBe(false);
    expect(blamed('b1', B - 10_001)).toBe(false);
    expect(blamed('b1', B - 10_000)).toBe(true);
    expect(blamed('b2', B + 1)).toBe(true);
  });

  it('does not blame a node that did not get the rule set: of a later step, or outside the rollout', () => {
    expect(healthEvents(gate(canary().state, v1Lost([vipNode('b1', 'withdrawn', T + 5000)])))).toEqual([]);
    expect(healthEvents(gate(batch().state, v1Lost([vipNode('b3', 'withdrawn', B + 5000)])))).toEqual([]);
    expect(healthEvents(gate(batch().state, v1Lost([vipNode('lb-9', 'withdrawn', B + 5000)])))).toEqual([]);
  });

  it('does not blame a withdrawal the what-if foresaw, for that VIP only', () => {
    const r = canary().state;
    const asked: [string, string][] = [];
    const foreseen = (node: string, vip: string) => {
      asked.push([node, vip]);
      return node === 'c1' && vip === V1;
    };
    const nodes = [vipNode('c1', 'withdrawn', T + 5000)];
    const events = healthEvents(
      gate(r, {
        baseline: new Map([
          [V1, 3],
          [V2, 3],
        ]),
        vips: [
          { id: V1, advertisers: 2 },
          { id: V2, advertisers: 2 },
        ],
        vipNodes: () => nodes,
        foreseen,
      }),
    );
    expect(events).toEqual([
      { type: 'vipLost', now: r.updatedAt, vip: V2, before: 3, after: 2, withdrawnBy: ['c1'] },
    ]);
    expect(asked).toEqual([
      ['c1', V1],
      ['c1', V2],
    ]);
  });

  it('judges no VIP born since the baseline, nor one at or above its baseline', () => {
    const r = canary().state;
    const read: string[] = [];
    const nodes = [vipNode('c1', 'withdrawn', T + 5000)];
    const events = healthEvents(
      gate(r, {
        baseline: new Map([
          [V1, 3],
          [V2, 3],
        ]),
        vips: [
          { id: V1, advertisers: 3 },
          { id: V2, advertisers: 4 },
          { id: V3, advertisers: 0 },
        ],
        vipNodes: (id) => {
          read.push(id);
          return nodes;
        },
      }),
    );
    expect(events).toEqual([]);
    expect(read).toEqual([]);
  });

  it('lists in withdrawnBy exactly the nodes to blame', () => {
    const r = batch().state;
    const now = B + 6000;
    const events = healthEvents(
      gate(r, {
        ...v1Lost([
          vipNode('c1', 'withdrawn', B + 5000),
          vipNode('b1', 'drift', B + 5000),
          vipNode('b2', 'stale', B + 5000),
          vipNode('b3', 'withdrawn', B + 5000),
          vipNode('lb-9', 'withdrawn', B + 5000),
          vipNode('lb-8', 'advertising', B + 5000),
        ]),
        now,
      }),
    );
    expect(events).toEqual([
      { type: 'vipLost', now, vip: V1, before: 3, after: 2, withdrawnBy: ['c1', 'b1'] },
    ]);
  });

  it('gives nothing for a VIP lost through nodes that did not get the rule set only', () => {
    const r = canary().state;
    const fleet = v1Lost([vipNode('lb-9', 'withdrawn', T + 5000), vipNode('c1', 'advertising', T)]);
    expect(healthEvents(gate(r, fleet))).toEqual([]);
    expect(fleet.read).toEqual([V1]);
  });

  it("reads a VIP's nodes only for the VIPs that lost advertisers", () => {
    const r = canary().state;
    const read: string[] = [];
    const baseline = new Map<string, number>();
    const vips: { id: string; advertisers: number }[] = [];
    for (let i = 0; i < 500; i++) {
      const id = `vol1%198.18.${Math.floor(i / 250)}.${i % 250}/32`;
      baseline.set(id, 3);
      vips.push({ id, advertisers: 3 });
    }
    baseline.set(V1, 3).set(V2, 2).set(V3, 1);
    vips.push(
      { id: V1, advertisers: 2 },
      { id: V2, advertisers: 2 },
      { id: V3, advertisers: 2 },
      { id: V4, advertisers: 0 },
    );
    const events = healthEvents(
      gate(r, {
        baseline,
        vips,
        vipNodes: (id) => {
          read.push(id);
          return [vipNode('c1', 'withdrawn', T + 5000)];
        },
      }),
    );
    expect(read).toEqual([V1]);
    expect(events.map((e) => e.type === 'vipLost' && e.vip)).toEqual([V1]);
  });
});

describe('healthEvents: alerts', () => {
  it.each(['nodeDrift', 'nodeLost', 'nodeFlapping'])(
    'gives alert for %s opened on a node since it got the rule set',
    (kind) => {
      const r = canary().state;
      const now = T + 6000;
      const a = nodeAlert('c1', T, kind);
      expect(healthEvents(gate(r, { now, alerts: [a] }))).toEqual([
        { type: 'alert', now, node: 'c1', openedAt: T, message: a.message },
      ]);
    },
  );

  it.each(['vipBelowMinimum', 'vipNoAdvertiser', 'ruleSetMismatch', 'ruleSetRejected', 'rolloutStopped'])(
    'leaves out a %s alert, even named after a node that got the rule set',
    (kind) => {
      expect(healthEvents(gate(canary().state, { alerts: [nodeAlert('c1', T + 5000, kind)] }))).toEqual([]);
    },
  );

  it('leaves out an alert opened before its node got the rule set', () => {
    expect(healthEvents(gate(canary().state, { alerts: [nodeAlert('c1', T - 1)] }))).toEqual([]);
    const r = batch().state;
    expect(healthEvents(gate(r, { alerts: [nodeAlert('b1', T + 5000)] }))).toEqual([]);
    expect(healthEvents(gate(r, { alerts: [nodeAlert('b1', B - 1)] }))).toEqual([]);
    expect(healthEvents(gate(r, { alerts: [nodeAlert('b1', B)] })).map((e) => e.type)).toEqual(['alert']);
  });

  it('leaves out an alert on a node that did not get the rule set', () => {
    expect(healthEvents(gate(canary().state, { alerts: [nodeAlert('b1', T + 5000)] }))).toEqual([]);
    expect(healthEvents(gate(batch().state, { alerts: [nodeAlert('b3', B + 5000)] }))).toEqual([]);
    expect(healthEvents(gate(batch().state, { alerts: [nodeAlert('lb-9', B + 5000)] }))).toEqual([]);
  });

  it('gives one alert per alert that counts, after the VIPs lost', () => {
    const r = batch().state;
    const now = B + 6000;
    const events = healthEvents(
      gate(r, {
        ...v1Lost([vipNode('b2', 'withdrawn', B + 5000)]),
        now,
        alerts: [
          nodeAlert('c1', T + 5000, 'nodeLost'),
          nodeAlert('b3', B + 5000, 'nodeLost'),
          nodeAlert('b1', B + 5000, 'nodeFlapping'),
        ],
      }),
    );
    expect(events.map((e) => [e.type, e.type === 'alert' ? e.node : e.type === 'vipLost' && e.vip])).toEqual([
      ['vipLost', V1],
      ['alert', 'c1'],
      ['alert', 'b1'],
    ]);
  });
});

describe('healthEvents: healthy', () => {
  it('gives healthy once the soak is over, not before', () => {
    const r = soaking().state;
    expect(healthEvents(gate(r, { now: B - 1 }))).toEqual([]);
    expect(healthEvents(gate(r, { now: B }))).toEqual([{ type: 'healthy', now: B }]);
    expect(healthEvents(gate(r, { now: B + 5000 }))).toEqual([{ type: 'healthy', now: B + 5000 }]);
  });

  it('gives no healthy while a step waits for acks, whatever the time', () => {
    expect(healthEvents(gate(canary().state, { now: T + 100 * SOAK }))).toEqual([]);
    expect(healthEvents(gate(batch().state, { now: B + 100 * SOAK }))).toEqual([]);
  });

  it('gives no healthy with a VIP lost or an alert that counts, only that', () => {
    const r = soaking().state;
    const lostEvents = healthEvents(gate(r, { ...v1Lost([vipNode('c1', 'withdrawn', B - 5)]), now: B }));
    expect(lostEvents.map((e) => e.type)).toEqual(['vipLost']);
    const alertEvents = healthEvents(gate(r, { now: B, alerts: [nodeAlert('c1', T + 5)] }));
    expect(alertEvents.map((e) => e.type)).toEqual(['alert']);
  });

  it('gives healthy when what went wrong is not through the rollout', () => {
    const r = soaking().state;
    const events = healthEvents(
      gate(r, {
        ...v1Lost([vipNode('lb-9', 'withdrawn', B - 5)]),
        now: B,
        alerts: [nodeAlert('lb-9', B - 5), nodeAlert('c1', B - 5, 'ruleSetMismatch'), nodeAlert('c1', T - 1)],
      }),
    );
    expect(events).toEqual([{ type: 'healthy', now: B }]);
  });
});

describe('healthEvents: a paused rollout', () => {
  it('never gives healthy, even past the soak', () => {
    expect(healthEvents(gate(pausedFromSoaking().state, { now: B + 100 * SOAK }))).toEqual([]);
  });

  it('still gives vipLost and alert', () => {
    const r = pausedFromSoaking().state;
    const now = B + 5000;
    const events = healthEvents(
      gate(r, { ...v1Lost([vipNode('c1', 'withdrawn', B)]), now, alerts: [nodeAlert('c1', B, 'nodeLost')] }),
    );
    expect(events).toEqual([
      { type: 'vipLost', now, vip: V1, before: 3, after: 2, withdrawnBy: ['c1'] },
      { type: 'alert', now, node: 'c1', openedAt: B, message: nodeAlert('c1', B).message },
    ]);
  });

  it('still gives them when paused while waiting for acks', () => {
    const d = new Drive(newRollout());
    d.send({ type: 'start', now: T, by: 'alice' });
    d.send({ type: 'pause', now: T + 10, by: 'alice' });
    expect(d.state.status).toBe('paused');
    const events = healthEvents(
      gate(d.state, { ...v1Lost([vipNode('c1', 'withdrawn', T + 20)]), alerts: [nodeAlert('c1', T + 20)] }),
    );
    expect(events.map((e) => e.type)).toEqual(['vipLost', 'alert']);
  });
});

describe('healthEvents and the rollout machine', () => {
  it('moves the machine: healthy completes the step, vipLost stops it on the VIP', () => {
    const r = soaking().state;
    const [healthy] = healthEvents(gate(r, { now: B }));
    expect(applyRolloutEvent(r, healthy!).state).toMatchObject({ status: 'batch', step: 1 });
    const [lost] = healthEvents(gate(r, { ...v1Lost([vipNode('c1', 'withdrawn', B - 5)]), now: B }));
    expect(applyRolloutEvent(r, lost!).state).toMatchObject({
      status: 'rollingBack',
      stop: { cause: 'vipLost', vip: V1, nodes: ['c1'] },
    });
  });
});
