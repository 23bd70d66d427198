import { generateKeyPairSync } from 'node:crypto';
import { signRuleSet } from '@rhi/contracts';
import type { HealthState } from '@rhi/rules-dsl';
import { parse, ruleSetHash } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import type { AcceptContext } from '../src/core/accept-rule-set.js';
import {
  acceptRulesFile,
  acceptSignedRuleSet,
  examineRulesFile,
  examineSignedRuleSet,
  judgeCandidate,
} from '../src/core/accept-rule-set.js';
import { allowlist } from '../src/core/allowlist.js';
import { tableView } from '../src/app/bird-port.js';
import type { AgentConfig } from '../src/config/schema.js';

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
const bird = (tables: AgentConfig['bird']['tables']): AgentConfig['bird'] => ({
  dialect: 'bird2',
  socket: '/run/bird/bird.ctl',
  include: '/run/rhi/rhi-routes.conf',
  config: '/etc/bird/bird.conf',
  tables,
  reconcileIntervalMs: 30_000,
  timeoutMs: 1000,
  exportCheckIntervalMs: 10_000,
});
/** bird.tables lists vol2; BIRD's config has its session `router1` and a filter `vips`. */
const tables = tableView(
  bird({ vol2: { gateway: '198.18.0.254' } }),
  new Map([
    ['router1', 'protocol'],
    ['vips', 'filter'],
  ]),
);
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

  it.each([
    ['an empty file', ''],
    ['a comment-only file', '# rules moved to the controller\n\n# nothing here\n'],
  ])('refuses %s (it would withdraw every route) unless rules.allowEmpty', (_label, text) => {
    expect(acceptRulesFile(text, 'rules.cfg', ctx())).toEqual({
      ok: false,
      code: 'RULESET_EMPTY',
      reason: expect.stringMatching(
        /^rules\.cfg has no rule: it would withdraw every route.*rhi-agent drain/,
      ),
    });
    expect(acceptRulesFile(text, 'rules.cfg', ctx({ allowEmpty: true }))).toMatchObject({ ok: true });
  });

  it('refuses an empty signed rule set from the controller too', () => {
    expect(acceptSignedRuleSet(signed('# nothing\n', 3), trusted, ctx())).toMatchObject({
      ok: false,
      code: 'RULESET_EMPTY',
      reason: expect.stringMatching(/^controller rule set \(serial 3\) has no rule/),
    });
    expect(acceptSignedRuleSet(signed('', 3), trusted, ctx({ allowEmpty: true }))).toMatchObject({
      ok: true,
    });
  });

  it("refuses a table that cannot be rendered, naming each rule's place", () => {
    const text = [
      '198.18.200.1 = all(b:be_app)',
      '# a comment shifts the lines',
      '  vol1_v6%198.18.200.2 = all(b:be_app)',
      'router1%198.18.200.3 = all(b:be_app)',
      `${'t'.repeat(62)}%198.18.200.4 = all(b:be_app)`,
      'vips%198.18.200.5 = all(b:be_app)',
      'vol2%198.18.200.6, vol1_v6%198.18.200.7 = all(b:be_app)',
      '',
    ].join('\n');
    const a = acceptRulesFile(text, 'rules.cfg', ctx({ tables }));
    expect(a).toMatchObject({ ok: false, code: 'RULESET_BAD_TABLE' });
    if (!a.ok)
      expect(a.reason.split('\n')).toEqual([
        "rules.cfg:3:3: table 'vol1_v6' cannot be rendered: its ipv4 protocol vol1_v6 is also a protocol of table vol1",
        "rules.cfg:4:1: table 'router1' cannot be rendered: its ipv4 protocol name router1 is already defined in BIRD's config (protocol)",
        `rules.cfg:5:1: table '${'t'.repeat(62)}' cannot be rendered: its ipv6 protocol name '${'t'.repeat(62)}_v6' is 65 characters long; BIRD symbols have at most 64`,
        "rules.cfg:6:1: table 'vips' cannot be rendered: its ipv4 protocol name vips is already defined in BIRD's config (filter)",
      ]);
  });

  it('names the rule of a signed rule set by its line in the canonical text', () => {
    const a = acceptSignedRuleSet(
      signed('198.18.200.1 = all(b:be_app)\nrouter1%198.18.200.3 = all(b:be_app)\n', 4),
      trusted,
      ctx({ tables }),
    );
    expect(a).toMatchObject({
      ok: false,
      code: 'RULESET_BAD_TABLE',
      reason: expect.stringMatching(
        /^controller rule set \(serial 4\):2:1: table 'router1' cannot be rendered/,
      ),
    });
  });

  it('warns where a table bird.tables does not list is first used: it gets the default next hop', () => {
    const text =
      'vol2%198.18.200.1 = all(b:be_app)\n198.18.200.2 = all(b:be_app)\n2001:db8::1%eth0 = all(b:be_app)\n';
    const a = acceptRulesFile(text, 'rules.cfg', ctx({ tables }));
    expect(a).toMatchObject({ ok: true });
    if (a.ok)
      expect(a.warnings).toEqual([
        "rules.cfg:2:1: table 'vol1' is not in bird.tables: its routes get the default next hop, in protocols vol1, vol1_v6 (the BIRD config must export them)",
        "rules.cfg:3:1: table 'eth0' is not in bird.tables: its routes get the default next hop, in protocols eth0, eth0_v6 (the BIRD config must export them)",
        "eth0%2001:db8::1/128 is outside this node's allowlist and will not be advertised",
      ]);
  });

  it("warns that a clash with BIRD's own names is found only at apply when BIRD could not be read", () => {
    const blind = tableView(bird({ vol1: {} }), null);
    const a = acceptRulesFile('router1%198.18.200.3 = all(b:be_app)\n', 'rules.cfg', ctx({ tables: blind }));
    expect(a).toMatchObject({ ok: true });
    if (a.ok) expect(a.warnings).toContainEqual(expect.stringMatching(/^BIRD's symbols could not be read/));
  });
});

