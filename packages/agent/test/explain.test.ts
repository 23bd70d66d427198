import type { HealthState } from '@rhi/rules-dsl';
import { parse } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import type { ExplainedRules, RouteMatch } from '../src/cli/explain.js';
import { explainAgent, explainRules } from '../src/cli/explain.js';
import type { PlannedRoute } from '../src/core/planner.js';
import type { AgentSnapshot } from '../src/loop/ports.js';
import { agentSnapshot, plannedRoute, statusOf } from './support/snapshots.js';

const source = `198.18.200.1 = all(b:be_app)
vol2%198.18.200.2 = all(b:be_app)
198.18.200.3 = all(b:be_other)
198.18.99.1 = true
`;
const parsed = parse(source, { file: 'rules.cfg' });
const rules: ExplainedRules = {
  ruleSet: parsed.ruleSet,
  where: (i) => `rule at rules.cfg:${parsed.locations[i]?.line ?? '?'}`,
};
const health: HealthState = {
  frontends: {},
  backends: { be_app: { up: true }, be_other: { up: false } },
};
const planned = (prefix: string, over: Partial<PlannedRoute> = {}) => plannedRoute({ prefix, ...over });
const snapshot = (over: Partial<AgentSnapshot> = {}): AgentSnapshot =>
  agentSnapshot({
    ruleSet: { hash: 'ab'.repeat(32), serial: 7, source: 'controller', appliedAt: 0 },
    haproxy: { reachable: true, pid: 10 },
    routes: [
      planned('198.18.200.1/32'),
      planned('198.18.200.2/32', { table: 'vol2' }),
      planned('198.18.200.3/32', { decision: false, desired: false, reason: 'b:be_other down' }),
      planned('198.18.99.1/32', { allowed: false, desired: false, reason: 'outside' }),
    ],
    inBird: [
      { table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' },
      { table: 'vol2', prefix: '198.18.200.2/32', family: 'ipv4' },
    ],
    refused: [],
    ...over,
  });
const all = () => true;
const allowlist = ['198.18.200.0/24'];
/** explain over the NodeStatus the agent serves for a snapshot. */
const explainStatus = (
  s: AgentSnapshot,
  given: ExplainedRules | null,
  live: Parameters<typeof explainAgent>[2],
  allowed: readonly string[],
  match: RouteMatch,
) => explainAgent(statusOf(s), given, live, allowed, match);
const lineOf = (text: string, route: string) => text.split('\n').find((l) => l.startsWith(`${route}: `));

describe('rhi-agent explain', () => {
  it("tells the agent's view: the rule set in force, each route's state, the per-term reasons from live HAProxy", () => {
    const { text, count } = explainStatus(snapshot(), rules, { state: health }, allowlist, all);
    expect(count).toBe(4);
    expect(text.split('\n').slice(0, 6)).toEqual([
      "the running agent's view: what it advertises and why",
      `rule set: ${'ab'.repeat(6)} from the controller, serial 7, in force since 1970-01-01T00:00:00.000Z`,
      "haproxy: reachable (the agent's last reading)",
      "bird: takes the agent's changes",
      'drain: none',
      'per-term reasons: the rule set in force, evaluated against live HAProxy now',
    ]);
    expect(lineOf(text, '198.18.200.1/32')).toBe('198.18.200.1/32: advertised (rule at rules.cfg:1)');
    expect(text).toContain('198.18.200.1/32: advertised (rule at rules.cfg:1)\n  all(b:be_app): true');
    expect(lineOf(text, '198.18.200.3/32')).toBe(
      '198.18.200.3/32: withdrawn: b:be_other down (rule at rules.cfg:3)',
    );
    expect(lineOf(text, '198.18.99.1/32')).toBe(
      '198.18.99.1/32: blocked by the allowlist (198.18.200.0/24): never advertised; its rule holds (rule at rules.cfg:4)',
    );
  });

  it('tells damping, drains, refusals and a withdrawal BIRD has not taken, whatever the rule says now', () => {
    const s = snapshot({
      bird: {
        reachable: true,
        error: 'BIRD configuration error: bird.conf:3:1 syntax error',
        disabled: ['vol2'],
      },
      routes: [
        planned('198.18.200.1/32', { desired: false, phase: 'held', reason: 'b:be_app up (held)' }),
        planned('198.18.200.2/32', { table: 'vol2' }),
        planned('198.18.200.3/32', { decision: false, desired: false, reason: 'b:be_other down' }),
      ],
      inBird: [{ table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' }],
    });
    const { text } = explainStatus(s, rules, { state: health }, allowlist, all);
    expect(text).toContain(
      'bird: REFUSING its configuration: BIRD configuration error: bird.conf:3:1 syntax error; protocols DISABLED as a fail-safe (all their routes withdrawn): vol2',
    );
    expect(lineOf(text, '198.18.200.1/32')).toBe(
      '198.18.200.1/32: withdrawn: held down after flapping (damping.holdDown); its rule holds; BIRD STILL HOLDS IT: BIRD configuration error: bird.conf:3:1 syntax error (rule at rules.cfg:1)',
    );
    expect(lineOf(text, 'vol2%198.18.200.2/32')).toBe(
      'vol2%198.18.200.2/32: to be advertised, but BIRD does not hold it: protocol vol2 is disabled while BIRD refuses its configuration (rule at rules.cfg:2)',
    );
    const rising = explainStatus(
      snapshot({ routes: [planned('198.18.200.1/32', { desired: false, phase: 'rising' })], inBird: [] }),
      rules,
      { state: health },
      allowlist,
      all,
    );
    expect(lineOf(rising.text, '198.18.200.1/32')).toBe(
      '198.18.200.1/32: withdrawn: its rule holds, but not long enough yet (damping.rise) (rule at rules.cfg:1)',
    );
    const drained = explainStatus(
      snapshot({
        drained: true,
        drain: { mode: 'withdraw', reason: 'kernel upgrade', since: 5_000 },
        routes: [planned('198.18.200.1/32', { desired: false, reason: 'node drained' })],
        inBird: [],
        refused: [{ table: 'vol1', prefix: '198.18.200.9/32', family: 'ipv4', reason: 'x' }],
      }),
      rules,
      { state: health },
      allowlist,
      all,
    );
    expect(drained.text).toContain(
      'drain: DRAINED (kernel upgrade, since 1970-01-01T00:00:05.000Z): every route withdrawn',
    );
    expect(lineOf(drained.text, '198.18.200.1/32')).toBe(
      '198.18.200.1/32: withdrawn: node drained (kernel upgrade); its rule holds (rule at rules.cfg:1)',
    );
    const refused = explainStatus(
      snapshot({
        routes: [planned('198.18.200.1/32')],
        inBird: [],
        refused: [
          { table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4', reason: "table 'vol1' clashes" },
        ],
      }),
      rules,
      { state: health },
      allowlist,
      all,
    );
    expect(lineOf(refused.text, '198.18.200.1/32')).toBe(
      "198.18.200.1/32: REFUSED by the injector, not advertised: table 'vol1' clashes; its rule holds (rule at rules.cfg:1)",
    );
  });

  it("says when live HAProxy differs from the agent's last reading, and when it cannot be read", () => {
    const s = snapshot({
      routes: [planned('198.18.200.3/32', { decision: true, reason: 'b:be_other up' })],
      inBird: [{ table: 'vol1', prefix: '198.18.200.3/32', family: 'ipv4' }],
    });
    const { text } = explainStatus(s, rules, { state: health }, allowlist, all);
    expect(text).toContain("  live HAProxy now: the rule fails; the agent's last reading: it holds");
    const blind = explainStatus(s, rules, { error: 'EACCES /run/haproxy/admin.sock' }, allowlist, all);
    expect(blind.text).toContain(
      "per-term reasons: the agent's, from its last reading (cannot read HAProxy here: EACCES /run/haproxy/admin.sock)",
    );
    // Without live HAProxy, the tree is the agent's own, from the status.
    expect(blind.text).toContain('198.18.200.3/32: advertised\n  b:be_app: true (up (UP))');
    const noRules = explainStatus(s, null, { state: health }, allowlist, all);
    expect(noRules.text).toContain(
      "per-term reasons: the agent's, from its last reading (the agent's rule set could not be read)",
    );
  });

  it('explains what a rules file would do under the header it is given, the filter applied', () => {
    const match = (r: { prefix: string }) => r.prefix === '198.18.200.3/32';
    const { text, count } = explainRules(
      rules,
      health,
      (p) => p.startsWith('198.18.200.'),
      allowlist,
      match,
      'the agent does not answer (x): this is what rules.cfg would do with live HAProxy, NOT what is advertised',
    );
    expect(count).toBe(1);
    expect(text.split('\n').slice(0, 3)).toEqual([
      'the agent does not answer (x): this is what rules.cfg would do with live HAProxy, NOT what is advertised',
      '',
      '198.18.200.3/32: withdraw (rule at rules.cfg:3)',
    ]);
  });
});
