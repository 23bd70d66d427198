import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateRules } from '../bench/generate.js';
import type { BackendHealth, Decision, Expr, HealthState, RuleSet } from '../src/index.js';
import {
  evaluate,
  evaluateRules,
  format,
  healthChanges,
  packRuleSet,
  parse,
  ruleDependencies,
  ruleSetRoutes,
  unpackRuleSet,
  validateRuleSet,
} from '../src/index.js';
import { RuleProgram } from '../src/rule-program.js';
import { fcRuns, ruleSetArb } from './arbitraries.js';

const runs = fcRuns(20261210);

type Side = 'frontends' | 'backends';
type Health = BackendHealth;
interface Names {
  readonly backends: readonly string[];
  readonly frontends: readonly string[];
}

/** Everything a decision tells, its lazy reason and explanation included. */
const told = (decisions: readonly Decision[]) => decisions.map((d) => JSON.stringify(d));

function namesOf(ruleSet: RuleSet): Names {
  const backends = new Set<string>();
  const frontends = new Set<string>();
  const walk = (e: Expr): void => {
    if (e.type === 'proxy') (e.side === 'backend' ? backends : frontends).add(e.name);
    else if (e.type === 'not') walk(e.arg);
    else if (e.type !== 'const') e.args.forEach(walk);
  };
  ruleSet.rules.forEach((r) => walk(r.expr));
  // A name no rule uses, and one on the prototype of plain objects, on both sides.
  return {
    backends: [...backends, 'be_unused', '__proto__'],
    frontends: [...frontends, 'fe_unused', 'constructor'],
  };
}

/** Healths that differ in every field evaluation reads; frontends get server counts too, as from JSON. */
const healthArb: fc.Arbitrary<Health> = fc.integer({ min: 0, max: 6 }).chain((total) =>
  fc.record(
    {
      up: fc.boolean(),
      reason: fc.constantFrom('DOWN', 'PAUSED', 'MAINT', 'UP', ''),
      serversUp: fc.integer({ min: 0, max: total }),
      serversTotal: fc.constant(total),
    },
    { requiredKeys: ['up'] },
  ),
);

const tableArb = (names: readonly string[]) =>
  fc
    .uniqueArray(fc.constantFrom(...names), { maxLength: names.length })
    .chain((keys) => fc.tuple(...keys.map((k) => healthArb.map((h) => [k, h] as const))))
    .map((entries) => Object.fromEntries(entries) as Record<string, Health>);

const stateArb = (names: Names): fc.Arbitrary<HealthState> =>
  fc.record({ frontends: tableArb(names.frontends), backends: tableArb(names.backends) });

/** One change to a proxy's health: gone, a copy of the same health, one field changed, or a new health. */
type Edit =
  | { readonly kind: 'delete' | 'copy' | 'flip' | 'reason' | 'server' | 'total' }
  | { readonly kind: 'set'; readonly health: Health };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.constantFrom<Edit>(
    { kind: 'delete' },
    { kind: 'copy' },
    { kind: 'flip' },
    { kind: 'reason' },
    { kind: 'server' },
    { kind: 'total' },
  ),
  healthArb.map((health): Edit => ({ kind: 'set', health })),
);

function edited(health: Health | undefined, edit: Edit): Health | undefined {
  if (edit.kind === 'set') return edit.health;
  if (health === undefined || edit.kind === 'delete') return undefined;
  switch (edit.kind) {
    case 'copy':
      return { ...health };
    case 'flip':
      return { ...health, up: !health.up };
    case 'reason':
      return { ...health, reason: health.reason === 'DOWN' ? 'MAINT' : 'DOWN' };
    case 'server':
      return { ...health, serversUp: (health.serversUp ?? 0) + 1 };
    case 'total':
      return { ...health, serversTotal: (health.serversTotal ?? 0) + 1 };
  }
}

/**
 * A second state made from the first by a few edits: every table a new object, every health not edited
 * the same object (as a health source that keeps what did not change would give).
 */
