import { describe, expect, it } from 'vitest';
import type { Diagnostic, ParseOptions } from '../src/index.js';
import {
  DEPTH_CEILING,
  RuleSetSchema,
  countDiagnostics,
  evaluate,
  format,
  formatDiagnostic,
  formatDiagnostics,
  formatSource,
  parse,
  renderExplanation,
  validateRuleSet,
} from '../src/index.js';
import { generateRules } from '../bench/generate.js';
import { expectDiagnosticsInRange } from './check.js';
import { deepNot, manyRules, repeatedTerms } from './inputs.js';

/**
 * The inputs of the issue "agent: fail safe under operator mistakes" (point 4), made in memory, and the
 * limits that now refuse them. Nothing here measures time: bench/limits.bench.ts does.
 */

/** Only the fields a test compares. */
const brief = (d: Diagnostic | undefined) =>
  d && { severity: d.severity, code: d.code, line: d.line, column: d.column };

describe('maxBytes', () => {
  // About 20 MB: the benchmark's 10,000 rules 42 times over, so that reading any of it would also report
  // duplicate routes.
  const twentyMB = generateRules(10_000).text.repeat(42);

  it('refuses a 20 MB text unread, at 1:1', () => {
    const result = parse(twentyMB, { file: 'big.rules' });
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map(brief)).toEqual([
      { severity: 'error', code: 'RULE_SET_TOO_LARGE', line: 1, column: 1 },
    ]);
    expect(result.diagnostics[0]?.message).toBe(
      'the rule set is larger than 4194304 bytes (the limit, maxBytes); none of it is read',
    );
    expect(result.ruleSet.rules).toEqual([]);
    expect(result.items).toEqual([]);
    expectDiagnosticsInRange(twentyMB, result.diagnostics);
  });

  it.each([
    ['ASCII', 'a'],
    ['two-byte', 'é'],
    ['three-byte', '€'],
    ['four-byte (a surrogate pair)', '😀'],
    ['lone-surrogate (three bytes, as its replacement)', '\ud800'],
  ])('counts UTF-8 bytes: a text of 100 in %s characters is read, one byte more is not', (_, char) => {
    const bytes = new TextEncoder().encode(char.replace(/^\ud800$/, '\ufffd')).length;
    const at = `${char.repeat(Math.floor(100 / bytes))}${'#'.repeat(100 % bytes)}`;
    const refused = (text: string) =>
      parse(text, { maxBytes: 100 }).diagnostics.some((d) => d.code === 'RULE_SET_TOO_LARGE');
    expect(refused(at)).toBe(false);
    expect(refused(`${at}#`)).toBe(true);
    expect(refused(`${char}${at}`)).toBe(true);
  });
});

describe('maxRules', () => {
  it('stops at rule 10,001 of 200,000 and reads none after it', () => {
    // The last line has an error, which is not reported: the parser never gets there.
    const text = `${manyRules(200_000)}10.99.0.1 = al(b:a)\n`;
    const result = parse(text, { file: 'many.rules' });
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map(brief)).toEqual([
      { severity: 'error', code: 'RULE_SET_TOO_MANY_RULES', line: 10_001, column: 1 },
    ]);
    expect(result.diagnostics[0]?.message).toBe(
      'more than 10000 rules (the limit, maxRules): this is rule 10001; the rest of the file is not read',
    );
    expect(result.ruleSet.rules).toHaveLength(10_000);
    expect(result.items).toHaveLength(10_000);
  });

  it('counts rules with errors too, and takes its limit from the options', () => {
    const text = '10.0.0.1 = al(b:a)\n10.0.0.2 = b:a\n\n# c\n10.0.0.3 = b:a\n';
    expect(parse(text, { maxRules: 2 }).diagnostics.map(brief)).toEqual([
      { severity: 'error', code: 'RULE_UNKNOWN_AGGREGATOR', line: 1, column: 12 },
      { severity: 'error', code: 'RULE_SET_TOO_MANY_RULES', line: 5, column: 1 },
    ]);
    expect(parse(text, { maxRules: 3 }).diagnostics.map((d) => d.code)).toEqual(['RULE_UNKNOWN_AGGREGATOR']);
  });
});

