import { evaluate, parse, ruleSetRoutes } from '@rhi/rules-dsl';
import type { HealthState } from '@rhi/rules-dsl';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allowlist } from '../src/core/allowlist.js';
import type { DampingConfig } from '../src/core/damping.js';
import type { DrainMode, RouteMemory } from '../src/core/planner.js';
import { plan } from '../src/core/planner.js';
import { RoutePlanner } from '../src/core/route-planner.js';

const BACKENDS = ['be_a', 'be_b', 'be_c', 'be_d'];

/** Rules over the backends; each rule's backends, to know which routes a reading touches. */
const rulesArb = fc.array(
  fc.record({
    backends: fc.uniqueArray(fc.constantFrom(...BACKENDS), { minLength: 1, maxLength: 3 }),
    op: fc.constantFrom('all', 'any', 'not'),
    med: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
    routes: fc.integer({ min: 1, max: 2 }),
    outside: fc.boolean(),
  }),
  { minLength: 1, maxLength: 12 },
);

const dampingArb: fc.Arbitrary<DampingConfig> = fc.record({
  rise: fc.record({ count: fc.integer({ min: 1, max: 3 }), ms: fc.constantFrom(0, 50) }),
  fall: fc.record({ count: fc.integer({ min: 1, max: 2 }), ms: fc.constantFrom(0, 30) }),
  holdDown: fc.option(fc.constant({ flaps: 2, windowMs: 500, holdMs: 200 }), { nil: null }),
});