describe('rule-set limits (rules.limits)', () => {
  const limits = { maxBytes: 4096, maxRules: 3, maxRoutes: 4, maxTerms: 5, maxDepth: 2 };
  const rules = (n: number) =>
    Array.from({ length: n }, (_, i) => `198.18.200.${i + 1} = all(b:be_app)\n`).join('');
  it.each([
    ['maxRules', rules(4), 'rules.cfg:4:1: error RULE_SET_TOO_MANY_RULES'],
    [
      'maxRoutes',
      '198.18.200.1, 198.18.200.2, 198.18.200.3 = b:be_app\n198.18.200.4, 198.18.200.5 = b:be_app\n',
      'rules.cfg:2:15: error RULE_SET_TOO_MANY_ROUTES',
    ],
    [
      'maxTerms',
      '198.18.200.1 = any(b:be_app, b:be_app, b:be_app, b:be_app, b:be_app)\n',
      'rules.cfg:1:60: error RULE_TOO_MANY_TERMS',
    ],
    ['maxDepth', '198.18.200.1 = not(not(not(b:be_app)))\n', 'rules.cfg:1:28: error RULE_TOO_DEEP'],
    [
      'maxBytes',
      `# ${'x'.repeat(5000)}\n198.18.200.1 = b:be_app\n`,
      'rules.cfg:1:1: error RULE_SET_TOO_LARGE',
    ],
  ])('refuses a file over %s, naming the limit and the place', (key, text, place) => {
    const a = acceptRulesFile(text, 'rules.cfg', ctx({ limits }));
    expect(a).toMatchObject({ ok: false, code: 'RULESET_OVER_LIMIT' });
    if (!a.ok) {
      expect(a.reason).toMatch(
        new RegExp(`^over rules\\.limits\\.${key} \\(${limits[key as keyof typeof limits]}\\); 1 error:\\n`),
      );
      expect(a.reason).toContain(place);
    }
    // The defaults take it.
    expect(acceptRulesFile(text, 'rules.cfg', ctx()).ok).toBe(true);
  });

  it('refuses a signed rule set over a limit, naming the limit and the rule', () => {
    const a = acceptSignedRuleSet(signed(rules(4), 7), trusted, ctx({ limits }));
    expect(a).toMatchObject({ ok: false, code: 'RULESET_OVER_LIMIT' });
    if (!a.ok) {
      expect(a.reason).toMatch(/^over rules\.limits\.maxRules \(3\); rules\.3: RULE_SET_TOO_MANY_RULES/);
    }
    const deep = acceptSignedRuleSet(
      signed('198.18.200.1 = not(not(not(b:be_app)))\n', 7),
      trusted,
      ctx({ limits }),
    );
    expect(deep).toMatchObject({ ok: false, code: 'RULESET_OVER_LIMIT' });
    if (!deep.ok) expect(deep.reason).toMatch(/^over rules\.limits\.maxDepth \(2\); rules\.0: RULE_TOO_DEEP/);
    expect(acceptSignedRuleSet(signed(rules(4), 7), trusted, ctx()).ok).toBe(true);
  });

  it('counts every error, past the 100 that are listed', () => {
    const text = Array.from({ length: 150 }, (_, i) => `198.18.200.${i + 1}/24 = b:be_app\n`).join('');
    const a = acceptRulesFile(text, 'rules.cfg', ctx());
    expect(a).toMatchObject({ ok: false, code: 'RULESET_SYNTAX' });
    if (!a.ok) {
      expect(a.reason).toMatch(/^150 errors:\n/);
      expect(a.reason).toMatch(/\n\(and 50 more not listed\)$/);
    }
  });

  it('lists the limit first when a file also has other errors', () => {
    const text = `198.18.200.1/24 = b:be_app\n${rules(3)}`;
    const a = acceptRulesFile(text, 'rules.cfg', ctx({ limits }));
    expect(a).toMatchObject({ ok: false, code: 'RULESET_OVER_LIMIT' });
    if (!a.ok) {
      const lines = a.reason.split('\n');
      expect(lines[0]).toBe('over rules.limits.maxRules (3); 2 errors:');
      expect(lines[1]).toMatch(/^rules\.cfg:4:1: error RULE_SET_TOO_MANY_RULES/);
    }
  });
});