describe('rule-set limits past maxDiagnostics', () => {
  it('are listed still, and their rule counted in the note', () => {
    const bad = Array.from({ length: 150 }, (_, i) => `10.0.0.${i} = al(b:a)`);
    const rules = parse(`${bad.join('\n')}\n10.0.1.0 = b:a\n`, { maxRules: 120 }).diagnostics;
    expect(rules.slice(99).map(brief)).toEqual([
      { severity: 'error', code: 'RULE_UNKNOWN_AGGREGATOR', line: 100, column: 13 },
      { severity: 'error', code: 'RULE_SET_TOO_MANY_RULES', line: 121, column: 1 },
      { severity: 'warning', code: 'RULE_TOO_MANY_DIAGNOSTICS', line: 101, column: 14 },
    ]);
    expect(countDiagnostics(rules)).toEqual({ errors: 121, warnings: 0 });
    const routes = parse(bad.join('\n'), { maxRoutes: 120 }).diagnostics;
    expect(routes.slice(100).map(brief)).toEqual([
      { severity: 'error', code: 'RULE_SET_TOO_MANY_ROUTES', line: 121, column: 1 },
      { severity: 'warning', code: 'RULE_TOO_MANY_DIAGNOSTICS', line: 101, column: 14 },
    ]);
  });
});

describe('maxRoutes', () => {
  it('stops at the first route over the limit, whichever rule it is in', () => {
    const text = '10.0.0.1, 10.0.0.2 = b:a\n10.0.0.3, vol2%10.0.0.3 = b:a\n10.0.0.9 = al(b:a)\n';
    const result = parse(text, { maxRoutes: 3 });
    expect(result.diagnostics.map(brief)).toEqual([
      { severity: 'error', code: 'RULE_SET_TOO_MANY_ROUTES', line: 2, column: 11 },
    ]);
    expect(result.ruleSet.rules).toHaveLength(1);
    expect(parse(text, { maxRoutes: 5 }).diagnostics.map((d) => d.code)).toEqual(['RULE_UNKNOWN_AGGREGATOR']);
  });

  it('is 20,000 by default: 10,000 rules of two routes each fit, one route more does not', () => {
    const lines = Array.from(
      { length: 10_000 },
      (_, i) => `10.0.${i >> 8}.${i & 255}, 2001:db8::${i.toString(16)} = b:a`,
    );
    expect(parse(lines.join('\n')).ok).toBe(true);
    lines[9_999] = '10.1.0.0, 10.1.0.1, 10.1.0.2 = b:a';
    expect(parse(lines.join('\n')).diagnostics.map(brief)).toEqual([
      { severity: 'error', code: 'RULE_SET_TOO_MANY_ROUTES', line: 10_000, column: 21 },
    ]);
  });
});

describe('maxTermsPerRule', () => {
  it('refuses the 180 KB rule of 20,000 repeated terms at its 1,000th term, and lists 100 warnings', () => {
    const text = `${repeatedTerms(20_000)}198.18.200.2 = all(b:be_x1, b:be_x1)\n`;
    expect(text.length).toBeGreaterThan(180_000);
    const result = parse(text, { file: 'repeat.rules' });
    expect(result.ok).toBe(false);
    const codes = result.diagnostics.map((d) => d.code);
    // Terms 2 to 999 of the first rule repeat the first (998 warnings), then the 1,000th b:be_x1 is the
    // 1,001st term with all(); the next rule is read as usual.
    expect(codes.filter((c) => c === 'RULE_REPEATED_TERM')).toHaveLength(100);
    expect(result.diagnostics.slice(100).map(brief)).toEqual([
      { severity: 'error', code: 'RULE_TOO_MANY_TERMS', line: 1, column: 20 + 999 * 9 },
      { severity: 'warning', code: 'RULE_TOO_MANY_DIAGNOSTICS', line: 1, column: 20 + 101 * 9 },
    ]);
    expect(result.diagnostics[100]?.message).toBe(
      'more than 1000 terms in one rule, aggregators included (the limit, maxTermsPerRule)',
    );
    // Left out: 898 warnings of the first rule and the second rule's one.
    expect(result.diagnostics[101]).toMatchObject({
      message:
        '899 more warnings from here on are not listed; at most 100 errors and 100 warnings are (the limit, maxDiagnostics)',
      omitted: { errors: 0, warnings: 899 },
    });
    expect(countDiagnostics(result.diagnostics)).toEqual({ errors: 1, warnings: 999 });
    expect(formatDiagnostics(result.diagnostics).split('\n').at(-1)).toBe('1 error, 999 warnings');
    expectDiagnosticsInRange(text, result.diagnostics);
  });

  it('takes its limit from the options, and counts aggregators and constants', () => {
    const text = '10.0.0.1 = all(b:a, not(b:b), true)\n';
    expect(parse(text, { maxTermsPerRule: 5 }).diagnostics.map((d) => d.code)).toEqual(['RULE_CONSTANT']);
    expect(parse(text, { maxTermsPerRule: 4 }).diagnostics.map(brief)).toEqual([
      { severity: 'error', code: 'RULE_TOO_MANY_TERMS', line: 1, column: 31 },
    ]);
  });
});

