import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateRules } from '../bench/generate.js';
import type { Decision, HealthState, RuleSet } from '../src/index.js';
import { evaluate, format, parse } from '../src/index.js';
import { fcRuns, grammarChars, healthStateArb, ruleSetArb } from './arbitraries.js';
import { eagerEvaluate } from './eager-evaluate.js';

const runs = fcRuns(20261124);

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Every file of the fixture corpus that has valid rules (valid, invalid and replayed inputs alike). */
const corpus: { name: string; ruleSet: RuleSet }[] = ['valid', 'invalid', 'corpus'].flatMap((dir) =>
  readdirSync(join(fixtures, dir))
    .filter((f) => f.endsWith('.rules'))
    .sort()
    .map((f) => ({
      name: `${dir}/${f}`,
      ruleSet: parse(readFileSync(join(fixtures, dir, f), 'utf8')).ruleSet,
    }))
    .filter(({ ruleSet }) => ruleSet.rules.length > 0),
);

/** The names the fixtures use, in every state worth explaining. */
function statesFor(ruleSet: RuleSet): HealthState[] {
  const backends = new Set<string>();
  const frontends = new Set<string>();
  const walk = (e: RuleSet['rules'][number]['expr']): void => {
    if (e.type === 'proxy') (e.side === 'backend' ? backends : frontends).add(e.name);
    else if (e.type === 'not') walk(e.arg);
    else if (e.type !== 'const') e.args.forEach(walk);
  };
  ruleSet.rules.forEach((r) => walk(r.expr));
  const make = (pick: (i: number) => number): HealthState => ({
    frontends: Object.fromEntries([...frontends].map((n, i) => [n, { up: pick(i) % 2 === 0 }])),
    backends: Object.fromEntries(
      [...backends].map((n, i) => {
        const k = pick(i);
        if (k % 5 === 4) return [n, { up: true }];
        return [n, { up: k % 2 === 0, reason: k % 3 ? 'DOWN' : 'UP', serversUp: k % 4, serversTotal: 3 }];
      }),
    ),
  });
  return [
    { frontends: {}, backends: {} },
    make(() => 0),
    make(() => 1),
    make((i) => i),
    make((i) => i * 7 + 3),
  ];
}

const json = (decisions: readonly Decision[]) => JSON.parse(JSON.stringify(decisions)) as unknown;

/** Lazy decisions read in three orders (JSON, reasons first, explanations first) all equal the eager oracle. */
function expectSameAsEager(ruleSet: RuleSet, state: HealthState): void {
  const expected = json(eagerEvaluate(ruleSet, state));
  expect(json(evaluate(ruleSet, state))).toEqual(expected);
  const reasonsFirst = evaluate(ruleSet, state);
  const reasons = reasonsFirst.map((d) => d.reason);
  expect(json(reasonsFirst)).toEqual(expected);
  expect(reasons).toEqual((expected as Decision[]).map((d) => d.reason));
  const explanationsFirst = evaluate(ruleSet, state);
  const explanations = explanationsFirst.map((d) => d.explanation);
  expect(JSON.parse(JSON.stringify(explanations))).toEqual(
    (expected as Decision[]).map((d) => d.explanation),
  );
  expect(json(explanationsFirst)).toEqual(expected);
}

describe('lazy explanations equal the eager ones', () => {
  it('has a corpus to compare on', () => {
    expect(corpus.length).toBeGreaterThan(20);
  });

  it.each(corpus)('on $name', ({ ruleSet }) => {
    for (const state of statesFor(ruleSet)) expectSameAsEager(ruleSet, state);
  });

  it('on the benchmark file (1,000 rules), first and later evaluations', () => {
    const { text, state } = generateRules(1000);
    const { ruleSet } = parse(text);
    expectSameAsEager(ruleSet, state);
    expectSameAsEager(ruleSet, { frontends: {}, backends: {} });
  });

  it('on generated rule sets and health states', () => {
    fc.assert(
      fc.property(ruleSetArb, healthStateArb, (ruleSet, state) => expectSameAsEager(ruleSet, state)),
      runs,
    );
  });

  it('on generated rule sets parsed from their text (decided from the compact program)', () => {
    fc.assert(
      fc.property(ruleSetArb, healthStateArb, (ruleSet, state) => {
        const parsed = parse(format(ruleSet)).ruleSet;
        expect(json(evaluate(parsed, state))).toEqual(json(eagerEvaluate(ruleSet, state)));
        expectSameAsEager(parsed, state);
      }),
      runs,
    );
  });

  it('on whatever valid rules a text of grammar characters holds', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...grammarChars), maxLength: 160 }),
        healthStateArb,
        (text, state) => {
          const { ruleSet } = parse(text);
          // Decided before the rule objects are built, then compared with the oracle walking those objects.
          const decisions = json(evaluate(ruleSet, state));
          expect(decisions).toEqual(json(eagerEvaluate(ruleSet, state)));
        },
      ),
      runs,
    );
  });
});

describe('lazy decisions', () => {
  const state: HealthState = {
    frontends: { fe_web: { up: true } },
    backends: { be_a: { up: false, reason: 'DOWN', serversUp: 0, serversTotal: 2 }, be_b: { up: true } },
  };
  const { ruleSet } = parse(
    '198.18.0.1, 198.18.0.2 = any(b:be_a, b:be_b) with med 7\n198.18.0.3 = f:fe_web\n',
  );

  it('keep the data fields as own properties, and give reason and explanation on read', () => {
    const [d] = evaluate(ruleSet, state);
    expect(Object.keys(d ?? {})).toEqual(['table', 'prefix', 'family', 'advertise', 'rule', 'attributes']);
    expect(d?.reason).toBe('b:be_b up');
    expect(d?.explanation.detail).toBe('1 of 2 hold');
  });

  it('give every field in JSON, in the order of the Decision type', () => {
    const [d, , last] = evaluate(ruleSet, state);
    expect(Object.keys(JSON.parse(JSON.stringify(d)) as object)).toEqual([
      'table',
      'prefix',
      'family',
      'advertise',
      'rule',
      'reason',
      'explanation',
      'attributes',
    ]);
    expect(JSON.parse(JSON.stringify(last))).toEqual({
      table: 'vol1',
      prefix: '198.18.0.3/32',
      family: 'ipv4',
      advertise: true,
      rule: 1,
      reason: 'f:fe_web up',
      explanation: { term: 'f:fe_web', value: true, detail: 'up', children: [] },
    });
  });

  it('make a reason and an explanation once per rule, shared by its routes', () => {
    const [a, b] = evaluate(ruleSet, state);
    expect(a?.explanation).toBe(b?.explanation);
    expect(a?.explanation).toBe(a?.explanation);
    expect(a?.reason).toBe(b?.reason);
  });

  it('explain the state they were evaluated against, whatever was evaluated since', () => {
    const first = evaluate(ruleSet, state);
    const allDown: HealthState = { frontends: {}, backends: {} };
    const second = evaluate(ruleSet, allDown);
    expect(second.map((d) => d.reason)).toEqual([
      'b:be_a unknown, b:be_b unknown',
      'b:be_a unknown, b:be_b unknown',
      'f:fe_web unknown',
    ]);
    expect(first.map((d) => [d.advertise, d.reason])).toEqual([
      [true, 'b:be_b up'],
      [true, 'b:be_b up'],
      [true, 'f:fe_web up'],
    ]);
    expect(first[0]?.explanation.children.map((c) => c.detail)).toEqual([
      'down (DOWN), 0 of 2 servers usable',
      'up',
    ]);
  });
});
