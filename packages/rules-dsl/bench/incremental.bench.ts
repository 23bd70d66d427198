import { test } from 'vitest';
import type { Decision, HealthState } from '@rhi/rules-dsl';
import {
  evaluate,
  evaluateRules,
  healthChanges,
  packRuleSet,
  parse,
  ruleDependencies,
  unpackRuleSet,
} from '@rhi/rules-dsl';
import { generateRules } from './generate.js';

// Incremental evaluation (issue "constant cost per change — milliseconds at 10,000 routes"): on one
// HAProxy health change the agent re-decides only the rules naming a proxy whose health changed, instead
// of all 10,000. Timings by vitest bench on the built dist/.

const { text, state } = generateRules(10_000);
const { ruleSet } = parse(text, { file: 'bench.cfg' });
const before: HealthState = state;
const changedBackend = 'be_42';
/** One backend goes down; every other health the same object, both tables new objects (2,600 proxies). */
const after: HealthState = {
  frontends: { ...state.frontends },
  backends: { ...state.backends, [changedBackend]: { up: false, serversUp: 0, serversTotal: 6 } },
};
/** The same change in a state of all-new objects, as a fresh poll of HAProxy gives. */
const polled = structuredClone(after);
const polledAgain = structuredClone(after);
const deps = ruleDependencies(ruleSet);
const affected = deps.affected(healthChanges(before, after));
const { packed } = packRuleSet(ruleSet);

function readReasons(decisions: readonly Decision[]): number {
  let length = 0;
  for (const d of decisions) length += d.reason.length;
  return length;
}

test(`one backend change in 10,000 rules (${affected.length} rules affected)`, async ({ bench, expect }) => {
  const proxies = Object.keys(after.frontends).length + Object.keys(after.backends).length;
  expect(ruleSet.rules.length === 10_000 && proxies === 2_600).toBe(true);
  expect(healthChanges(before, polled)).toEqual({ frontends: [], backends: [changedBackend] });
  expect(healthChanges(polled, polledAgain)).toEqual({ frontends: [], backends: [] });
  await bench.compare(
    bench('evaluate (10,000 rules)', () => {
      evaluate(ruleSet, after);
    }),
    bench('evaluateRules (the affected rules)', () => {
      evaluateRules(ruleSet, after, affected);
    }),
    bench('healthChanges + affected + evaluateRules', () => {
      evaluateRules(ruleSet, after, deps.affected(healthChanges(before, after)));
    }),
    bench('healthChanges (2,600 proxies, one changed)', () => {
      healthChanges(before, after);
    }),
    bench('healthChanges (2,600 proxies, fresh objects, one changed)', () => {
      healthChanges(before, polled);
    }),
    bench('healthChanges (2,600 proxies, none changed, fresh objects)', () => {
      healthChanges(polled, polledAgain);
    }),
    bench('evaluate + every reason', () => {
      readReasons(evaluate(ruleSet, after));
    }),
    bench('evaluateRules + every reason', () => {
      readReasons(evaluateRules(ruleSet, after, affected));
    }),
    bench('unpackRuleSet + ruleDependencies (once per rule set)', () => {
      ruleDependencies(unpackRuleSet(packed));
    }),
    bench('unpackRuleSet', () => {
      unpackRuleSet(packed);
    }),
  );
});
