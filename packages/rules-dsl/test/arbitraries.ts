import fc from 'fast-check';
import type { Expr, HealthState, ProxyTerm, Route, RouteAttributes, Rule, RuleSet } from '../src/index.js';
import { parsePrefix } from '../src/index.js';
import { tableNameProblem } from '../src/names.js';

/**
 * fast-check's settings for a property: `FC_RUNS` runs (default `numRuns`), from `FC_SEED` (default the
 * file's own seed, so that a run can be repeated; `FC_SEED=random` for a new one each time).
 */
export function fcRuns(seed: number, numRuns = 200): { numRuns: number; seed?: number } {
  return {
    numRuns: Number(process.env['FC_RUNS'] ?? numRuns),
    ...(process.env['FC_SEED'] === 'random' ? {} : { seed: Number(process.env['FC_SEED'] ?? seed) }),
  };
}

/** Route table names that BIRD accepts, biased towards the usual ones. */
export const tableArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('vol1', 'vol2', 'vol3') },
  {
    weight: 1,
    arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/).filter((t) => !tableNameProblem(t)),
  },
);

function canonical(text: string): string {
  const parsed = parsePrefix(text);
  if (!parsed.ok) throw new Error(`generator made a bad prefix ${text}: ${parsed.message}`);
  return parsed.prefix;
}

function masked(value: bigint, bits: number, length: number): bigint {
  const host = (1n << BigInt(bits - length)) - 1n;
  return value & ~host & ((1n << BigInt(bits)) - 1n);
}

const ipv4Arb = fc
  .tuple(
    fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
    fc.oneof(fc.constant(32), fc.integer({ min: 0, max: 32 })),
  )
  .map(([value, length]) => {
    const v = masked(value, 32, length);
    const octets = [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n));
    return { family: 'ipv4' as const, prefix: canonical(`${octets.join('.')}/${length}`) };
  });

const group = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);

const ipv6Arb = fc
  .tuple(
    fc.array(group, { minLength: 8, maxLength: 8 }),
    fc.oneof(fc.constant(128), fc.integer({ min: 0, max: 128 })),
  )
  .map(([groups, length]) => {
    const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
    const v = masked(value, 128, length);
    const parts = Array.from({ length: 8 }, (_, i) => ((v >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
    return { family: 'ipv6' as const, prefix: canonical(`${parts.join(':')}/${length}`) };
  });

export const routeArb: fc.Arbitrary<Route> = fc
  .tuple(tableArb, fc.oneof(ipv4Arb, ipv6Arb))
  .map(([table, p]) => ({ table, prefix: p.prefix, family: p.family }));

const proxyNameArb = fc.oneof(
  fc.constantFrom('be_app', 'be_static', 'fe_web', 'k8s_servers', 'be.app', 'fe:443', 'a-b'),
  fc.stringMatching(/^[A-Za-z0-9_.:-]{1,16}$/),
);

const proxyArb: fc.Arbitrary<ProxyTerm> = fc.oneof(
  fc.record({
    type: fc.constant('proxy' as const),
    side: fc.constantFrom('backend' as const, 'frontend' as const),
    name: proxyNameArb,
  }),
  fc.record({
    type: fc.constant('proxy' as const),
    side: fc.constant('backend' as const),
    name: proxyNameArb,
    threshold: fc.oneof(
      fc.record({ kind: fc.constant('count' as const), value: fc.integer({ min: 1, max: 1_000_000 }) }),
      fc.record({ kind: fc.constant('percent' as const), value: fc.integer({ min: 1, max: 100 }) }),
    ),
  }),
);

/** Expressions up to a few levels deep: every aggregator, thresholds, constants. */
export const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: proxyArb },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('const' as const), value: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('not' as const), arg: tie('expr') }) },
    {
      weight: 2,
      arbitrary: fc.record({
        type: fc.constantFrom('all' as const, 'any' as const),
        args: fc.array(tie('expr'), { minLength: 1, maxLength: 4 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .array(tie('expr'), { minLength: 1, maxLength: 4 })
        .chain((args) =>
          fc.integer({ min: 1, max: args.length }).map((n) => ({ type: 'atleast' as const, n, args })),
        ),
    },
  ),
})).expr;

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });

export const attributesArb: fc.Arbitrary<RouteAttributes> = fc
  .record(
    {
      med: u32,
      localPref: u32,
      communities: fc.uniqueArray(fc.tuple(u16, u16), {
        minLength: 1,
        maxLength: 3,
        selector: (c) => c.join(':'),
      }),
      largeCommunities: fc.uniqueArray(fc.tuple(u32, u32, u32), {
        minLength: 1,
        maxLength: 3,
        selector: (c) => c.join(':'),
      }),
    },
    { requiredKeys: [] },
  )
  .filter((a) => Object.keys(a).length > 0);

const ruleArb: fc.Arbitrary<Rule> = fc
  .record(
    { routes: fc.array(routeArb, { minLength: 1, maxLength: 3 }), expr: exprArb, attributes: attributesArb },
    { requiredKeys: ['routes', 'expr'] },
  )
  .map((r) => r as Rule);

/** Valid rule sets: every route unique in its table, as the parser requires. */
export const ruleSetArb: fc.Arbitrary<RuleSet> = fc.array(ruleArb, { maxLength: 6 }).map((rules) => {
  const seen = new Set<string>();
  const kept: Rule[] = [];
  for (const rule of rules) {
    const routes = rule.routes.filter((r) => {
      const key = `${r.table}%${r.prefix}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (routes.length) kept.push({ ...rule, routes });
  }
  return { version: 1, rules: kept };
});

/** Characters that matter to the grammar, for mutating valid text. */
/**
 * Health states over the usual names of {@link exprArb} (random names mostly stay unknown): up or down,
 * with or without server counts and reasons, empty backends included.
 */
export const healthStateArb: fc.Arbitrary<HealthState> = (() => {
  const names = fc.constantFrom('be_app', 'be_static', 'fe_web', 'k8s_servers', 'be.app', 'fe:443', 'a-b');
  const reason = fc.constantFrom('DOWN', 'PAUSED', 'MAINT', 'UP');
  return fc.record({
    frontends: fc.dictionary(names, fc.record({ up: fc.boolean(), reason }, { requiredKeys: ['up'] })),
    backends: fc.dictionary(
      names,
      fc.integer({ min: 0, max: 8 }).chain((total) =>
        fc.record(
          {
            up: fc.boolean(),
            reason,
            serversUp: fc.integer({ min: 0, max: total }),
            serversTotal: fc.constant(total),
          },
          { requiredKeys: ['up'] },
        ),
      ),
    ),
  });
})();

export const grammarChars = [...'(),=%:#/\n \t.>=<b:f-_0123456789abcdefwith'];