function apply(state: HealthState, edits: readonly (readonly [Side, string, Edit])[]): HealthState {
  const tables = {
    frontends: new Map(Object.entries(state.frontends)),
    backends: new Map(Object.entries(state.backends)),
  };
  for (const [side, name, edit] of edits) {
    const health = edited(tables[side].get(name), edit);
    if (health === undefined) tables[side].delete(name);
    else tables[side].set(name, health);
  }
  return {
    frontends: Object.fromEntries(tables.frontends),
    backends: Object.fromEntries(tables.backends),
  };
}

const editsArb = (names: Names) =>
  fc.array(
    fc.oneof(
      fc.tuple(fc.constant<Side>('frontends'), fc.constantFrom(...names.frontends), editArb),
      fc.tuple(fc.constant<Side>('backends'), fc.constantFrom(...names.backends), editArb),
    ),
    { maxLength: 4 },
  );

/** Two states for a rule set: one and a few edits of it, or two drawn apart. */
const pairArb = (names: Names): fc.Arbitrary<readonly [HealthState, HealthState]> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.tuple(stateArb(names), editsArb(names)).map(([s, e]) => [s, apply(s, e)] as const),
    },
    { weight: 1, arbitrary: fc.tuple(stateArb(names), stateArb(names)) },
  );

/** What evaluation reads of a health, for the oracle of healthChanges. */
const seen = (h: Health | undefined) =>
  h === undefined ? undefined : JSON.stringify([h.up, h.reason, h.serversUp, h.serversTotal]);

/** The names whose health differs, in the order of `after`, then those only `before` has. */
function differing(
  before: Readonly<Record<string, Health>>,
  after: Readonly<Record<string, Health>>,
): string[] {
  const get = (t: Readonly<Record<string, Health>>, n: string) => (Object.hasOwn(t, n) ? t[n] : undefined);
  return [
    ...Object.keys(after).filter((n) => seen(get(before, n)) !== seen(get(after, n))),
    ...Object.keys(before).filter((n) => !Object.hasOwn(after, n)),
  ];
}

/** The rule set as each source makes it: parsed, validated from JSON, unpacked, and plain objects. */
function sources(ruleSet: RuleSet): { name: string; ruleSet: RuleSet }[] {
  const wire = JSON.parse(JSON.stringify(ruleSet)) as unknown;
  const valid = validateRuleSet(wire);
  if (!valid.ok) throw new Error(valid.issues.join('; '));
  const parsed = parse(format(ruleSet)).ruleSet;
  const { packed } = packRuleSet(parsed);
  return [
    { name: 'parsed', ruleSet: parsed },
    { name: 'validated', ruleSet: valid.ruleSet },
    { name: 'unpacked', ruleSet: unpackRuleSet(structuredClone(packed)) },
    { name: 'plain (JSON)', ruleSet: wire as RuleSet },
    { name: 'plain (hand-built)', ruleSet },
  ];
}

/** The decisions of `rules` read out of evaluate()'s, through routeStart. */
function slices(all: readonly string[], ruleSet: RuleSet, rules: readonly number[]): string[] {
  const { routeStart } = ruleDependencies(ruleSet);
  return rules.flatMap((r) => all.slice(routeStart[r], routeStart[r + 1]));
}

/**
 * The properties of the index for one rule set and pair of states: (a) it is complete (every rule the
 * change does not touch decides the same), (b) evaluateRules of the touched rules patched into the old
 * decisions gives the new ones, (d) healthChanges lists exactly the differing proxies.
 */
