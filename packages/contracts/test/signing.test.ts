import { generateKeyPairSync } from 'node:crypto';
import { parse } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import { publicKeyFrom, signRuleSet, verifySignedRuleSet } from '../src/index.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const other = generateKeyPairSync('ed25519');
const trusted = new Map([
  ['ops-2026', publicKeyFrom(publicKey.export({ type: 'spki', format: 'pem' }).toString())],
]);
const { ruleSet } = parse('198.18.200.1 = all(b:be_static, b:be_app)\nvol2%198.18.200.5 = any(b:k8s)\n');
const signed = signRuleSet(ruleSet, {
  privateKeyPem,
  keyId: 'ops-2026',
  serial: 7,
  issuedAt: new Date('2026-11-24T00:00:00Z'),
});
const roundTrip = (v: unknown) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>;

describe('signed rule sets', () => {
  it('accepts a rule set signed by a trusted key, after a JSON round trip', () => {
    const result = verifySignedRuleSet(roundTrip(signed), trusted);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.ruleSet).toEqual(ruleSet);
  });

  it.each([
    ['an unknown key id', { keyId: 'someone' }, 'RULESET_UNTRUSTED_KEY'],
    ['a different serial (replayed signature)', { serial: 8 }, 'RULESET_BAD_SIGNATURE'],
    ['a changed issue time', { issuedAt: '2026-11-25T00:00:00.000Z' }, 'RULESET_BAD_SIGNATURE'],
    ['garbage signature', { signature: 'AAAA' }, 'RULESET_BAD_SIGNATURE'],
    ['a hash that does not match the rules', { hash: '0'.repeat(64) }, 'RULESET_HASH_MISMATCH'],
    ['a missing field', { hash: undefined }, 'RULESET_MALFORMED'],
  ])('rejects %s', (_, patch, code) => {
    const result = verifySignedRuleSet({ ...roundTrip(signed), ...patch }, trusted);
    expect(result).toMatchObject({ ok: false, code });
  });

  it('rejects rules changed after signing even when the hash is updated to match', () => {
    const tampered = parse('198.18.200.1 = any(b:be_static, b:be_app)\n').ruleSet;
    const forged = signRuleSet(tampered, { privateKeyPem, keyId: 'ops-2026', serial: 7 });
    const result = verifySignedRuleSet(
      { ...roundTrip(signed), ruleSet: forged.ruleSet, hash: forged.hash },
      trusted,
    );
    expect(result).toMatchObject({ ok: false, code: 'RULESET_BAD_SIGNATURE' });
  });

  it('rejects a signature by an untrusted private key under a trusted key id', () => {
    const pem = other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const forged = signRuleSet(ruleSet, { privateKeyPem: pem, keyId: 'ops-2026', serial: 7 });
    expect(verifySignedRuleSet(forged, trusted)).toMatchObject({ ok: false, code: 'RULESET_BAD_SIGNATURE' });
  });

  it('rejects a well-signed rule set whose meaning is invalid (host bits set)', () => {
    const bad = {
      version: 1 as const,
      rules: [
        {
          routes: [{ table: 'vol1', prefix: '198.18.0.1/24', family: 'ipv4' as const }],
          expr: { type: 'const' as const, value: true },
        },
      ],
    };
    const forged = signRuleSet(bad, { privateKeyPem, keyId: 'ops-2026', serial: 9 });
    const result = verifySignedRuleSet(forged, trusted);
    expect(result).toMatchObject({ ok: false, code: 'RULESET_INVALID' });
    if (!result.ok) expect(result.reason).toContain("did you mean '198.18.0.0/24'");
  });
});

describe('signed rule sets and the parse limits', () => {
  const many = (n: number) =>
    parse(Array.from({ length: n }, (_, i) => `198.18.${i >> 8}.${i & 255} = b:be_app\n`).join('')).ruleSet;
  const sign = (rules: typeof ruleSet) =>
    roundTrip(signRuleSet(rules, { privateKeyPem, keyId: 'ops-2026', serial: 3 }));

  it('refuses a rule set over the limits given, with the limits crossed', () => {
    expect(verifySignedRuleSet(sign(many(6)), trusted, { maxRules: 5 })).toEqual({
      ok: false,
      code: 'RULESET_OVER_LIMIT',
      reason: 'rules.5: RULE_SET_TOO_MANY_RULES: 6 rules, more than 5 (the limit, maxRules)',
      limits: ['RULE_SET_TOO_MANY_RULES'],
    });
    expect(verifySignedRuleSet(sign(many(6)), trusted, { maxRoutes: 5 })).toEqual({
      ok: false,
      code: 'RULESET_OVER_LIMIT',
      reason: expect.stringMatching(/^rules\.5: RULE_SET_TOO_MANY_ROUTES: more than 5 routes/),
      limits: ['RULE_SET_TOO_MANY_ROUTES'],
    });
    expect(verifySignedRuleSet(sign(ruleSet), trusted, { maxDepth: 0 })).toMatchObject({
      ok: false,
      code: 'RULESET_OVER_LIMIT',
      limits: ['RULE_TOO_DEEP'],
    });
    expect(verifySignedRuleSet(sign(many(6)), trusted).ok).toBe(true);
  });

  it('counts the rules of a runaway push before checking its shape', () => {
    const runaway = {
      ...sign(ruleSet),
      ruleSet: { version: 1, rules: Array.from({ length: 20_001 }, () => 'x') },
    };
    expect(verifySignedRuleSet(runaway, trusted, { maxRules: 20_000 })).toEqual({
      ok: false,
      code: 'RULESET_OVER_LIMIT',
      reason: 'rules.20000: RULE_SET_TOO_MANY_RULES: 20001 rules, more than 20000 (the limit, maxRules)',
      limits: ['RULE_SET_TOO_MANY_RULES'],
    });
  });

  it('says how many errors there are, past the 100 it lists', () => {
    const hosts = {
      version: 1 as const,
      rules: Array.from({ length: 150 }, (_, i) => ({
        routes: [{ table: 'vol1', prefix: `198.18.${i}.1/24`, family: 'ipv4' as const }],
        expr: { type: 'proxy' as const, side: 'backend' as const, name: 'be_app' },
      })),
    };
    const result = verifySignedRuleSet(sign(hosts), trusted);
    expect(result).toMatchObject({ ok: false, code: 'RULESET_INVALID' });
    if (!result.ok) expect(result.reason).toMatch(/^150 errors, the first 100: rules\.0: RULE_HOST_BITS/);
  });
});