type Step =
  | { kind: 'reading'; flip: string[]; dt: number }
  | { kind: 'recheck'; dt: number }
  | { kind: 'drain'; mode: DrainMode; dt: number }
  | { kind: 'unreachable'; dt: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('reading' as const),
      flip: fc.subarray(BACKENDS),
      dt: fc.integer({ min: 0, max: 80 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('recheck' as const), dt: fc.integer({ min: 0, max: 120 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('drain' as const),
      mode: fc.constantFrom<DrainMode>('none', 'deprefer', 'withdraw'),
      dt: fc.integer({ min: 0, max: 50 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('unreachable' as const), dt: fc.integer({ min: 0, max: 50 }) }),
  },
);

describe('RoutePlanner', () => {
  it('plans as plan() does from scratch, at every step, re-deciding only the routes of changed backends', () => {
    fc.assert(
      fc.property(
        rulesArb,
        dampingArb,
        fc.array(stepArb, { maxLength: 40 }),
        fc.boolean(),
        (rules, damping, steps, held) => {
          let n = 0;
          const text = rules
            .map((r) => {
              const prefixes = Array.from(
                { length: r.routes },
                () => `${r.outside ? '203.0.113' : '198.18.200'}.${++n}`,
              );
              const terms = r.backends.map((b) => `b:${b}`);
              const expr = r.op === 'not' ? `not(any(${terms.join(', ')}))` : `${r.op}(${terms.join(', ')})`;
              return `${prefixes.join(', ')} = ${expr}${r.med === undefined ? '' : ` with med ${r.med}`}`;
            })
            .join('\n');
          const { ruleSet } = parse(text);
          const routes = ruleSetRoutes(ruleSet);
          // The position of each route, and the backends its rule names.
          const namesOf = rules.flatMap((r) => Array.from({ length: r.routes }, () => r.backends));
          const settings = { allowlist: allowlist(['198.18.200.0/24']), damping, heldAtStart: () => held };
          const planner = new RoutePlanner(settings);
          let memory: ReadonlyMap<string, RouteMemory> = new Map();
          let up = new Set(BACKENDS);
          let reachable = true;
          let drain: DrainMode = 'none';
          let now = 0;
          const stateOf = (): HealthState => ({
            frontends: {},
            backends: Object.fromEntries(BACKENDS.map((b) => [b, { up: up.has(b) }])),
          });
          const reference = (reading: boolean) => {
            const p = plan(memory, {
              decisions: reachable ? evaluate(ruleSet, stateOf()) : null,
              routes,
              now,
              reading,
              drain,
              ...settings,
            });
            memory = p.memory;
            return p;
          };
          const same = (got: ReturnType<RoutePlanner['full']>, want: ReturnType<typeof plan>) => {
            expect(JSON.parse(JSON.stringify(got.routes))).toEqual(JSON.parse(JSON.stringify(want.routes)));
            expect(got.desired).toEqual(want.desired);
            expect(got.transitions).toEqual(want.transitions);
            expect(got.recheckAt).toEqual(want.recheckAt);
          };
          same(
            planner.full({ decisions: evaluate(ruleSet, stateOf()), routes, now, reading: true, drain }),
            reference(true),
          );
          for (const s of steps) {
            now += s.dt;
            if (s.kind === 'reading') {
              up = new Set(BACKENDS.filter((b) => up.has(b) !== s.flip.includes(b)));
              const wasReachable = reachable;
              reachable = true;
              const decisions = evaluate(ruleSet, stateOf());
              if (!wasReachable || !planner.incremental) {
                same(planner.full({ decisions, routes, now, reading: true, drain }), reference(true));
                continue;
              }
              const indices = namesOf.flatMap((names, i) =>
                names.some((b) => s.flip.includes(b)) ? [i] : [],
              );
              same(
                planner.partial({
                  indices,
                  decisions: indices.map((i) => decisions[i]!),
                  now,
                  reading: true,
                }),
                reference(true),
              );
            } else if (s.kind === 'recheck') {
              const want = reference(false);
              const got = planner.incremental
                ? planner.partial({ indices: [], decisions: [], now, reading: false })
                : planner.full({ decisions: null, routes, now, reading: false, drain });
              same(got, want);
            } else if (s.kind === 'drain') {
              drain = s.mode;
              const decisions = reachable ? evaluate(ruleSet, stateOf()) : null;
              same(planner.full({ decisions, routes, now, reading: false, drain }), reference(false));
            } else {
              reachable = false;
              same(planner.full({ decisions: null, routes, now, reading: true, drain }), reference(true));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps the desired array, and each unchanged route, as they were when a reading changes nothing', () => {
    const { ruleSet } = parse('198.18.200.1 = b:be_a\n198.18.200.2 = b:be_b');
    const routes = ruleSetRoutes(ruleSet);
    const damping: DampingConfig = { rise: { count: 1, ms: 0 }, fall: { count: 1, ms: 0 }, holdDown: null };
    const planner = new RoutePlanner({
      allowlist: allowlist(['198.18.0.0/15']),
      damping,
      heldAtStart: () => false,
    });
    const state = (b: boolean): HealthState => ({
      frontends: {},
      backends: { be_a: { up: true }, be_b: { up: b } },
    });
    const first = planner.full({
      decisions: evaluate(ruleSet, state(true)),
      routes,
      now: 0,
      reading: true,
      drain: 'none',
    });
    const quiet = planner.partial({ indices: [], decisions: [], now: 1, reading: true });
    expect(quiet.desired).toBe(first.desired);
    expect(quiet.routes).toBe(first.routes);
    const down = planner.partial({
      indices: [1],
      decisions: [evaluate(ruleSet, state(false))[1]!],
      now: 2,
      reading: true,
    });
    expect(down.desired).toEqual([first.desired[0]]);
    expect(down.desired[0]).toBe(first.desired[0]);
    expect(down.routes[0]).toBe(first.routes[0]);
    expect(down.transitions).toEqual([
      { event: 'routeWithdrawn', table: 'vol1', prefix: '198.18.200.2/32', reason: 'b:be_b down' },
    ]);
    const back = planner.partial({
      indices: [1],
      decisions: [evaluate(ruleSet, state(true))[1]!],
      now: 3,
      reading: true,
    });
    expect(back.desired[1]).toBe(first.desired[1]);
    // A new rule set with the same routes: the same desired array.
    const again = planner.full({
      decisions: evaluate(ruleSet, state(true)),
      routes,
      now: 4,
      reading: false,
      drain: 'none',
    });
    expect(again.desired).toBe(back.desired);
  });

  it('refuses a partial plan before a full one with HAProxy readable', () => {
    const planner = new RoutePlanner({
      allowlist: allowlist(['198.18.0.0/15']),
      damping: { rise: { count: 1, ms: 0 }, fall: { count: 1, ms: 0 }, holdDown: null },
      heldAtStart: () => false,
    });
    expect(() => planner.partial({ indices: [], decisions: [], now: 0, reading: true })).toThrow(/full plan/);
  });
});
