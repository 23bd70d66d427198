import { describe, expect, it } from 'vitest';
import type { RuleSet } from '../src/index.js';
import { RuleSetSchema, format, parse, ruleSetHash, validateRuleSet } from '../src/index.js';

const source = [
  '198.18.200.1, vol2%2001:db8::/64 = all(f:fe_web, any(b:be_a, b:be_b>=50%)) with med 5, community 65000:1',
  '198.18.200.2 = atleast(2, b:x, b:y>=2, not(b:z))',
  '0.0.0.0/0 = true',
].join('\n');
const { ruleSet } = parse(source);

/** A deep copy as plain JSON, to be broken in one place. */
const json = (): { version: number; rules: Record<string, unknown>[] } => JSON.parse(JSON.stringify(ruleSet));

describe('validateRuleSet', () => {
  it('accepts what the parser produces, after a JSON round trip, with its warnings', () => {
    const result = validateRuleSet(json());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.ruleSet).toEqual(ruleSet);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['RULE_DEFAULT_ROUTE', 'RULE_CONSTANT']);
    expect(RuleSetSchema.safeParse(json()).success).toBe(true);
  });

  it('accepts an empty rule set', () => {
    expect(validateRuleSet({ version: 1, rules: [] })).toMatchObject({ ok: true });
  });

  it.each<[string, (v: ReturnType<typeof json>) => unknown, string]>([
    ['not an object', () => 'rules', '(root)'],
    ['null', () => null, '(root)'],
    ['wrong version', (v) => ({ ...v, version: 2 }), 'version'],
    ['missing rules', (v) => ({ version: v.version }), 'rules'],
    ['an unknown key', (v) => ({ ...v, extra: 1 }), '(root)'],
    ['a rule without routes', (v) => ({ ...v, rules: [{ ...v.rules[0], routes: [] }] }), 'rules.0.routes'],
    ['a bad family', (v) => set(v, ['rules', 0, 'routes', 0, 'family'], 'ipv5'), 'rules.0.routes.0.family'],
    ['an unknown expression type', (v) => set(v, ['rules', 1, 'expr', 'type'], 'most'), 'rules.1.expr.type'],
    [
      'an empty list under not()',
      (v) => set(v, ['rules', 1, 'expr', 'args', 2, 'arg'], { type: 'all', args: [] }),
      'rules.1.expr.args.2.arg.args',
    ],
    ['a non-integer quorum', (v) => set(v, ['rules', 1, 'expr', 'n'], 1.5), 'rules.1.expr.n'],
    ['an empty all()', (v) => set(v, ['rules', 0, 'expr', 'args'], []), 'rules.0.expr.args'],
    [
      'a proxy name with a space',
      (v) => set(v, ['rules', 0, 'expr', 'args', 0, 'name'], 'fe web'),
      'rules.0.expr.args.0.name',
    ],
    [
      'a bad side',
      (v) => set(v, ['rules', 0, 'expr', 'args', 0, 'side'], 'server'),
      'rules.0.expr.args.0.side',
    ],
    [
      'a zero threshold',
      (v) => set(v, ['rules', 1, 'expr', 'args', 1, 'threshold', 'value'], 0),
      'rules.1.expr.args.1.threshold.value',
    ],
    ['med out of range', (v) => set(v, ['rules', 0, 'attributes', 'med'], 2 ** 32), 'rules.0.attributes.med'],
    [
      'a community out of range',
      (v) => set(v, ['rules', 0, 'attributes', 'communities', 0, 0], 65536),
      'rules.0.attributes.communities.0.0',
    ],
    ['an unknown attribute', (v) => set(v, ['rules', 0, 'attributes', 'weight'], 1), 'rules.0.attributes'],
  ])('rejects the shape of %s, naming the path', (_, breakIt, path) => {
    const result = validateRuleSet(breakIt(json()));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.some((i) => i.startsWith(`${path}: `))).toBe(true);
    expect(result.diagnostics).toEqual([]);
  });

  it.each<[string, (v: ReturnType<typeof json>) => unknown, string]>([
    ['host bits', (v) => set(v, ['rules', 0, 'routes', 0, 'prefix'], '198.18.200.1/24'), 'RULE_HOST_BITS'],
    [
      'a bad address',
      (v) => set(v, ['rules', 0, 'routes', 0, 'prefix'], '198.18.200.300/32'),
      'RULE_BAD_ADDRESS',
    ],
    ['a bad mask', (v) => set(v, ['rules', 0, 'routes', 0, 'prefix'], '198.18.200.1/33'), 'RULE_BAD_MASK'],
    ['a bad table', (v) => set(v, ['rules', 0, 'routes', 0, 'table'], 'vol-2'), 'RULE_BAD_TABLE'],
    ['a keyword table', (v) => set(v, ['rules', 0, 'routes', 0, 'table'], 'static'), 'RULE_BAD_TABLE'],
    ['a quorum above its terms', (v) => set(v, ['rules', 1, 'expr', 'n'], 5), 'RULE_BAD_QUORUM'],
    [
      'a percentage above 100',
      (v) => set(v, ['rules', 0, 'expr', 'args', 1, 'args', 1, 'threshold', 'value'], 101),
      'RULE_BAD_THRESHOLD',
    ],
    [
      'a threshold on a frontend',
      (v) => set(v, ['rules', 0, 'expr', 'args', 0, 'threshold'], { kind: 'count', value: 1 }),
      'RULE_BAD_THRESHOLD',
    ],
    [
      'a duplicate route',
      (v) => ({
        ...v,
        rules: [
          ...v.rules,
          { ...v.rules[1], routes: [{ table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' }] },
        ],
      }),
      'RULE_DUPLICATE_ROUTE',
    ],
    [
      'a duplicate route in one rule',
      (v) =>
        set(
          v,
          ['rules', 1, 'routes'],
          [0, 1].map(() => ({ table: 'vol1', prefix: '198.18.200.9/32', family: 'ipv4' })),
        ),
      'RULE_DUPLICATE_ROUTE',
    ],
  ])('rejects the meaning of %s', (_, breakIt, code) => {
    const result = validateRuleSet(breakIt(json()), 'wire');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.some((i) => i.includes(code))).toBe(true);
    expect(result.diagnostics.some((d) => d.code === code && d.file === 'wire')).toBe(true);
  });

  it.each<[string, (v: ReturnType<typeof json>) => unknown]>([
    ['an uppercase IPv6 prefix', (v) => set(v, ['rules', 0, 'routes', 1, 'prefix'], '2001:DB8::/64')],
    [
      'an uncompressed IPv6 prefix',
      (v) => set(v, ['rules', 0, 'routes', 1, 'prefix'], '2001:db8:0:0:0:0:0:0/64'),
    ],
    ['a prefix without its mask', (v) => set(v, ['rules', 0, 'routes', 0, 'prefix'], '198.18.200.1')],
    ['a family that does not match the prefix', (v) => set(v, ['rules', 0, 'routes', 0, 'family'], 'ipv6')],
    [
      'a prefix with a table in it',
      (v) => set(v, ['rules', 0, 'routes', 0, 'prefix'], 'vol3%198.18.200.1/32'),
    ],
    [
      'a prefix hiding a second route',
      (v) => set(v, ['rules', 0, 'routes', 0, 'prefix'], '198.18.200.1/32, 198.18.200.7/32'),
    ],
    ['a proxy name hiding a threshold', (v) => set(v, ['rules', 1, 'expr', 'args', 0, 'name'], 'x>=2')],
    [
      'a prefix hiding a newline and a second rule',
      (v) => ({
        version: 1,
        rules: [
          {
            ...v.rules[2],
            routes: [{ table: 'vol1', prefix: '198.18.200.1/32 = true\n198.18.200.9/32', family: 'ipv4' }],
          },
        ],
      }),
    ],
  ])('rejects %s (not what the parser would produce)', (_, breakIt) => {
    expect(validateRuleSet(breakIt(json())).ok).toBe(false);
  });
});

