import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'vitest';
import { DEFAULT_LIMITS, parse, ruleSetHash } from '@rhi/rules-dsl';
import { generateRules } from './generate.js';

// The parse limits (issue "agent: fail safe under operator mistakes", point 4): what a rule set at the
// default limits costs, and what refusing one far over them costs. Timings by vitest bench on the built
// dist/; memory in a fresh Node process per input (see `measureMemory`). RHI_BENCH_DIST=<dir> measures the
// memory of another build (e.g. the code before the limits) for comparison.

/** `count` short valid rules (about 18 bytes each): 200,000 of them stay under the default maxBytes. */
function manyRules(count: number): string {
  const lines = new Array<string>(count);
  for (let i = 0; i < count; i++) lines[i] = `10.${i >> 16}.${(i >> 8) & 255}.${i & 255} = b:a`;
  return `${lines.join('\n')}\n`;
}

/** The most the default limits accept: 10,000 rules of 37 distinct terms each, just under 4 MiB. */
function widestRules(): string {
  const lines = new Array<string>(DEFAULT_LIMITS.maxRules);
  for (let i = 0; i < lines.length; i++) {
    const terms = Array.from({ length: 37 }, (_, k) => `b:be_${(i + 7 * k) % 2500}`);
    lines[i] = `10.${i >> 16}.${(i >> 8) & 255}.${i & 255} = any(${terms.join(', ')})`;
  }
  return `${lines.join('\n')}\n`;
}

const inputs = {
  '1,000 rules': generateRules(1_000).text,
  '10,000 rules (maxRules)': generateRules(10_000).text,
  '10,000 rules of 37 terms (4.1 MB)': widestRules(),
  'refuse 20 MB (RULE_SET_TOO_LARGE)': generateRules(330_000).text,
  'refuse 200,000 rules, 3.6 MB (RULE_SET_TOO_MANY_RULES)': manyRules(200_000),
  'refuse 180 KB, 20,000 repeated terms (RULE_TOO_MANY_TERMS)': `198.18.200.1 = all(${new Array<string>(20_000).fill('b:be_x1').join(', ')})\n`,
  'refuse 100,000 levels of not() (RULE_TOO_DEEP)': `198.18.200.1 = ${'not('.repeat(100_000)}b:be_x${')'.repeat(100_000)}\n`,
};

const expected: Record<keyof typeof inputs, string | undefined> = {
  '1,000 rules': undefined,
  '10,000 rules (maxRules)': undefined,
  '10,000 rules of 37 terms (4.1 MB)': undefined,
  'refuse 20 MB (RULE_SET_TOO_LARGE)': 'RULE_SET_TOO_LARGE',
  'refuse 200,000 rules, 3.6 MB (RULE_SET_TOO_MANY_RULES)': 'RULE_SET_TOO_MANY_RULES',
  'refuse 180 KB, 20,000 repeated terms (RULE_TOO_MANY_TERMS)': 'RULE_TOO_MANY_TERMS',
  'refuse 100,000 levels of not() (RULE_TOO_DEEP)': 'RULE_TOO_DEEP',
};

test('parse limits: accepted at the limits, refused far over them', async ({ bench, expect }) => {
  for (const [name, text] of Object.entries(inputs)) {
    const result = parse(text, { file: 'bench.cfg' });
    const code = expected[name as keyof typeof inputs];
    if (code === undefined) expect(result.ok, name).toBe(true);
    else
      expect(
        result.diagnostics.map((d) => d.code),
        name,
      ).toContain(code);
  }
  await bench.compare(
    ...Object.entries(inputs).map(([name, text]) =>
      bench(`parse: ${name}`, () => {
        parse(text, { file: 'bench.cfg' });
      }),
    ),
    // What the agent does with a new rules file before it may use it (acceptRulesFile): parse it, take its
    // identity (format + sha256) and read its rules as objects (proxy names, allowlist).
    ...(['1,000 rules', '10,000 rules (maxRules)'] as const).map((name) =>
      bench(`parse + hash + rules: ${name}`, () => {
        const { ruleSet } = parse(inputs[name], { file: 'bench.cfg' });
        ruleSetHash(ruleSet);
        return ruleSet.rules.length;
      }),
    ),
  );
});

/**
 * A parse in a fresh process, with a young generation large enough (512 MB semi-spaces) that no garbage
 * collection runs during it: the heap it grows by is then all it allocated, which bounds its peak. Also
 * what stays after a full collection (the result kept), the rise of the process's peak RSS, and one
 * cold run's time.
 */
const CHILD = `
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
const { parse } = await import(process.argv[2]);
const text = readFileSync(process.argv[1], 'utf8');
let gcs = 0;
const observer = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
observer.observe({ entryTypes: ['gc'] });
parse('10.0.0.1 = b:a\\n');
globalThis.gc(); globalThis.gc();
await new Promise((r) => setTimeout(r, 10));
gcs = 0;
const rss0 = process.resourceUsage().maxRSS;
const heap0 = process.memoryUsage().heapUsed;
const t0 = performance.now();
const result = parse(text, { file: 'bench.cfg' });
const ms = performance.now() - t0;
const heap1 = process.memoryUsage().heapUsed;
const rss1 = process.resourceUsage().maxRSS;
await new Promise((r) => setTimeout(r, 10));
const gcsDuring = gcs;
globalThis.gc(); globalThis.gc();
const kept = process.memoryUsage().heapUsed - heap0;
console.log(JSON.stringify({ ms, allocatedMb: (heap1 - heap0) / 1e6, keptMb: kept / 1e6, rssRiseMb: (rss1 - rss0) / 1e3, gcsDuring, diagnostics: result.diagnostics.length, ok: result.ok, size: result.ok ? result.ruleSet.rules.length : 0 }));
`;

test('parse limits: memory of one parse, in a fresh process per input', () => {
  const dist =
    process.env.RHI_BENCH_DIST ?? join(fileURLToPath(new URL('..', import.meta.url)), 'dist', 'index.js');
  const dir = mkdtempSync(join(tmpdir(), 'rhi-bench-limits-'));
  const rows: Record<string, unknown>[] = [];
  try {
    for (const [name, text] of Object.entries(inputs)) {
      const file = join(dir, 'input.cfg');
      writeFileSync(file, text);
      const child = spawnSync(
        process.execPath,
        [
          '--expose-gc',
          '--max-semi-space-size=512',
          '--min-semi-space-size=512',
          '--input-type=module',
          '-e',
          CHILD,
          file,
          dist,
        ],
        { encoding: 'utf8' },
      );
      const line = child.stdout.trim().split('\n').at(-1) ?? '';
      rows.push({
        input: name,
        bytes: Buffer.byteLength(text),
        ...(line ? JSON.parse(line) : { error: child.stderr.slice(0, 300) }),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`memory of one parse (${dist}):`);
  console.table(rows);
});