describe('maxDiagnostics', () => {
  it('lists 100 errors and 100 warnings, each in file order, and counts the rest in a last warning', () => {
    const lines = [
      ...Array.from({ length: 150 }, (_, i) => `10.0.0.${i} = true`),
      ...Array.from({ length: 1000 }, (_, i) => `10.1.${i >> 8}.${i & 255} = al(b:a)`),
    ];
    const result = parse(lines.join('\n'));
    expect(result.ok).toBe(false);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(100);
    expect(errors.at(-1)?.line).toBe(250);
    expect(result.diagnostics.filter((d) => d.code === 'RULE_CONSTANT')).toHaveLength(100);
    expect(result.diagnostics).toHaveLength(201);
    expect(result.diagnostics.at(-1)).toMatchObject({
      severity: 'warning',
      code: 'RULE_TOO_MANY_DIAGNOSTICS',
      line: 101,
      message:
        '900 more errors and 50 more warnings from here on are not listed; at most 100 errors and 100 warnings are (the limit, maxDiagnostics)',
      omitted: { errors: 900, warnings: 50 },
    });
    expect(formatDiagnostics(result.diagnostics).split('\n').at(-1)).toBe('1000 errors, 150 warnings');
  });

  it('keeps a file valid when only warnings were left out, and takes its limit from the options', () => {
    const result = parse('10.0.0.1 = true\n10.0.0.2 = false\n10.0.0.3 = true\n', { maxDiagnostics: 1 });
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ['RULE_CONSTANT', 1],
      ['RULE_TOO_MANY_DIAGNOSTICS', 2],
    ]);
  });

  it('still refuses a file whose every error was left out', () => {
    const result = parse('10.0.0.1 = al(b:a)\n', { maxDiagnostics: 0 });
    expect(result.ok).toBe(false);
    expect(result.diagnostics).toMatchObject([
      { code: 'RULE_TOO_MANY_DIAGNOSTICS', omitted: { errors: 1, warnings: 0 } },
    ]);
    expect(formatSource('10.0.0.1 = al(b:a)\n', { maxDiagnostics: 0 }).ok).toBe(false);
  });
});

describe('maxDepth', () => {
  it('is at most DEPTH_CEILING, whatever the options ask: the parser recurses no deeper', () => {
    for (const maxDepth of [1e6, Infinity]) {
      expect(parse(deepNot(100_000), { maxDepth }).diagnostics.map(brief)).toEqual([
        { severity: 'error', code: 'RULE_TOO_DEEP', line: 1, column: 16 + (DEPTH_CEILING + 1) * 4 },
      ]);
    }
  });

  it('accepts DEPTH_CEILING levels when asked, and evaluates, formats and explains them', () => {
    const text = deepNot(DEPTH_CEILING);
    const result = parse(text, { maxDepth: DEPTH_CEILING });
    expect(result.ok).toBe(true);
    const [decision] = evaluate(result.ruleSet, { frontends: {}, backends: { be_x: { up: true } } });
    if (!decision) throw new Error('no decision');
    expect(decision.advertise).toBe(true);
    expect(decision.reason).toBe(`${'not('.repeat(DEPTH_CEILING)}b:be_x up${')'.repeat(DEPTH_CEILING)}`);
    expect(renderExplanation(decision.explanation).split('\n')).toHaveLength(DEPTH_CEILING + 1);
    expect(format(result.ruleSet)).toBe(text.replace(' =', '/32 ='));
  });
});