describe('ruleSetHash', () => {
  it('is the hex sha256 of the canonical text and stable', () => {
    const hash = ruleSetHash(ruleSet);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(ruleSetHash(parse(source).ruleSet)).toBe(hash);
    expect(ruleSetHash({ version: 1, rules: [] })).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(format({ version: 1, rules: [] })).toBe('');
  });

  it('is equal for differently written sources that mean the same', () => {
    const a = parse('198.18.200.1 = all(b:be_static,b:be_app)\nvol2%2001:DB8::1 = any(b:k8s)\n').ruleSet;
    const b = parse(
      '# comment\n\n  198.18.200.1/32  =  all ( b:be_static ,\n  b:be_app )  # trailing\n2001:db8:0::1/128%vol2=any(b:k8s)\n',
    ).ruleSet;
    expect(ruleSetHash(b)).toBe(ruleSetHash(a));
  });

  it.each([
    ['another prefix', '198.18.200.2 = all(b:be_static,b:be_app)'],
    ['another table', 'vol2%198.18.200.1 = all(b:be_static,b:be_app)'],
    ['another aggregator', '198.18.200.1 = any(b:be_static,b:be_app)'],
    ['another order', '198.18.200.1 = all(b:be_app,b:be_static)'],
    ['a frontend', '198.18.200.1 = all(b:be_static,f:be_app)'],
    ['a threshold', '198.18.200.1 = all(b:be_static,b:be_app>=1)'],
    ['an attribute', '198.18.200.1 = all(b:be_static,b:be_app) with med 0'],
  ])('changes with %s', (_, other) => {
    const base = ruleSetHash(parse('198.18.200.1 = all(b:be_static,b:be_app)').ruleSet);
    expect(ruleSetHash(parse(other).ruleSet)).not.toBe(base);
  });

  it('changes with rule order', () => {
    const a: RuleSet = parse('198.18.200.1 = all(b:a)\n198.18.200.2 = all(b:b)').ruleSet;
    const b: RuleSet = { version: 1, rules: [...a.rules].reverse() };
    expect(ruleSetHash(b)).not.toBe(ruleSetHash(a));
  });
});

function set(value: unknown, path: readonly (string | number)[], to: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return to;
  const node = value as Record<string | number, unknown>;
  if (Array.isArray(node)) {
    const copy = [...node];
    copy[head as number] = set(copy[head as number], rest, to);
    return copy;
  }
  return { ...node, [head]: set(node[head], rest, to) };
}
