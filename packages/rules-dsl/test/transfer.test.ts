import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HealthState, RuleSet } from '../src/index.js';
import {
  evaluate,
  format,
  packRuleSet,
  parse,
  ruleSetHash,
  ruleSetRoutes,
  unpackRuleSet,
  validateRuleSet,
} from '../src/index.js';
import { generateRules } from '../bench/generate.js';
import { fcRuns, healthStateArb, ruleSetArb } from './arbitraries.js';

const runs = fcRuns(20261202);

/** Across a thread, as postMessage takes it: cloned, its code transferred. */
const across = (ruleSet: RuleSet) => {
  const { packed, transfer } = packRuleSet(ruleSet);
  return unpackRuleSet(structuredClone(packed, { transfer }));
};
/** Everything a decision tells, its lazy reason and explanation included. */
const told = (ruleSet: RuleSet, state: HealthState) =>
  evaluate(ruleSet, state).map((d) => JSON.parse(JSON.stringify(d)) as unknown);
/** The routes of every rule, with their rule's attributes, read from the objects. */
const routesOf = (ruleSet: RuleSet) =>
  ruleSet.rules.flatMap((r) =>
    r.routes.map((route) => (r.attributes ? { ...route, attributes: r.attributes } : route)),
  );

describe('rule sets across threads (packRuleSet, unpackRuleSet)', () => {
  it('come out as they went in: rules, text, hash, routes and every decision with its reasons', () => {
    const { text, state } = generateRules(2_000);
    const { ruleSet } = parse(text);
    const unpacked = across(ruleSet);
    expect(ruleSetHash(unpacked)).toBe(ruleSetHash(ruleSet));
    expect(told(unpacked, state)).toEqual(told(ruleSet, state));
    expect(ruleSetRoutes(unpacked)).toEqual(routesOf(ruleSet));
    expect(unpacked.rules).toEqual(ruleSet.rules);
    expect(format(unpacked)).toBe(format(ruleSet));
  });

  it('leave the rule set packed usable, its code copied before the transfer', () => {
    const { text, state } = generateRules(300);
    const { ruleSet } = parse(text);
    const before = told(ruleSet, state);
    across(ruleSet);
    expect(told(ruleSet, state)).toEqual(before);
    expect(ruleSet.rules).toHaveLength(300);
  });

  it('keep any rule set the parser can make, and validateRuleSet', () => {
    fc.assert(
      fc.property(ruleSetArb, healthStateArb, (ruleSet, state) => {
        const valid = validateRuleSet(ruleSet);
        if (!valid.ok) throw new Error(valid.issues.join('; '));
        for (const source of [parse(format(ruleSet)).ruleSet, valid.ruleSet]) {
          const unpacked = across(source);
          expect(unpacked.rules).toEqual(ruleSet.rules);
          expect(ruleSetHash(unpacked)).toBe(ruleSetHash(ruleSet));
          expect(told(unpacked, state)).toEqual(told(ruleSet, state));
          expect(ruleSetRoutes(unpacked)).toEqual(routesOf(ruleSet));
        }
      }),
      runs,
    );
  });

  it('need a rule set made by parse or validateRuleSet', () => {
    const plain: RuleSet = { version: 1, rules: parse('198.18.0.1 = b:be_a\n').ruleSet.rules };
    expect(() => packRuleSet(plain)).toThrow(TypeError);
    // Routes are read from the objects of any other rule set.
    expect(ruleSetRoutes(plain)).toEqual([{ table: 'vol1', prefix: '198.18.0.1/32', family: 'ipv4' }]);
  });

  it('carry their hash: the rule set rebuilt is never formatted to know it', () => {
    const { ruleSet } = parse(generateRules(100).text);
    const { packed } = packRuleSet(ruleSet);
    const unpacked = unpackRuleSet({ ...packed, hash: 'f'.repeat(64) });
    expect(ruleSetHash(unpacked)).toBe('f'.repeat(64));
  });
});