function checkPair(ruleSet: RuleSet, before: HealthState, after: HealthState): void {
  const changes = healthChanges(before, after);
  expect([...changes.frontends]).toEqual(differing(before.frontends, after.frontends));
  expect([...changes.backends]).toEqual(differing(before.backends, after.backends));
  const deps = ruleDependencies(ruleSet);
  const affected = deps.affected(changes);
  const old = told(evaluate(ruleSet, before));
  const now = told(evaluate(ruleSet, after));
  const touched = new Set(affected);
  for (let r = 0; r < deps.ruleCount; r++) {
    if (touched.has(r)) continue;
    expect(slices(now, ruleSet, [r]), `rule ${r} is not affected`).toEqual(slices(old, ruleSet, [r]));
  }
  const fresh = told(evaluateRules(ruleSet, after, affected));
  const patched = old.slice();
  let k = 0;
  for (const r of affected) {
    for (let i = deps.routeStart[r] ?? 0; i < (deps.routeStart[r + 1] ?? 0); i++)
      patched[i] = fresh[k++] as string;
  }
  expect(k).toBe(fresh.length);
  expect(patched).toEqual(now);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('healthChanges', () => {
  const state: HealthState = {
    frontends: { fe_web: { up: true }, fe_api: { up: false, reason: 'PAUSED' } },
    backends: {
      be_app: { up: true, serversUp: 2, serversTotal: 3 },
      be_static: { up: true, reason: 'UP', serversUp: 1, serversTotal: 1 },
    },
  };

  it('is one shared, frozen empty result for equal states, distinct objects or not', () => {
    const copy = structuredClone(state);
    const none = healthChanges(state, copy);
    expect(none).toEqual({ frontends: [], backends: [] });
    expect(healthChanges(state, state)).toBe(none);
    expect(healthChanges({ frontends: {}, backends: {} }, { frontends: {}, backends: {} })).toBe(none);
    expect(Object.isFrozen(none) && Object.isFrozen(none.frontends) && Object.isFrozen(none.backends)).toBe(
      true,
    );
  });

  it('lists each proxy whose up, reason or server counts differ, or that only one state knows', () => {
    const after: HealthState = {
      frontends: { fe_api: { up: false, reason: 'STOP' }, fe_new: { up: true } },
      backends: {
        be_static: { up: true, reason: 'UP', serversUp: 1, serversTotal: 1 },
        be_app: { up: true, serversUp: 2, serversTotal: 4 },
      },
    };
    expect(healthChanges(state, after)).toEqual({
      frontends: ['fe_api', 'fe_new', 'fe_web'],
      backends: ['be_app'],
    });
    const changes = healthChanges(state, {
      ...state,
      backends: { ...state.backends, be_app: { up: false } },
    });
    expect(changes).toEqual({ frontends: [], backends: ['be_app'] });
    expect(Object.isFrozen(changes.frontends)).toBe(true);
  });

  it('ignores fields evaluation does not read, and reads own names only', () => {
    const extra = { frontends: { fe_web: { up: true, weight: 7 } }, backends: {} } as HealthState;
    expect(healthChanges({ frontends: { fe_web: { up: true } }, backends: {} }, extra)).toEqual({
      frontends: [],
      backends: [],
    });
    const proto = JSON.parse('{"frontends":{},"backends":{"__proto__":{"up":true}}}') as HealthState;
    expect(healthChanges({ frontends: {}, backends: {} }, proto)).toEqual({
      frontends: [],
      backends: ['__proto__'],
    });
    expect(healthChanges(proto, { frontends: {}, backends: {} })).toEqual({
      frontends: [],
      backends: ['__proto__'],
    });
  });

  it('lists exactly the differing proxies of random pairs of states', () => {
    const names: Names = {
      backends: ['be_a', 'be_b', 'b.c', '__proto__'],
      frontends: ['fe_a', 'fe:b', 'toString'],
    };
    fc.assert(
      fc.property(pairArb(names), ([before, after]) => {
        const changes = healthChanges(before, after);
        expect([...changes.frontends]).toEqual(differing(before.frontends, after.frontends));
        expect([...changes.backends]).toEqual(differing(before.backends, after.backends));
        expect(healthChanges(before, structuredClone(before))).toEqual({ frontends: [], backends: [] });
      }),
      runs,
    );
  });
});

describe('ruleDependencies', () => {
  const text = [
    '198.18.0.1, 2001:db8::1 = all(f:fe_web, b:be_a, b:be_a>=2)',
    'vol2%198.18.0.2 = any(b:be_b>=50%, not(b:be_a))',
    '198.18.0.3 = true',
    '198.18.0.4, 198.18.0.5, 198.18.0.6 = atleast(2, b:be_b, f:fe_web, f:be_a) with med 5',
  ].join('\n');

  it('lists the rules naming each backend and frontend, thresholds included, and where their routes start', () => {
    for (const ruleSet of [
      parse(text).ruleSet,
      { version: 1, rules: parse(text).ruleSet.rules } as RuleSet,
      unpackRuleSet(structuredClone(packRuleSet(parse(text).ruleSet).packed)),
    ]) {
      const deps = ruleDependencies(ruleSet);
      expect(deps.ruleCount).toBe(4);
      expect([...deps.routeStart]).toEqual([0, 2, 3, 4, 7]);
      expect(deps.backend('be_a')).toEqual([0, 1]);
      expect(deps.backend('be_b')).toEqual([1, 3]);
      expect(deps.frontend('fe_web')).toEqual([0, 3]);
      expect(deps.frontend('be_a')).toEqual([3]);
      expect(deps.backend('fe_web')).toEqual([]);
      expect(deps.backend('__proto__')).toEqual([]);
      expect(Object.isFrozen(deps.backend('be_a')) && Object.isFrozen(deps.backend('nothing'))).toBe(true);
      expect(deps.affected({ frontends: [], backends: [] })).toEqual([]);
      expect(deps.affected({ frontends: ['fe_web'], backends: ['nothing'] })).toEqual([0, 3]);
      expect(deps.affected({ frontends: ['be_a', 'fe_web'], backends: ['be_b', 'be_a', 'be_b'] })).toEqual([
        0, 1, 3,
      ]);
      // A new array each time, the caller's to keep.
      const mine = deps.affected({ frontends: ['fe_web'], backends: [] });
      mine.push(99);
      expect(deps.frontend('fe_web')).toEqual([0, 3]);
      expect(ruleDependencies(ruleSet)).toBe(deps);
    }
  });

  it('comes with an unpacked rule set, made where it was packed: the code is not walked again', () => {
    const { ruleSet } = parse(generateRules(500).text);
    const { packed, transfer } = packRuleSet(ruleSet);
    const { routeStart, ruleStart, rules } = packed.dependencies;
    expect(transfer).toEqual(expect.arrayContaining([routeStart.buffer, ruleStart.buffer, rules.buffer]));
    const unpacked = unpackRuleSet(structuredClone(packed, { transfer }));
    const walk = vi.spyOn(RuleProgram.prototype, 'codeOf');
    const deps = ruleDependencies(unpacked);
    expect(walk).not.toHaveBeenCalled();
    walk.mockRestore();
    const fresh = ruleDependencies(parse(generateRules(500).text).ruleSet);
    expect([...deps.routeStart]).toEqual([...fresh.routeStart]);
    expect(deps.backend('be_1').length).toBeGreaterThan(0);
    expect(deps.frontend('fe_1').length).toBeGreaterThan(0);
    for (let i = 0; i < 60; i++) {
      expect(deps.backend(`be_${i}`)).toEqual(fresh.backend(`be_${i}`));
      expect(deps.frontend(`fe_${i}`)).toEqual(fresh.frontend(`fe_${i}`));
    }
  });

  it('is read from the compact code of a parsed rule set, without building its rules', () => {
    const build = vi.spyOn(RuleProgram.prototype, 'rules');
    const { ruleSet } = parse(generateRules(3_000).text);
    const deps = ruleDependencies(ruleSet);
    deps.affected({ frontends: ['fe_1'], backends: ['be_1', 'be_2'] });
    evaluateRules(ruleSet, generateRules(3_000).state, deps.backend('be_7')).forEach((d) => d.reason);
    expect(build).not.toHaveBeenCalled();
    expect(deps.routeStart[deps.ruleCount]).toBe(3_000);
  });

  it('merges the rules of many proxies over many words of rules, in order', () => {
    const { ruleSet } = parse(generateRules(3_000).text);
    const deps = ruleDependencies(ruleSet);
    const backends = Array.from({ length: 750 }, (_, i) => `be_${i}`).filter((_, i) => i % 7 === 2);
    const expected = [...new Set(backends.flatMap((b) => deps.backend(b)))].sort((a, b) => a - b);
    expect(deps.affected({ frontends: [], backends })).toEqual(expected);
    expect(deps.affected({ frontends: [], backends })).toEqual(expected);
    const every = deps.affected({
      frontends: Array.from({ length: 100 }, (_, i) => `fe_${i}`),
      backends: Array.from({ length: 750 }, (_, i) => `be_${i}`),
    });
    expect(every).toEqual(Array.from({ length: 3_000 }, (_, i) => i));
  });

  it('has routeStart at the positions of ruleSetRoutes and of evaluate, for every source', () => {
    fc.assert(
      fc.property(ruleSetArb, (generated) => {
        for (const { name, ruleSet } of sources(generated)) {
          const deps = ruleDependencies(ruleSet);
          const routes = ruleSetRoutes(ruleSet);
          const decisions = evaluate(ruleSet, { frontends: {}, backends: {} });
          expect(deps.ruleCount, name).toBe(generated.rules.length);
          expect(deps.routeStart).toHaveLength(deps.ruleCount + 1);
          expect(deps.routeStart[deps.ruleCount]).toBe(routes.length);
          generated.rules.forEach((rule, r) => {
            const start = deps.routeStart[r] ?? -1;
            expect(routes.slice(start, deps.routeStart[r + 1])).toEqual(
              rule.routes.map((route) =>
                rule.attributes ? { ...route, attributes: rule.attributes } : route,
              ),
            );
            expect(decisions.slice(start, deps.routeStart[r + 1]).every((d) => d.rule === r)).toBe(true);
          });
        }
      }),
      runs,
    );
  });

  it('finds exactly the rules naming each proxy, for every source', () => {
    fc.assert(
      fc.property(ruleSetArb, (generated) => {
        const names = namesOf(generated);
        const naming = (side: 'backend' | 'frontend', name: string) =>
          generated.rules.flatMap((rule, r) => {
            const found = (e: Expr): boolean =>
              e.type === 'proxy'
                ? e.side === side && e.name === name
                : e.type === 'not'
                  ? found(e.arg)
                  : e.type !== 'const' && e.args.some(found);
            return found(rule.expr) ? [r] : [];
          });
        for (const { name, ruleSet } of sources(generated)) {
          const deps = ruleDependencies(ruleSet);
          for (const b of names.backends)
            expect(deps.backend(b), `${name} b:${b}`).toEqual(naming('backend', b));
          for (const f of names.frontends)
            expect(deps.frontend(f), `${name} f:${f}`).toEqual(naming('frontend', f));
        }
      }),
      runs,
    );
  });
});

describe('incremental evaluation (healthChanges, ruleDependencies, evaluateRules)', () => {
  it('re-decides only what a change touches, and nothing else changes, for every source', () => {
    const case_ = ruleSetArb.chain((ruleSet) => fc.tuple(fc.constant(ruleSet), pairArb(namesOf(ruleSet))));
    fc.assert(
      fc.property(case_, ([generated, [before, after]]) => {
        for (const { ruleSet } of sources(generated)) checkPair(ruleSet, before, after);
      }),
      runs,
    );
  });

  it('does so on 3,000 generated rules over many chunks of code', () => {
    const generated = generateRules(3_000);
    const { ruleSet } = parse(generated.text);
    const plain = JSON.parse(JSON.stringify(ruleSet)) as RuleSet;
    const state = generated.state as HealthState;
    const names: Names = { backends: Object.keys(state.backends), frontends: Object.keys(state.frontends) };
    fc.assert(
      fc.property(editsArb(names), (edits) => {
        const after = apply(state, edits);
        checkPair(ruleSet, state, after);
        checkPair(plain, state, after);
      }),
      { ...runs, numRuns: Math.max(1, Math.floor(runs.numRuns / 10)) },
    );
  });

  it('decides a rule longer than a chunk of code, between many others', () => {
    const terms = Array.from({ length: 1500 }, (_, i) => `b:be_${i}>=${(i % 5) + 1}`);
    const lines = [
      ...Array.from(
        { length: 1200 },
        (_, i) => `198.18.${i >> 8}.${i & 255} = any(b:be_${i}, f:fe_${i % 9})`,
      ),
      `198.19.0.1, 2001:db8::1 = atleast(700, ${terms.join(', ')}) with med 1`,
      ...Array.from({ length: 1200 }, (_, i) => `198.20.${i >> 8}.${i & 255} = all(b:be_${i}, not(f:fe_1))`),
    ];
    const { ruleSet, ok } = parse(lines.join('\n'), { maxTermsPerRule: 2000 });
    expect(ok).toBe(true);
    const backends = Object.fromEntries(
      Array.from({ length: 1500 }, (_, i) => [
        `be_${i}`,
        { up: i % 3 !== 0, serversUp: i % 6, serversTotal: 5 },
      ]),
    );
    const state: HealthState = { frontends: { fe_1: { up: true } }, backends };
    const deps = ruleDependencies(ruleSet);
    expect(deps.backend('be_3')).toEqual([3, 1200, 1204]);
    const rules = [1200, 5, 2400, 1200, 0];
    expect(told(evaluateRules(ruleSet, state, rules))).toEqual(
      slices(told(evaluate(ruleSet, state)), ruleSet, rules),
    );
    checkPair(ruleSet, state, apply(state, [['backends', 'be_77', { kind: 'server' }]]));
  });
});

describe('evaluateRules', () => {
  const subsetArb = (count: number) =>
    fc.oneof(
      fc.shuffledSubarray(Array.from({ length: count }, (_, i) => i)),
      fc.array(fc.integer({ min: 0, max: Math.max(0, count - 1) }), { maxLength: count ? 8 : 0 }),
    );

  it("gives evaluate's decisions of the rules listed, in their order, reasons and explanations read in any order", () => {
    const case_ = ruleSetArb.chain((ruleSet) =>
      fc.tuple(
        fc.constant(ruleSet),
        stateArb(namesOf(ruleSet)),
        subsetArb(ruleSet.rules.length),
        fc.boolean(),
      ),
    );
    fc.assert(
      fc.property(case_, ([generated, state, rules, explanationFirst]) => {
        for (const { name, ruleSet } of sources(generated)) {
          const decisions = evaluateRules(ruleSet, state, rules);
          if (explanationFirst) for (const d of decisions) void d.explanation;
          expect(told(decisions), name).toEqual(slices(told(evaluate(ruleSet, state)), ruleSet, rules));
          expect(decisions.map((d) => d.rule)).toEqual(
            rules.flatMap((r) => Array<number>(generated.rules[r]?.routes.length ?? 0).fill(r)),
          );
        }
      }),
      runs,
    );
  });

  it('keeps every field of the decisions, attributes included', () => {
    const { ruleSet } = parse(
      '198.18.0.1 = b:be_a\n198.18.0.2, 2001:db8::/64 = b:be_a>=2 with med 5, community 1:2\n',
    );
    const state: HealthState = {
      frontends: {},
      backends: { be_a: { up: true, serversUp: 1, serversTotal: 2 } },
    };
    const [v4, v6] = evaluateRules(ruleSet, state, [1]);
    expect(JSON.parse(JSON.stringify(v4))).toEqual({
      table: 'vol1',
      prefix: '198.18.0.2/32',
      family: 'ipv4',
      advertise: false,
      rule: 1,
      reason: 'b:be_a>=2 1/2 usable',
      explanation: { term: 'b:be_a>=2', value: false, detail: '1 of 2 servers usable, need 2', children: [] },
      attributes: { med: 5, communities: [[1, 2]] },
    });
    expect(v6?.family).toBe('ipv6');
    expect(evaluateRules(ruleSet, state, [])).toEqual([]);
  });

  it('refuses a rule index that is not in the rule set', () => {
    const { ruleSet } = parse('198.18.0.1 = b:be_a\n');
    const plain: RuleSet = { version: 1, rules: ruleSet.rules };
    const state: HealthState = { frontends: {}, backends: {} };
    for (const rs of [ruleSet, plain]) {
      for (const bad of [1, -1, 0.5, Number.NaN]) {
        expect(() => evaluateRules(rs, state, [0, bad])).toThrow(RangeError);
      }
      expect(evaluateRules(rs, state, [0])).toHaveLength(1);
    }
  });
});
