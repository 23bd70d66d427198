import { describe, expect, it } from 'vitest';
import type { HealthState, Rule } from '../src/index.js';
import { evaluate, format, parse } from '../src/index.js';
import { eagerEvaluate } from './eager-evaluate.js';

const state: HealthState = {
  frontends: { fe_web: { up: true } },
  backends: {
    be_a: { up: true, serversUp: 2, serversTotal: 4 },
    be_b: { up: false, serversUp: 0, serversTotal: 2 },
  },
};

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('parsed rule sets (compact program, objects built on first read)', () => {
  it('leave out rules with errors, whatever they had written', () => {
    const { ruleSet, ok } = parse(
      [
        '198.18.0.1 = all(b:be_a, f:fe_web)',
        '198.18.0.2, 198.18.0.9 = any(b:be_a, not(b:be_b), atleast(1, b:be_a>=3)) with med 5, community 1:2, foo 1',
        '198.18.0.3%vol2 = any(b:be_b, b:be_a>=50%) with med 7',
        '198.18.0.4 = all(b:be_a, any(b:be_b, b:x y))',
        '198.18.0.5, 198.18.0.1 = b:be_a',
        '2001:db8::/64 = atleast(2, b:be_a, b:be_b, true)',
      ].join('\n'),
    );
    expect(ok).toBe(false);
    const expected: Rule[] = [
      {
        routes: [{ table: 'vol1', prefix: '198.18.0.1/32', family: 'ipv4' }],
        expr: {
          type: 'all',
          args: [
            { type: 'proxy', side: 'backend', name: 'be_a' },
            { type: 'proxy', side: 'frontend', name: 'fe_web' },
          ],
        },
      },
      {
        routes: [{ table: 'vol2', prefix: '198.18.0.3/32', family: 'ipv4' }],
        expr: {
          type: 'any',
          args: [
            { type: 'proxy', side: 'backend', name: 'be_b' },
            { type: 'proxy', side: 'backend', name: 'be_a', threshold: { kind: 'percent', value: 50 } },
          ],
        },
        attributes: { med: 7 },
      },
      {
        routes: [{ table: 'vol1', prefix: '2001:db8::/64', family: 'ipv6' }],
        expr: {
          type: 'atleast',
          n: 2,
          args: [
            { type: 'proxy', side: 'backend', name: 'be_a' },
            { type: 'proxy', side: 'backend', name: 'be_b' },
            { type: 'const', value: true },
          ],
        },
      },
    ];
    expect(ruleSet.rules).toEqual(expected);
    expect(evaluate(ruleSet, state).map((d) => [d.prefix, d.advertise, d.rule, d.attributes])).toEqual([
      ['198.18.0.1/32', true, 0, undefined],
      ['198.18.0.3/32', true, 1, { med: 7 }],
      ['2001:db8::/64', true, 2, undefined],
    ]);
  });

  it('hold rules longer than a chunk of code, and rules over many chunks', () => {
    const names = Array.from({ length: 3000 }, (_, i) => `b:be_${i % 2 ? 'a' : 'b'}>=${i + 1}`);
    const lines = [
      ...Array.from(
        { length: 1500 },
        (_, i) => `198.18.${i >> 8}.${i & 255} = any(b:be_a, b:be_b, f:fe_web)`,
      ),
      `198.19.0.1 = any(${names.join(', ')})`,
      ...Array.from({ length: 1500 }, (_, i) => `198.20.${i >> 8}.${i & 255} = all(b:be_a, not(b:be_b))`),
    ];
    // 3000 terms (9000 integers of code) are over the default maxTermsPerRule, and over a chunk.
    const { ruleSet, ok } = parse(lines.join('\n'), { maxTermsPerRule: 3001 });
    expect(ok).toBe(true);
    expect(ruleSet.rules).toHaveLength(3001);
    const long = ruleSet.rules[1500]?.expr;
    expect(long?.type === 'any' && long.args.length).toBe(3000);
    expect(format(ruleSet)).toBe(lines.map((l) => l.replace(' =', '/32 =')).join('\n') + '\n');
    expect(json(evaluate(ruleSet, state))).toEqual(json(eagerEvaluate(ruleSet, state)));
  });

  it('print the terms of a rule with errors as written, numbers too large for the code included', () => {
    const messages = (text: string) =>
      parse(text)
        .diagnostics.filter((d) => d.code === 'RULE_REPEATED_TERM')
        .map((d) => d.message);
    expect(messages('198.18.0.1 = all(b:x>=99999999999, b:x>=99999999999, b:x>=99999999998)\n')).toEqual([
      "'b:x>=99999999999' appears twice in all()",
    ]);
    expect(messages('198.18.0.1 = all(b:x>=4294967297%, b:x>=4294967297%)\n')).toEqual([
      "'b:x>=4294967297%' appears twice in all()",
    ]);
    expect(messages('198.18.0.1 = any(atleast(5, b:a), atleast(5, b:a), atleast(6, b:a))\n')).toEqual([
      "'atleast(5, b:a)' appears twice in any()",
    ]);
  });

  it('share one object per distinct proxy term, thresholds included', () => {
    const { ruleSet } = parse(
      '198.18.0.1 = all(b:be_a, b:be_a>=2)\n198.18.0.2 = any(b:be_a>=2, b:be_a, f:be_a)\n',
    );
    const [first, second] = ruleSet.rules.map((r) =>
      r.expr.type === 'all' || r.expr.type === 'any' ? r.expr.args : [],
    );
    expect(first?.[0]).toBe(second?.[1]);
    expect(first?.[1]).toBe(second?.[0]);
    expect(second?.[2]).not.toBe(second?.[1]);
    expect(second?.[2]).toEqual({ type: 'proxy', side: 'frontend', name: 'be_a' });
  });

  it('build the rule objects once, and show them in spreads, JSON and clones like plain data', () => {
    const { ruleSet } = parse('198.18.0.1 = all(b:be_a)\n');
    expect(ruleSet.rules).toBe(ruleSet.rules);
    const plain = {
      version: 1,
      rules: [
        {
          routes: [{ table: 'vol1', prefix: '198.18.0.1/32', family: 'ipv4' }],
          expr: { type: 'all', args: [{ type: 'proxy', side: 'backend', name: 'be_a' }] },
        },
      ],
    };
    expect(json(ruleSet)).toEqual(plain);
    expect({ ...ruleSet }).toEqual(plain);
    expect(structuredClone(ruleSet)).toEqual(plain);
    expect(Object.keys(ruleSet)).toEqual(['version', 'rules']);
  });
});
