import { evaluate, parse } from '@rhi/rules-dsl';
import type { HealthState } from '@rhi/rules-dsl';
import { EXPLANATION_LIMITS } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import { allowlist } from '../src/core/allowlist.js';
import type { DampingConfig } from '../src/core/damping.js';
import type { PlanInput, RouteMemory } from '../src/core/planner.js';
import { plan, routeKey } from '../src/core/planner.js';

const { ruleSet } = parse(
  [
    '198.18.200.1 = all(b:be_app)',
    'vol2%198.18.200.2 = any(b:be_app, b:be_other) with med 5',
    '203.0.113.9 = true',
  ].join('\n'),
);
const routes = ruleSet.rules.flatMap((r) =>
  r.routes.map((route) => ({ ...route, ...(r.attributes ? { attributes: r.attributes } : {}) })),
);
const immediate: DampingConfig = { rise: { count: 1, ms: 0 }, fall: { count: 1, ms: 0 }, holdDown: null };
const state = (appUp: boolean): HealthState => ({
  frontends: {},
  backends: { be_app: { up: appUp }, be_other: { up: false } },
});
const input = (over: Partial<PlanInput> & { health?: HealthState | null }): PlanInput => ({
  decisions: over.health === null ? null : evaluate(ruleSet, over.health ?? state(true)),
  routes,
  now: 0,
  reading: true,
  drain: 'none',
  allowlist: allowlist(['198.18.200.0/24']),
  damping: immediate,
  heldAtStart: () => false,
  ...over,
});

