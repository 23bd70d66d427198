import { test } from 'vitest';
import { evaluate, format, parse, ruleSetHash } from '@rhi/rules-dsl';
import { generateRules } from './generate.js';

const { text, state } = generateRules(10_000);
const parsed = parse(text, { file: 'bench.cfg' });

test('10,000 rules (goal: parse + evaluate under 20 ms)', async ({ bench, expect }) => {
  expect(parsed.ok && parsed.ruleSet.rules.length === 10_000).toBe(true);
  await bench.compare(
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
  );
});
