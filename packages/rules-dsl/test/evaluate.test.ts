import { describe, expect, it } from 'vitest';
import type { Explanation, HealthState } from '../src/index.js';
import { evaluate, parse, renderExplanation } from '../src/index.js';

const state: HealthState = {
  frontends: { fe_web: { up: true }, fe_paused: { up: false, reason: 'PAUSED' } },
  backends: {
    be_up: { up: true, serversUp: 3, serversTotal: 3 },
    be_half: { up: true, serversUp: 1, serversTotal: 2 },
    be_down: { up: false, reason: 'DOWN', serversUp: 0, serversTotal: 3 },
    be_empty: { up: false, serversUp: 0, serversTotal: 0 },
    be_nocount: { up: true },
    be_maint: { up: true, reason: 'UP', serversUp: 2, serversTotal: 4 },
  },
};

function decide(expr: string, health: HealthState = state) {
  const result = parse(`198.18.200.1 = ${expr}\n`);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const [decision, ...rest] = evaluate(result.ruleSet, health);
  expect(rest).toEqual([]);
  if (!decision) throw new Error('no decision');
  return decision;
}

const advertise = (expr: string, health: HealthState = state) => decide(expr, health).advertise;

describe('evaluate: aggregators', () => {
  it.each([
    ['all(b:be_up, f:fe_web)', true],
    ['all(b:be_up, b:be_down)', false],
    ['all(b:be_down)', false],
    ['any(b:be_down, b:be_up)', true],
    ['any(b:be_down, f:fe_paused)', false],
    ['any(b:be_up)', true],
    ['not(b:be_down)', true],
    ['not(b:be_up)', false],
    ['not(not(b:be_up))', true],
    ['atleast(2, b:be_up, b:be_down, f:fe_web)', true],
    ['atleast(3, b:be_up, b:be_down, f:fe_web)', false],
    ['atleast(1, b:be_down, f:fe_paused)', false],
    ['atleast(1, b:be_down, f:fe_web)', true],
    ['true', true],
    ['false', false],
    ['true()', true],
    ['false()', false],
    ['all(true, b:be_up)', true],
    ['any(false, b:be_down)', false],
    ['all(f:fe_web, any(b:be_down, all(b:be_up, not(f:fe_paused))))', true],
    ['b:be_up', true],
    ['f:fe_paused', false],
  ])('%s -> %s', (expr, expected) => {
    expect(advertise(expr)).toBe(expected);
  });
});

describe('evaluate: proxies', () => {
  it('takes HAProxy verdict for a plain backend, whatever its server counts', () => {
    expect(advertise('b:be_empty')).toBe(false);
    expect(advertise('b:be_nocount')).toBe(true);
    expect(advertise('all(b:be_maint)')).toBe(true);
  });

  it('counts an unknown proxy as down and says unknown', () => {
    const d = decide('all(b:be_up, b:be_missing, f:fe_missing)');
    expect(d.advertise).toBe(false);
    expect(d.explanation.children.map((c) => [c.term, c.value, c.detail])).toEqual([
      ['b:be_up', true, 'up, 3 of 3 servers usable'],
      ['b:be_missing', false, 'unknown backend'],
      ['f:fe_missing', false, 'unknown frontend'],
    ]);
    expect(d.reason).toBe('b:be_missing unknown, f:fe_missing unknown');
    expect(advertise('not(b:be_missing)')).toBe(true);
    expect(advertise('b:be_missing>=1')).toBe(false);
  });

  it('does not take a frontend for a backend of the same name', () => {
    const health: HealthState = { frontends: { web: { up: true } }, backends: {} };
    expect(advertise('b:web', health)).toBe(false);
    expect(advertise('f:web', health)).toBe(true);
  });

  it('does not find names on the object prototype', () => {
    const empty: HealthState = { frontends: {}, backends: {} };
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(decide(`any(b:${name}, f:${name})`, empty)).toMatchObject({
        advertise: false,
        reason: `b:${name} unknown, f:${name} unknown`,
      });
    }
  });
});

