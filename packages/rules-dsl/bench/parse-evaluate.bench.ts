import { test } from 'vitest';
import type { Decision } from '@rhi/rules-dsl';
import { evaluate, format, parse, ruleSetHash } from '@rhi/rules-dsl';
import { generateRules } from './generate.js';

const { text, state } = generateRules(10_000);
const parsed = parse(text, { file: 'bench.cfg' });

/** Reads every decision's reason, which evaluate makes only when asked (as the agent asks, every time). */
function readReasons(decisions: readonly Decision[]): number {
  let length = 0;
  for (const d of decisions) length += d.reason.length;
  return length;
}

test('10,000 rules (goal: parse + evaluate under 20 ms)', async ({ bench, expect }) => {
  expect(parsed.ok && parsed.ruleSet.rules.length === 10_000).toBe(true);
  await bench.compare(
    // The tasks of the first version, in their order, then those added with lazy decisions and the
    // compact rule set (run after them, so as not to change the heap the first ones start from).
    bench('parse + evaluate', () => {
      evaluate(parse(text, { file: 'bench.cfg' }).ruleSet, state);
    }),
    bench('parse', () => {
      parse(text, { file: 'bench.cfg' });
    }),
    bench('evaluate', () => {
      evaluate(parsed.ruleSet, state);
    }),
    bench('format + sha256 (rule-set identity)', () => {
      ruleSetHash(parsed.ruleSet);
    }),
    bench('format', () => {
      format(parsed.ruleSet);
    }),
    bench('parse + evaluate + every reason', () => {
      readReasons(evaluate(parse(text, { file: 'bench.cfg' }).ruleSet, state));
    }),
    bench('parse + build ruleSet.rules', () => {
      return parse(text, { file: 'bench.cfg' }).ruleSet.rules.length;
    }),
    bench('evaluate + every reason', () => {
      readReasons(evaluate(parsed.ruleSet, state));
    }),
  );
});