describe('judging in two halves: examination (the worker) and the live checks (the main thread)', () => {
  it('gives what judging at once gives, file and signed', () => {
    const text =
      '198.18.200.1 = all(b:be_app, f:fe_web)\nvol2%198.18.200.2 = b:be_static>=2\n203.0.113.9 = b:be_app\n';
    const at = ctx({ tables });
    const examined = examineRulesFile(text, 'rules.cfg', at);
    expect(examined).toMatchObject({
      ok: true,
      candidate: {
        hash: ruleSetHash(ruleSet(text)),
        serial: 0,
        signed: false,
        label: 'rules.cfg',
        ruleCount: 3,
        proxies: ['b:be_app', 'f:fe_web', 'b:be_static'],
        selection: {
          proxies: { frontends: ['fe_web'], backends: ['be_app', 'be_static'] },
          withServers: true,
        },
        tables: [
          { table: 'vol1', place: 'rules.cfg:1:1' },
          { table: 'vol2', place: 'rules.cfg:2:1' },
        ],
        outside: { first: ['vol1%203.0.113.9/32'], count: 1 },
      },
    });
    expect(judgeCandidate(examined, at)).toEqual(acceptRulesFile(text, 'rules.cfg', at));
    const envelope = signed(text, 9);
    expect(judgeCandidate(examineSignedRuleSet(envelope, trusted, at), at)).toEqual(
      acceptSignedRuleSet(envelope, trusted, at),
    );
  });

  it('names 20 routes outside the allowlist and counts the rest, so that logging them stays cheap', () => {
    const text = Array.from({ length: 500 }, (_, i) => `203.0.${i >> 8}.${i & 255} = b:be_app\n`).join('');
    const a = acceptRulesFile(text, 'rules.cfg', ctx());
    expect(a.ok).toBe(true);
    if (a.ok) {
      expect(a.warnings).toHaveLength(21);
      expect(a.warnings[20]).toBe(
        "480 more routes are outside this node's allowlist and will not be advertised",
      );
    }
  });
});