describe('evaluate: capacity thresholds', () => {
  it.each([
    ['b:be_up>=3', true, '3 of 3 servers usable, need 3'],
    ['b:be_up>=4', false, '3 of 3 servers usable, need 4'],
    ['b:be_half>=1', true, '1 of 2 servers usable, need 1'],
    ['b:be_half>=2', false, '1 of 2 servers usable, need 2'],
    ['b:be_half>=50%', true, '1 of 2 servers usable (50%), need 50%'],
    ['b:be_half>=51%', false, '1 of 2 servers usable (50%), need 51%'],
    ['b:be_up>=100%', true, '3 of 3 servers usable (100%), need 100%'],
    ['b:be_maint>=50%', true, '2 of 4 servers usable (50%), need 50%'],
    ['b:be_down>=1%', false, '0 of 3 servers usable (0%), need 1%'],
    ['b:be_empty>=1', false, '0 of 0 servers usable, need 1'],
    ['b:be_empty>=1%', false, 'no servers'],
    ['b:be_nocount>=1', false, 'server counts unknown'],
    ['b:be_nocount>=1%', false, 'server counts unknown'],
  ])('%s -> %s (%s)', (expr, value, detail) => {
    const d = decide(expr);
    expect(d.advertise).toBe(value);
    expect(d.explanation).toEqual({ term: expr, value, detail, children: [] });
  });

  it('uses server counts even when HAProxy says the backend is down', () => {
    const health: HealthState = {
      frontends: {},
      backends: { be: { up: false, serversUp: 2, serversTotal: 2 } },
    };
    expect(advertise('b:be>=2', health)).toBe(true);
    expect(advertise('b:be', health)).toBe(false);
  });

  it('computes percentages exactly (1 of 3 is below 34%, 2 of 3 is at least 66%)', () => {
    const health: HealthState = {
      frontends: {},
      backends: {
        a: { up: true, serversUp: 1, serversTotal: 3 },
        b: { up: true, serversUp: 2, serversTotal: 3 },
      },
    };
    expect(advertise('b:a>=33%', health)).toBe(true);
    expect(advertise('b:a>=34%', health)).toBe(false);
    expect(advertise('b:b>=66%', health)).toBe(true);
    expect(advertise('b:b>=67%', health)).toBe(false);
  });
});

describe('evaluate: decisions', () => {
  it('returns one decision per route, in file order, with table, family, rule index and attributes', () => {
    const result = parse(
      [
        '198.18.200.1, vol2%2001:db8::/64 = all(b:be_up) with med 5',
        '198.18.200.2%vol3 = any(b:be_down)',
        '198.18.201.0/24 = true',
      ].join('\n'),
    );
    const decisions = evaluate(result.ruleSet, state);
    expect(decisions.map((d) => [d.table, d.prefix, d.family, d.advertise, d.rule, d.attributes])).toEqual([
      ['vol1', '198.18.200.1/32', 'ipv4', true, 0, { med: 5 }],
      ['vol2', '2001:db8::/64', 'ipv6', true, 0, { med: 5 }],
      ['vol3', '198.18.200.2/32', 'ipv4', false, 1, undefined],
      ['vol1', '198.18.201.0/24', 'ipv4', true, 2, undefined],
    ]);
    // As JSON (the wire form) a decision carries every field, attributes only when the rule has them.
    expect(JSON.parse(JSON.stringify(decisions[2]))).toEqual({
      table: 'vol3',
      prefix: '198.18.200.2/32',
      family: 'ipv4',
      advertise: false,
      rule: 1,
      reason: 'b:be_down down',
      explanation: {
        term: 'any(b:be_down)',
        value: false,
        detail: '0 of 1 hold',
        children: [expect.anything()],
      },
    });
    expect(JSON.parse(JSON.stringify(decisions[0]))).toMatchObject({
      attributes: { med: 5 },
      reason: 'b:be_up up',
    });
  });

  it('is pure: the same input gives equal decisions, and inputs are not changed', () => {
    const result = parse('198.18.200.1 = all(b:be_up, any(f:fe_web, b:be_half>=2))');
    const copy = structuredClone(state);
    expect(JSON.stringify(evaluate(result.ruleSet, state))).toBe(
      JSON.stringify(evaluate(result.ruleSet, state)),
    );
    expect(state).toEqual(copy);
  });

  it('names every term by its canonical text, on a first evaluation and on later ones (cached texts)', () => {
    const result = parse(
      '198.18.200.1 = all(f:fe_web, any(b:be_up, b:be_half>=50%), not(b:be_down), atleast(1, b:be_up, true))\n',
    );
    const terms = (e: Explanation): string[] => [e.term, ...e.children.flatMap(terms)];
    const expected = [
      'all(f:fe_web, any(b:be_up, b:be_half>=50%), not(b:be_down), atleast(1, b:be_up, true))',
      'f:fe_web',
      'any(b:be_up, b:be_half>=50%)',
      'b:be_up',
      'b:be_half>=50%',
      'not(b:be_down)',
      'b:be_down',
      'atleast(1, b:be_up, true)',
      'b:be_up',
      'true',
    ];
    const runs = [1, 2, 3].map(() => evaluate(result.ruleSet, state));
    for (const [d] of runs) expect(d && terms(d.explanation)).toEqual(expected);
    // Another health state changes values and reasons, never the cached texts.
    const down: HealthState = { frontends: {}, backends: {} };
    const [d] = evaluate(result.ruleSet, down);
    expect(d && terms(d.explanation)).toEqual(expected);
    expect(d?.reason).toBe('f:fe_web unknown, b:be_up unknown, b:be_half>=50% unknown');
  });

  it('returns nothing for an empty rule set', () => {
    expect(evaluate({ version: 1, rules: [] }, state)).toEqual([]);
  });
});