describe('planner', () => {
  it('desires the routes whose rules hold, with their attributes, inside the allowlist only', () => {
    const p = plan(new Map(), input({}));
    expect(p.desired).toEqual([
      { table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' },
      { table: 'vol2', prefix: '198.18.200.2/32', family: 'ipv4', attributes: { med: 5 } },
    ]);
    const outside = p.routes.find((r) => r.prefix === '203.0.113.9/32');
    expect(outside).toMatchObject({ decision: true, allowed: false, desired: false });
    expect(outside?.reason).toContain('outside');
    expect(p.transitions.map((t) => `${t.event} ${t.prefix}`)).toEqual([
      'routeAnnounced 198.18.200.1/32',
      'routeAnnounced 198.18.200.2/32',
    ]);
  });

  it('withdraws with the rule explanation as the reason', () => {
    const first = plan(new Map(), input({}));
    const second = plan(first.memory, input({ health: state(false), now: 10 }));
    expect(second.desired).toEqual([]);
    expect(second.transitions).toEqual([
      { event: 'routeWithdrawn', table: 'vol1', prefix: '198.18.200.1/32', reason: 'b:be_app down' },
      {
        event: 'routeWithdrawn',
        table: 'vol2',
        prefix: '198.18.200.2/32',
        reason: 'b:be_app down, b:be_other down',
      },
    ]);
  });

  it("carries each rule's explanation, bounded to the contract's limits, made only when read", () => {
    const p = plan(new Map(), input({ health: state(false) }));
    expect(p.routes.find((r) => r.table === 'vol2')?.explanation).toEqual({
      term: 'any(b:be_app, b:be_other)',
      value: false,
      detail: '0 of 2 hold',
      children: [
        { term: 'b:be_app', value: false, detail: expect.any(String), children: [] },
        { term: 'b:be_other', value: false, detail: expect.any(String), children: [] },
      ],
    });
    // A rule of 100 terms: the tree is cut at EXPLANATION_LIMITS.maxNodes and the rest counted.
    const wide = parse(
      `198.18.200.7 = any(${Array.from({ length: 100 }, (_, i) => `b:be_${i}`).join(', ')})`,
    ).ruleSet;
    let built = 0;
    const decisions = evaluate(wide, { frontends: {}, backends: {} }).map((d) => ({
      ...d,
      reason: d.reason,
      rule: d.rule,
      get explanation() {
        built++;
        return d.explanation;
      },
    }));
    const cut = plan(new Map(), input({ decisions }));
    expect(built).toBe(0);
    const tree = cut.routes[0]!.explanation;
    expect(tree.children).toHaveLength(EXPLANATION_LIMITS.maxNodes - 1);
    expect(tree.omitted).toBe(100 - (EXPLANATION_LIMITS.maxNodes - 1));
    expect(cut.routes[0]!.explanation).toBe(tree);
    expect(built).toBe(1);
    const down = plan(new Map(), input({ health: null }));
    expect(down.routes[0]?.explanation).toMatchObject({ term: 'haproxy', value: false, children: [] });
  });

  it('fails closed when HAProxy is unreachable, and the rise applies when it returns', () => {
    const damping: DampingConfig = { ...immediate, rise: { count: 1, ms: 500 } };
    const first = plan(new Map(), input({ damping, heldAtStart: () => true }));
    expect(first.desired).toHaveLength(2);
    const down = plan(first.memory, input({ damping, health: null, now: 100 }));
    expect(down.desired).toEqual([]);
    expect(down.routes.every((r) => r.reason === 'HAProxy unreachable')).toBe(true);
    const back = plan(down.memory, input({ damping, now: 200 }));
    expect(back.desired).toEqual([]);
    expect(back.recheckAt).toBe(700);
    const later = plan(back.memory, input({ damping, now: 700, reading: false }));
    expect(later.desired).toHaveLength(2);
  });

  it('keeps routes BIRD already held at start without a flap (crash restart)', () => {
    const damping: DampingConfig = { ...immediate, rise: { count: 1, ms: 1000 } };
    const p = plan(new Map(), input({ damping, heldAtStart: (k) => k === 'vol1%198.18.200.1/32' }));
    expect(p.desired.map(routeKey)).toEqual(['vol1%198.18.200.1/32']);
    expect(p.transitions).toEqual([]);
    expect(p.routes.find((r) => r.prefix === '198.18.200.2/32')).toMatchObject({
      desired: false,
      phase: 'rising',
    });
  });

  it('drains: nothing desired, decisions and damping untouched', () => {
    const first = plan(new Map(), input({}));
    const drained = plan(first.memory, input({ drain: 'withdraw', now: 5 }));
    expect(drained.desired).toEqual([]);
    expect(drained.routes.find((r) => r.prefix === '198.18.200.1/32')).toMatchObject({
      decision: true,
      reason: 'node drained',
    });
    const undrained = plan(drained.memory, input({ now: 6 }));
    expect(undrained.desired).toHaveLength(2);
  });

  it('de-prefers every advertised route while a drain waits, keeping its own attributes otherwise', () => {
    const p = plan(new Map(), input({ drain: 'deprefer' }));
    expect(p.desired).toEqual([
      {
        table: 'vol1',
        prefix: '198.18.200.1/32',
        family: 'ipv4',
        attributes: { med: 4294967294, localPref: 0 },
      },
      {
        table: 'vol2',
        prefix: '198.18.200.2/32',
        family: 'ipv4',
        attributes: { med: 4294967294, localPref: 0 },
      },
    ]);
    expect(p.routes[0]?.reason).toBe('node draining: de-preferred');
  });

  it('withdraws routes that leave the rule set', () => {
    const first = plan(new Map(), input({}));
    const memory = new Map<string, RouteMemory>(first.memory);
    const smaller = parse('198.18.200.1 = all(b:be_app)').ruleSet;
    const p = plan(
      memory,
      input({ decisions: evaluate(smaller, state(true)), routes: smaller.rules[0]?.routes ?? [] }),
    );
    expect(p.transitions).toEqual([
      {
        event: 'routeWithdrawn',
        table: 'vol2',
        prefix: '198.18.200.2/32',
        reason: 'no longer in the rule set',
      },
    ]);
    expect(p.memory.has('vol2%198.18.200.2/32')).toBe(false);
  });
});