describe('rule sets from the wire', () => {
  const ruleSetOf = (depth: number) => {
    let expr: unknown = { type: 'proxy', side: 'backend', name: 'be_x' };
    for (let i = 0; i < depth; i++) expr = { type: 'not', arg: expr };
    return {
      version: 1,
      rules: [{ routes: [{ table: 'vol1', prefix: '10.0.0.1/32', family: 'ipv4' }], expr }],
    };
  };

  it('refuse 100,000 levels of not() in the schema, before its recursive check', () => {
    const shape = RuleSetSchema.safeParse(ruleSetOf(100_000));
    expect(shape.success).toBe(false);
    expect(shape.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['rules.0.expr', `expression nested deeper than ${DEPTH_CEILING} levels`],
    ]);
    expect(validateRuleSet(ruleSetOf(100_000))).toMatchObject({
      ok: false,
      issues: [`rules.0.expr: expression nested deeper than ${DEPTH_CEILING} levels`],
    });
  });

  it('are held to the limits given to validateRuleSet', () => {
    const { ruleSet } = parse(manyRules(3));
    const wire: unknown = JSON.parse(JSON.stringify(ruleSet));
    expect(validateRuleSet(wire, 'wire', { maxRules: 3 }).ok).toBe(true);
    expect(validateRuleSet(wire, 'wire', { maxRules: 2 })).toMatchObject({
      ok: false,
      issues: [
        'rules.2: RULE_SET_TOO_MANY_RULES: more than 2 rules (the limit, maxRules): this is rule 3; the rest of the file is not read',
      ],
    });
  });

  it('pass the schema up to DEPTH_CEILING levels, and validation refuses them past maxDepth', () => {
    expect(RuleSetSchema.safeParse(ruleSetOf(DEPTH_CEILING)).success).toBe(true);
    expect(validateRuleSet(ruleSetOf(DEPTH_CEILING))).toMatchObject({
      ok: false,
      issues: ['rules.0: RULE_TOO_DEEP: expressions are nested deeper than 32 levels'],
    });
  });
});

describe('diagnostics on long lines', () => {
  it.each([
    ['the 180 KB rule', repeatedTerms(20_000), {}],
    ['100,000 levels of not()', deepNot(100_000), {}],
    ['100,000 levels of not(), its error at level 257', deepNot(100_000), { maxDepth: 300 }],
  ] satisfies [string, string, ParseOptions][])(
    'print a window of the line around the column: %s',
    (_, text, options) => {
      for (const d of parse(text, options).diagnostics.slice(0, 5)) {
        const printed = formatDiagnostic(d);
        expect(printed.length).toBeLessThan(d.message.length + 500);
        const [, source = '', caret = ''] = printed.split('\n');
        const at = caret.indexOf('^') - caret.indexOf('|') - 2;
        const shown = source.slice(source.indexOf('|') + 2);
        expect(shown.slice(at, at + d.length)).toBe(d.lineText.slice(d.column - 1, d.column - 1 + d.length));
        expect(shown.startsWith('…')).toBe(d.column > 61);
        expect(shown.endsWith('…')).toBe(true);
      }
    },
  );

  it('print a line of 240 characters whole, and clip one of 241 at both ends as needed', () => {
    const diagnostic = (lineText: string, column: number): Diagnostic => ({
      severity: 'error',
      code: 'RULE_SYNTAX',
      message: 'm',
      file: 'f',
      line: 1,
      column,
      length: 3,
      lineText,
    });
    const line = (n: number) =>
      Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    expect(formatDiagnostic(diagnostic(line(240), 200)).split('\n')[1]).toBe(` 1 | ${line(240)}`);
    expect(
      formatDiagnostic(diagnostic(line(241), 1))
        .split('\n')
        .slice(1),
    ).toEqual([` 1 | ${line(200)}…`, '   | ^~~']);
    expect(
      formatDiagnostic(diagnostic(line(241), 242))
        .split('\n')
        .slice(1),
    ).toEqual([` 1 | …${line(241).slice(41)}`, `   | ${' '.repeat(201)}^`]);
  });
});

describe('rules continued over many lines', () => {
  // Each line start inside a rule used to scan all the blank and comment lines after it: 40,000 comment
  // lines took 20 s. These finish in milliseconds now (and would run into the test timeout before).
  const filler = '# a comment\n'.repeat(50_000);

  it('read a rule whose parenthesis spans 50,000 comment lines', () => {
    const result = parse(`10.0.0.1 = all(b:a,\n${filler}b:b)\n10.0.0.2 = b:c\n`);
    expect(result.ok).toBe(true);
    expect(result.ruleSet.rules).toHaveLength(2);
    expect(result.items[0]).toMatchObject({ kind: 'rule', line: 1, endLine: 50_002 });
  });

  it('skip a rule with an error over 50,000 blank and comment lines', () => {
    const result = parse(`10.0.0.1 = all(b:a, ?,\n${filler}${'\n'.repeat(50_000)}b:b)\n10.0.0.2 = b:c\n`);
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([['RULE_SYNTAX', 1]]);
    expect(result.ruleSet.rules).toHaveLength(1);
  });
});
