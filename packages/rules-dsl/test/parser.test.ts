import { describe, expect, it } from 'vitest';
import type { Diagnostic, Rule } from '../src/index.js';
import { DEFAULT_TABLE, parse } from '../src/index.js';

const only = (text: string): Rule => {
  const result = parse(text);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect(result.ruleSet.rules).toHaveLength(1);
  const [rule] = result.ruleSet.rules;
  if (!rule) throw new Error('no rule');
  return rule;
};

const errors = (text: string): Diagnostic[] =>
  parse(text, { file: 't.rules' }).diagnostics.filter((d) => d.severity === 'error');

describe('parse: routes', () => {
  it('puts a route without a table in vol1', () => {
    expect(DEFAULT_TABLE).toBe('vol1');
    expect(only('198.18.200.1 = all(b:be_app)').routes).toEqual([
      { table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' },
    ]);
  });

  it('gives IPv4 without a mask /32 and IPv6 without a mask /128', () => {
    expect(only('198.18.200.1, 2001:db8::1 = any(b:be_app)').routes).toEqual([
      { table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' },
      { table: 'vol1', prefix: '2001:db8::1/128', family: 'ipv6' },
    ]);
  });

  it('reads the table in prefix and suffix form', () => {
    expect(only('vol2%198.18.200.5, 198.18.200.6%vol3, 2001:db8::/32%_v6 = any(b:be_app)').routes).toEqual([
      { table: 'vol2', prefix: '198.18.200.5/32', family: 'ipv4' },
      { table: 'vol3', prefix: '198.18.200.6/32', family: 'ipv4' },
      { table: '_v6', prefix: '2001:db8::/32', family: 'ipv6' },
    ]);
  });

  it('treats vol1%x and x as the same route', () => {
    const [d] = errors('vol1%198.18.200.1 = all(b:a)\n198.18.200.1/32 = all(b:b)\n');
    expect(d).toMatchObject({ code: 'RULE_DUPLICATE_ROUTE', line: 2 });
  });

  it('names both lines of a prefix repeated in the same table', () => {
    const text =
      '198.18.200.1 = all(b:a)\n# other\n\n2001:db8::1 = all(b:b)\n198.18.200.1/32 = any(b:c)\n2001:DB8:0::1 = any(b:d)\n';
    const ds = errors(text);
    expect(ds.map((d) => [d.code, d.line, d.column, d.message])).toEqual([
      [
        'RULE_DUPLICATE_ROUTE',
        5,
        1,
        '198.18.200.1/32 in table vol1 is already controlled by the rule at line 1',
      ],
      [
        'RULE_DUPLICATE_ROUTE',
        6,
        1,
        '2001:db8::1/128 in table vol1 is already controlled by the rule at line 4',
      ],
    ]);
    // The first rule stays valid; the rule with the duplicate is left out.
    const result = parse(text);
    expect(result.ok).toBe(false);
    expect(result.ruleSet.rules.map((r) => r.routes[0]?.prefix)).toEqual([
      '198.18.200.1/32',
      '2001:db8::1/128',
    ]);
  });

  it('accepts the same prefix in two tables', () => {
    const result = parse(
      '198.18.200.1 = all(b:a)\nvol2%198.18.200.1 = all(b:b)\n198.18.200.1%vol3 = all(b:c)\n',
    );
    expect(result.ok).toBe(true);
    expect(result.ruleSet.rules.flatMap((r) => r.routes.map((x) => x.table))).toEqual([
      'vol1',
      'vol2',
      'vol3',
    ]);
  });

  it('accepts a more specific prefix inside another (they are different routes)', () => {
    expect(parse('198.18.200.0/24 = all(b:a)\n198.18.200.1 = all(b:b)\n').ok).toBe(true);
  });

  it.each([
    ['vol2', true],
    ['_', true],
    ['_vol_2', true],
    ['V', true],
    ['Static', true],
    ['TABLE', true],
    ['v'.repeat(64), true],
    ['v'.repeat(65), false],
    ['2vol', false],
    ['volé', false],
    ['static', false],
    ['table', false],
    ['bgp', false],
    ['ipv4', false],
    ['import', false],
    ['master4', false],
    ['public', false],
    ['primary', false],
  ])('table name %s valid: %s', (table, valid) => {
    const ds = errors(`${table}%198.18.200.1 = all(b:be_app)`);
    if (valid) expect(ds).toEqual([]);
    else expect(ds).toMatchObject([{ code: 'RULE_BAD_TABLE', line: 1, column: 1, length: table.length }]);
  });

  it('tells a keyword table name apart from a malformed one', () => {
    expect(errors('static%198.18.200.1 = all(b:a)')[0]?.message).toBe(
      "route table name 'static' is a BIRD keyword",
    );
    expect(errors('vol-2%198.18.200.1 = all(b:a)')[0]?.message).toContain("start with a letter or '_'");
  });

  it('reports a bad network of a list and keeps checking the others', () => {
    expect(
      errors('198.18.200.1/24, 198.18.200.300, vol-x%198.18.200.2 = all(b:a)').map((d) => [d.code, d.column]),
    ).toEqual([
      ['RULE_HOST_BITS', 1],
      ['RULE_BAD_ADDRESS', 18],
      ['RULE_BAD_TABLE', 34],
    ]);
  });
});

describe('parse: expressions', () => {
  it('reads proxy names with ., :, - and _', () => {
    expect(only('198.18.200.1 = all(b:be.app-1_x, f:fe:443, b:a.b:c-d)').expr).toEqual({
      type: 'all',
      args: [
        { type: 'proxy', side: 'backend', name: 'be.app-1_x' },
        { type: 'proxy', side: 'frontend', name: 'fe:443' },
        { type: 'proxy', side: 'backend', name: 'a.b:c-d' },
      ],
    });
  });

  it('reads a bare term, not and atleast, and thresholds', () => {
    expect(only('198.18.200.1 = b:be_app>=2').expr).toEqual({
      type: 'proxy',
      side: 'backend',
      name: 'be_app',
      threshold: { kind: 'count', value: 2 },
    });
    expect(only('198.18.200.1 = not(atleast(1, b:a>=100%, f:b))').expr).toEqual({
      type: 'not',
      arg: {
        type: 'atleast',
        n: 1,
        args: [
          { type: 'proxy', side: 'backend', name: 'a', threshold: { kind: 'percent', value: 100 } },
          { type: 'proxy', side: 'frontend', name: 'b' },
        ],
      },
    });
  });

  it.each([
    ['al', 'all'],
    ['alll', 'all'],
    ['ANY', 'any'],
    ['atlest', 'atleast'],
    ['atleats', 'atleast'],
    ['nto', 'not'],
    ['treu', 'true'],
    ['flase', 'false'],
    ['fals', 'false'],
  ])('suggests the nearest aggregator for %s', (word, guess) => {
    const [d] = errors(`198.18.200.1 = ${word}(b:a)`);
    expect(d).toMatchObject({ code: 'RULE_UNKNOWN_AGGREGATOR', column: 16, length: word.length });
    expect(d?.message).toBe(`unknown aggregator '${word}'; did you mean '${guess}'?`);
  });

  it('suggests nothing for a word far from every aggregator', () => {
    expect(errors('198.18.200.1 = majority(b:a)')[0]?.message).toBe(
      "unknown aggregator 'majority'; expected one of all, any, not, atleast, true, false",
    );
  });

  it('accepts nesting up to maxDepth', () => {
    const nest = (n: number) => `${'all('.repeat(n)}b:a${')'.repeat(n)}`;
    expect(parse(`198.18.200.1 = ${nest(32)}`).ok).toBe(true);
    expect(errors(`198.18.200.1 = ${nest(33)}`)).toMatchObject([{ code: 'RULE_TOO_DEEP' }]);
    expect(parse(`198.18.200.1 = ${nest(3)}`, { maxDepth: 2 }).diagnostics).toMatchObject([
      { code: 'RULE_TOO_DEEP' },
    ]);
  });

  it('survives very deep nesting without a stack overflow', () => {
    const text = `198.18.200.1 = ${'not('.repeat(100_000)}b:a${')'.repeat(100_000)}`;
    expect(parse(text).diagnostics).toMatchObject([{ code: 'RULE_TOO_DEEP' }]);
  });

  it('reads a rule continued over lines, with comments, up to its closing parenthesis', () => {
    const result = parse(
      '198.18.200.1 = all(\n  b:a,   # first\n\n  b:b>=2\n) with med 1  # end\n198.18.200.2 = any(b:c)\n',
    );
    expect(result.ok).toBe(true);
    expect(result.locations).toEqual([
      { line: 1, column: 1 },
      { line: 6, column: 1 },
    ]);
    expect(result.items).toMatchObject([
      { kind: 'rule', line: 1, endLine: 5, comment: '# end' },
      { kind: 'rule', line: 6, endLine: 6 },
    ]);
  });

  it('stops a rule with a missing parenthesis at the next rule, which still parses', () => {
    const result = parse('198.18.200.1 = all(b:a,\n  b:b\n198.18.200.2 = any(b:c)\n', { file: 'x.rules' });
    expect(result.diagnostics).toMatchObject([{ code: 'RULE_SYNTAX', line: 1, column: 19 }]);
    expect(result.ruleSet.rules.map((r) => r.routes[0]?.prefix)).toEqual(['198.18.200.2/32']);
  });
});

describe('parse: a parenthesis never closed', () => {
  it.each([
    [
      'a trailing comma, then a new rule',
      '198.18.200.1 = all(b:be_static,\n198.18.200.2 = any(b:be_app)\n',
      [1, 19, "'(' at 1:19 is never closed (line 2 starts a new rule)"],
    ],
    [
      'a closed inner call at the end of the file',
      '198.18.200.1 = all(b:a, any(b:b, b:c)',
      [1, 19, "'(' at 1:19 is never closed"],
    ],
    [
      'a closed inner call, then a final newline',
      '198.18.200.1 = all(b:a, any(b:b, b:c)\n',
      [1, 19, "'(' at 1:19 is never closed"],
    ],
    [
      'a missing term after a trailing comma',
      '198.18.200.1 = all(b:a, any(b:b,\n',
      [1, 28, "'(' at 1:28 is never closed, nor is '(' at 1:19"],
    ],
    [
      'three open calls',
      '198.18.200.1 = all(any(not(b:a\n',
      [1, 27, "'(' at 1:27 is never closed, nor are the 2 around it, from 1:19"],
    ],
    [
      'continuation lines, then a new rule',
      '198.18.200.1 = all(b:a,\n  b:b\n198.18.200.2 = any(b:c)\n',
      [1, 19, "'(' at 1:19 is never closed (line 3 starts a new rule)"],
    ],
    [
      'blank and comment lines before the new rule',
      '198.18.200.1 = all(b:a,\n\n  # note\n198.18.200.2 = any(b:c)\n',
      [1, 19, "'(' at 1:19 is never closed (line 4 starts a new rule)"],
    ],
    [
      'a comment, then the end of the file',
      '198.18.200.1 = all(b:a,\n  # a comment, then the end of the file\n',
      [1, 19, "'(' at 1:19 is never closed"],
    ],
    [
      'an open call on a continuation line',
      '198.18.200.1 = all(\n  b:a, any(\n    b:b\n\n',
      [2, 11, "'(' at 2:11 is never closed, nor is '(' at 1:19"],
    ],
    ['not( with nothing after it', '198.18.200.1 = not(\n', [1, 19, "'(' at 1:19 is never closed"]],
    ['atleast( without a count', '198.18.200.1 = atleast(', [1, 23, "'(' at 1:23 is never closed"]],
    ['atleast( with a count only', '198.18.200.1 = atleast(2\n', [1, 23, "'(' at 1:23 is never closed"]],
    [
      'atleast( with terms, then a new rule',
      '198.18.200.1 = atleast(2, b:a, b:b\n198.18.200.2 = any(b:c)\n',
      [1, 23, "'(' at 1:23 is never closed (line 2 starts a new rule)"],
    ],
    [
      'true( inside an open call',
      '198.18.200.1 = all(b:a, true(\n',
      [1, 29, "'(' at 1:29 is never closed, nor is '(' at 1:19"],
    ],
    ['an aggregator without its (', '198.18.200.1 = all(b:a, any\n', [1, 19, "'(' at 1:19 is never closed"]],
    ['a space before the (', '198.18.200.1 = any (b:a', [1, 20, "'(' at 1:20 is never closed"]],
    [
      'CRLF line endings',
      '198.18.200.1 = all(b:a,\r\n198.18.200.2 = any(b:c)\r\n',
      [1, 19, "'(' at 1:19 is never closed (line 2 starts a new rule)"],
    ],
  ] as const)('points at the ( for %s', (_, text, [line, column, message]) => {
    expect(errors(text)).toEqual([
      {
        severity: 'error',
        code: 'RULE_SYNTAX',
        message,
        file: 't.rules',
        line,
        column,
        length: 1,
        lineText: text.split('\n')[line - 1]?.replace(/\r$/, ''),
      },
    ]);
  });

  it('still reads the rule on the next line', () => {
    const result = parse('198.18.200.1 = all(b:be_static,\n198.18.200.2 = any(b:be_app)\n');
    expect(result.ruleSet.rules.map((r) => r.routes[0]?.prefix)).toEqual(['198.18.200.2/32']);
    expect(result.locations).toEqual([{ line: 2, column: 1 }]);
  });
});

describe('parse: the result', () => {
  it('names the file in diagnostics, <input> by default', () => {
    expect(parse('x').diagnostics[0]?.file).toBe('<input>');
    expect(parse('x', { file: 'a/b.rules' }).diagnostics[0]?.file).toBe('a/b.rules');
  });

  it('reports every error of a file at once, in order', () => {
    const text = [
      '198.18.0.1/24 = all(b:a)',
      '198.18.200.1 = al(b:a)',
      '198.18.200.2 = any()',
      '198.18.200.3 = all(b:a)',
    ].join('\n');
    const result = parse(text);
    expect(result.diagnostics.map((d) => [d.line, d.code])).toEqual([
      [1, 'RULE_HOST_BITS'],
      [2, 'RULE_UNKNOWN_AGGREGATOR'],
      [3, 'RULE_EMPTY_ARGS'],
    ]);
    expect(result.ok).toBe(false);
    expect(result.ruleSet.rules).toHaveLength(1);
    expect(result.locations).toEqual([{ line: 4, column: 1 }]);
  });

  it('is ok with warnings only', () => {
    const result = parse('0.0.0.0/0 = true\n');
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map((d) => [d.severity, d.code])).toEqual([
      ['warning', 'RULE_DEFAULT_ROUTE'],
      ['warning', 'RULE_CONSTANT'],
    ]);
    expect(result.ruleSet.rules).toHaveLength(1);
  });

  it('gives locations and items as plain data to spreading, JSON and cloning', () => {
    const result = parse(
      '# head\n198.18.200.1 = all(b:a)  # tail\n  198.18.200.2 = any(b:b, \n  # inner\n  b:c)\n',
    );
    const locations = [
      { line: 2, column: 1 },
      { line: 3, column: 3 },
    ];
    const items = [
      { kind: 'comment', text: '# head', line: 1, endLine: 1 },
      { kind: 'rule', rule: result.ruleSet.rules[0], line: 2, endLine: 2, comment: '# tail' },
      { kind: 'rule', rule: result.ruleSet.rules[1], line: 3, endLine: 5, innerComments: ['# inner'] },
    ];
    expect(result.locations).toEqual(locations);
    expect(result.items).toEqual(items);
    expect(result.locations).toBe(result.locations);
    expect(Object.keys(result)).toEqual(['ruleSet', 'locations', 'diagnostics', 'ok', 'items']);
    expect({ ...result }).toEqual({ ruleSet: result.ruleSet, locations, diagnostics: [], ok: true, items });
    expect(JSON.parse(JSON.stringify(result))).toMatchObject({
      locations,
      items: [{ text: '# head' }, {}, {}],
    });
    expect(structuredClone(result).items).toEqual(items);
  });

  it('returns an empty rule set for an empty file', () => {
    expect(parse('')).toEqual({
      ruleSet: { version: 1, rules: [] },
      locations: [],
      diagnostics: [],
      ok: true,
      items: [],
    });
  });

  it('keeps line and column right with CRLF line endings and tabs', () => {
    const [d] = parse('198.18.200.1 = all(b:a)\r\n\t198.18.200.2 = al(b:a)\r\n').diagnostics;
    expect(d).toMatchObject({ line: 2, column: 17, lineText: '\t198.18.200.2 = al(b:a)' });
  });

  it('tells the table from the network by which side looks like an address', () => {
    expect(errors('vol.2%198.18.200.1 = true\n')[0]).toMatchObject({
      code: 'RULE_BAD_TABLE',
      column: 1,
      length: 5,
    });
    expect(errors('vol.2%198.18.200.1 = true\n')[0]?.message).toContain("'vol.2'");
    expect(only('198.18.200.1%beef = true\n').routes[0]).toMatchObject({
      table: 'beef',
      prefix: '198.18.200.1/32',
    });
    expect(only('beef%2001:db8::1 = true\n').routes[0]).toMatchObject({
      table: 'beef',
      prefix: '2001:db8::1/128',
    });
  });

  it('warns about a repeated compound term, and about a repeat deep into a long list', () => {
    const compound = parse('198.18.200.1 = any(all(b:a, b:b), all(b:a,b:b))\n').diagnostics;
    expect(compound.map((d) => [d.code, d.column])).toEqual([['RULE_REPEATED_TERM', 35]]);
    const names = Array.from({ length: 40 }, (_, i) => `b:be_${i}`);
    const long = parse(`198.18.200.1 = any(${[...names, 'b:be_3'].join(', ')})\n`).diagnostics;
    expect(long.map((d) => d.message)).toEqual(["'b:be_3' appears twice in any()"]);
  });

  it('finds every repeat in a list longer than is compared pairwise (by hashes of the terms)', () => {
    // 300 terms over 97 distinct ones, plain, with thresholds and compound: each repeat is found once.
    const terms = Array.from({ length: 300 }, (_, i) => {
      const k = (i * 37) % 97;
      return k % 3 === 0 ? `b:be_${k}` : k % 3 === 1 ? `b:be_${k % 5}>=${k}` : `all(b:be_${k}, f:fe)`;
    });
    const seen = new Set<string>();
    const expected = terms.flatMap((t, i) => (seen.has(t) ? [i] : (seen.add(t), [])));
    const starts = terms.map((_, i) => 20 + terms.slice(0, i).reduce((n, t) => n + t.length + 2, 0));
    const found = parse(`198.18.200.1 = any(${terms.join(', ')})\n`, { maxDiagnostics: 1000 }).diagnostics;
    expect(found.map((d) => d.column)).toEqual(expected.map((i) => starts[i]));
    expect(found.every((d) => d.code === 'RULE_REPEATED_TERM')).toBe(true);
  });
});
