import { generateKeyPairSync } from 'node:crypto';
import { signRuleSet } from '@rhi/contracts';
import type { HealthState } from '@rhi/rules-dsl';
import { parse, ruleSetHash } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import type { AcceptContext } from '../src/core/accept-rule-set.js';
import { acceptRulesFile, acceptSignedRuleSet } from '../src/core/accept-rule-set.js';
import { allowlist } from '../src/core/allowlist.js';

const keys = generateKeyPairSync('ed25519');
const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const trusted = new Map([['ops', keys.publicKey]]);
const health: HealthState = {
  frontends: { fe_web: { up: true } },
  backends: { be_app: { up: true }, be_static: { up: true } },
};
const ctx = (over: Partial<AcceptContext> = {}): AcceptContext => ({
  current: null,
  allowlist: allowlist(['198.18.200.0/24']),
  health,
  allowUnknownProxies: false,
  ...over,
});
const ruleSet = (text: string) => parse(text).ruleSet;
const signed = (text: string, serial: number) =>
  JSON.parse(JSON.stringify(signRuleSet(ruleSet(text), { privateKeyPem, keyId: 'ops', serial }))) as unknown;

describe('accepting rule sets', () => {
  it('accepts a valid rules file and warns about routes outside the allowlist', () => {
    const a = acceptRulesFile(
      '198.18.200.1 = all(b:be_app)\n203.0.113.1 = all(f:fe_web)\n',
      'rules.cfg',
      ctx(),
    );
    expect(a).toMatchObject({ ok: true, serial: 0, unchanged: false });
    if (a.ok)
      expect(a.warnings).toEqual([
        "vol1%203.0.113.1/32 is outside this node's allowlist and will not be advertised",
      ]);
  });

  it('refuses a rules file with errors, quoting every diagnostic with its place', () => {
    const a = acceptRulesFile('198.18.200.1 = alll(b:be_app)\n198.18.200.1/24 = any()\n', 'rules.cfg', ctx());
    expect(a).toMatchObject({ ok: false, code: 'RULESET_SYNTAX' });
    if (!a.ok) {
      expect(a.reason).toContain('rules.cfg:1:16: error RULE_UNKNOWN_AGGREGATOR');
      expect(a.reason).toContain('rules.cfg:2:1: error RULE_HOST_BITS');
    }
  });

  it('refuses a rule set naming proxies the live HAProxy does not have, unless allowed', () => {
    const text = '198.18.200.1 = all(b:be_app, b:be_typo, f:fe_gone)\n';
    const a = acceptRulesFile(text, 'rules.cfg', ctx());
    expect(a).toMatchObject({ ok: false, code: 'RULESET_UNKNOWN_PROXIES' });
    if (!a.ok) expect(a.reason).toContain('b:be_typo, f:fe_gone');
    expect(acceptRulesFile(text, 'rules.cfg', ctx({ allowUnknownProxies: true })).ok).toBe(true);
    expect(acceptRulesFile(text, 'rules.cfg', ctx({ health: null })).ok).toBe(true);
  });

  it('accepts a newer signed rule set and refuses a replayed older one', () => {
    const v1 = '198.18.200.1 = all(b:be_app)\n';
    const v2 = '198.18.200.1 = any(b:be_app, b:be_static)\n';
    const first = acceptSignedRuleSet(signed(v1, 1), trusted, ctx());
    expect(first).toMatchObject({ ok: true, serial: 1 });
    const current = { hash: ruleSetHash(ruleSet(v2)), serial: 2 };
    const replay = acceptSignedRuleSet(signed(v1, 1), trusted, ctx({ current }));
    expect(replay).toMatchObject({ ok: false, code: 'RULESET_REPLAYED' });
    const sameAgain = acceptSignedRuleSet(signed(v2, 2), trusted, ctx({ current }));
    expect(sameAgain).toMatchObject({ ok: true, unchanged: true });
  });

  it('refuses an unsigned or wrongly signed push', () => {
    const bad = { ...(signed('198.18.200.1 = all(b:be_app)\n', 5) as object), keyId: 'stranger' };
    expect(acceptSignedRuleSet(bad, trusted, ctx())).toMatchObject({
      ok: false,
      code: 'RULESET_UNTRUSTED_KEY',
    });
    expect(acceptSignedRuleSet(ruleSet('198.18.200.1 = all(b:be_app)\n'), trusted, ctx())).toMatchObject({
      ok: false,
      code: 'RULESET_MALFORMED',
    });
  });
});