describe('evaluate: explanations and reasons', () => {
  it('builds a tree that says which terms were true or false and why', () => {
    const d = decide('all(f:fe_web, any(b:be_down, b:be_half>=2), not(f:fe_paused))');
    const expected: Explanation = {
      term: 'all(f:fe_web, any(b:be_down, b:be_half>=2), not(f:fe_paused))',
      value: false,
      detail: '2 of 3 hold',
      children: [
        { term: 'f:fe_web', value: true, detail: 'up', children: [] },
        {
          term: 'any(b:be_down, b:be_half>=2)',
          value: false,
          detail: '0 of 2 hold',
          children: [
            { term: 'b:be_down', value: false, detail: 'down (DOWN), 0 of 3 servers usable', children: [] },
            { term: 'b:be_half>=2', value: false, detail: '1 of 2 servers usable, need 2', children: [] },
          ],
        },
        {
          term: 'not(f:fe_paused)',
          value: true,
          detail: 'negates false',
          children: [{ term: 'f:fe_paused', value: false, detail: 'down (PAUSED)', children: [] }],
        },
      ],
    };
    expect(d.explanation).toEqual(expected);
    expect(d.reason).toBe('b:be_down down, b:be_half>=2 1/2 usable');
  });

  it.each([
    ['all(b:be_up, f:fe_web)', 'b:be_up up, f:fe_web up'],
    ['all(b:be_up, b:be_down)', 'b:be_down down'],
    ['any(b:be_down, b:be_up, f:fe_web)', 'b:be_up up, f:fe_web up'],
    ['any(b:be_down, f:fe_paused)', 'b:be_down down, f:fe_paused down'],
    ['not(b:be_down)', 'not(b:be_down down)'],
    ['atleast(2, b:be_up, b:be_down, f:fe_web)', '2 of 3 hold (need 2): b:be_up up, f:fe_web up'],
    ['atleast(3, b:be_up, b:be_down, f:fe_web)', '2 of 3 hold (need 3): b:be_down down'],
    ['true', 'true (constant)'],
    ['b:be_half>=50%', 'b:be_half>=50% 1/2 usable'],
    ['b:be_nocount>=2', 'b:be_nocount>=2 server counts unknown'],
    ['all(b:a, b:b, b:c, b:d, b:e, b:f)', 'b:a unknown, b:b unknown, b:c unknown, b:d unknown, and 2 more'],
  ])('one-line reason of %s: %s', (expr, reason) => {
    const d = decide(expr);
    expect(d.reason).toBe(reason);
    expect(d.reason).not.toContain('\n');
  });

  it('renders the tree as indented text', () => {
    const d = decide('all(f:fe_web, any(b:be_down, b:be_half>=2), not(f:fe_paused))');
    expect(renderExplanation(d.explanation, '  ')).toBe(
      [
        '  all(f:fe_web, any(b:be_down, b:be_half>=2), not(f:fe_paused)): false (2 of 3 hold)',
        '  ├─ f:fe_web: true (up)',
        '  ├─ any(b:be_down, b:be_half>=2): false (0 of 2 hold)',
        '  │  ├─ b:be_down: false (down (DOWN), 0 of 3 servers usable)',
        '  │  └─ b:be_half>=2: false (1 of 2 servers usable, need 2)',
        '  └─ not(f:fe_paused): true (negates false)',
        '     └─ f:fe_paused: false (down (PAUSED))',
      ].join('\n'),
    );
    expect(renderExplanation(decide('b:be_up').explanation)).toBe(
      'b:be_up: true (up, 3 of 3 servers usable)',
    );
  });

  // reason and explanation are made on first read, by accessors of the decision's class: a spread or a
  // structuredClone keeps the data fields only, JSON keeps everything.
  it('returns data that survives JSON; spreading and cloning keep the data fields', () => {
    const { ruleSet } = parse('198.18.200.1 = all(b:be_app)\n');
    const [d] = evaluate(ruleSet, { frontends: {}, backends: { be_app: { up: false } } });
    expect({ ...d }).toMatchObject({ advertise: false });
    expect(structuredClone(JSON.parse(JSON.stringify(d)))?.explanation.children[0]?.term).toBe('b:be_app');
    expect(JSON.parse(JSON.stringify(d))).toEqual({
      ...d,
      reason: 'b:be_app down',
      explanation: d?.explanation,
    });
  });
});
