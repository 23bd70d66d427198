import type { NodeStatus, RouteStatus } from '@rhi/contracts';
import { routeId } from '@rhi/contracts';
import type { Decision, HealthState, RuleSet } from '@rhi/rules-dsl';
import { evaluate, formatRoute, renderExplanation } from '@rhi/rules-dsl';

/** A rule set to evaluate against live HAProxy, and how to name a rule's place in it. */
export interface ExplainedRules {
  readonly ruleSet: RuleSet;
  /** E.g. `rule at /etc/rhi/rules.cfg:3`, for the rule at `index`. */
  readonly where: (index: number) => string;
}

/** Which routes to explain. */
export type RouteMatch = (route: { readonly table: string; readonly prefix: string }) => boolean;

/** An explanation, and how many routes it covers (none: the filter matched nothing). */
export interface Explained {
  readonly text: string;
  readonly count: number;
}

/** The first decision per route, as the planner takes them. */
function decisionsByRoute(rules: ExplainedRules | null, health: HealthState | null): Map<string, Decision> {
  const out = new Map<string, Decision>();
  if (!rules || !health) return out;
  for (const d of evaluate(rules.ruleSet, health)) if (!out.has(routeId(d))) out.set(routeId(d), d);
  return out;
}

/**
 * What the rules would do with live HAProxy, without the agent (it does not run, or `--from-file`):
 * `header` says so. Pure.
 */
export function explainRules(
  rules: ExplainedRules,
  health: HealthState,
  allowed: (prefix: string) => boolean,
  allowlist: readonly string[],
  match: RouteMatch,
  header: string,
): Explained {
  const decisions = [...decisionsByRoute(rules, health).values()].filter(match);
  const body = decisions.map((d) => {
    const rule = rules.where(d.rule);
    // The agent never advertises a route outside the allowlist, whatever its rule says.
    const verdict = allowed(d.prefix)
      ? `${d.advertise ? 'advertise' : 'withdraw'} (${rule})`
      : `blocked by the allowlist (${allowlist.join(', ')}): never advertised; its rule ${d.advertise ? 'holds' : 'fails'} (${rule})`;
    return `${formatRoute(d)}: ${verdict}\n${renderExplanation(d.explanation, '  ')}`;
  });
  return { text: [header, '', body.join('\n\n')].join('\n'), count: decisions.length };
}

/** The agent's static protocol for a route (the injector's default names). */
const protocolOf = (r: RouteStatus) => (r.family === 'ipv6' ? `${r.table}_v6` : r.table);

function ruleSetLine(s: NodeStatus): string {
  const r = s.ruleSet;
  if (!r) return 'rule set: none in force (nothing is advertised until one is accepted)';
  const from =
    r.source === 'controller'
      ? `from the controller, serial ${r.serial}`
      : r.source === 'persisted' && r.serial > 0
        ? `from the controller (its persisted copy), serial ${r.serial}`
        : r.source === 'persisted'
          ? 'the last good copy of the rules file'
          : 'from the rules file';
  return `rule set: ${r.hash.slice(0, 12)} ${from}, in force since ${r.appliedAt}`;
}

function drainLine(s: NodeStatus): string {
  const d = s.drain;
  if (!d.drained) return 'drain: none';
  const since = d.since === undefined ? '' : `, since ${d.since}`;
  if (d.mode !== 'deprefer')
    return `drain: DRAINED (${d.reason ?? 'drained'}${since}): every route withdrawn`;
  const sessions = d.sessions === undefined ? '' : `, ${d.sessions} now`;
  return `drain: DRAINING (${d.reason ?? 'drained'}${since}): routes de-preferred until HAProxy's connections fall to ${d.waitSessions ?? 0}${sessions}`;
}

function birdLine(s: NodeStatus): string {
  const disabled = s.bird.disabled?.length
    ? `; protocols DISABLED as a fail-safe (all their routes withdrawn): ${s.bird.disabled.join(', ')}`
    : '';
  if (!s.bird.reachable) return `bird: UNREACHABLE: ${s.bird.error ?? ''}${disabled}`;
  if (s.bird.error) return `bird: REFUSING its configuration: ${s.bird.error}${disabled}`;
  return `bird: takes the agent's changes${disabled}`;
}

/** The agent's verdict on one route, from its own state: what BIRD is asked for, and what it holds. */
function verdict(r: RouteStatus, s: NodeStatus, allowlist: readonly string[]): string {
  const rule = r.decision === 'advertise' ? 'its rule holds' : 'its rule fails';
  const held = r.inBird ?? undefined;
  const disabled = s.bird.disabled?.includes(protocolOf(r))
    ? `protocol ${protocolOf(r)} is disabled while BIRD refuses its configuration`
    : undefined;
  if (!r.allowed) return `blocked by the allowlist (${allowlist.join(', ')}): never advertised; ${rule}`;
  const why = r.refused;
  if (why !== undefined) return `REFUSED by the injector, not advertised: ${why}; ${rule}`;
  if (r.desired) {
    const how =
      s.drain.mode === 'deprefer'
        ? 'advertised, de-preferred (node draining: MED 4294967294, local-pref 0)'
        : 'advertised';
    if (held === false)
      return `to be ${how}, but BIRD does not hold it: ${disabled ?? s.bird.error ?? 'the change is being applied'}`;
    if (r.damping === 'falling') return `${how}; ${rule}, withdrawn once that has lasted (damping.fall)`;
    return held === undefined ? `${how} (what BIRD holds could not be read)` : how;
  }
  let withdrawn: string;
  if (!s.haproxy.reachable)
    withdrawn = `HAProxy unreachable (${s.haproxy.error ?? ''}): nothing is advertised (fail closed)`;
  else if (s.drain.drained && s.drain.mode !== 'deprefer')
    withdrawn = `node drained (${s.drain.reason ?? 'drained'}); ${rule}`;
  else if (r.damping === 'held') withdrawn = `held down after flapping (damping.holdDown); ${rule}`;
  else if (r.damping === 'rising') withdrawn = `${rule}, but not long enough yet (damping.rise)`;
  else withdrawn = r.reason;
  const still = held ? `; BIRD STILL HOLDS IT: ${s.bird.error ?? 'the withdrawal is being applied'}` : '';
  return `withdrawn: ${withdrawn}${still}`;
}

/**
 * Why each route is (not) advertised, from the running agent's own status (`GET /status`): the rule set
 * in force, damping, the drain, the allowlist, refusals, what BIRD holds. The per-term reasons come from
 * live HAProxy, evaluated with the rule set in force (`rules`; null when it could not be had); without
 * them, from the agent's own explanation of its last reading. Pure.
 */
export function explainAgent(
  s: NodeStatus,
  rules: ExplainedRules | null,
  health: { readonly state: HealthState } | { readonly error: string },
  allowlist: readonly string[],
  match: RouteMatch,
): Explained {
  const live = 'state' in health ? health.state : null;
  const decisions = decisionsByRoute(rules, live);
  const header = [
    "the running agent's view: what it advertises and why",
    ruleSetLine(s),
    `haproxy: ${s.haproxy.reachable ? 'reachable' : `UNREACHABLE: ${s.haproxy.error ?? ''}`} (the agent's last reading)`,
    birdLine(s),
    drainLine(s),
    'error' in health
      ? `per-term reasons: the agent's, from its last reading (cannot read HAProxy here: ${health.error})`
      : rules
        ? 'per-term reasons: the rule set in force, evaluated against live HAProxy now'
        : "per-term reasons: the agent's, from its last reading (the agent's rule set could not be read)",
  ];
  const routes = s.routes.filter(match);
  const body = routes.map((r) => {
    const d = decisions.get(routeId(r));
    const where = d && rules ? ` (${rules.where(d.rule)})` : '';
    const lines = [`${formatRoute(r)}: ${verdict(r, s, allowlist)}${where}`];
    const held = r.decision === 'advertise';
    if (d) {
      lines.push(renderExplanation(d.explanation, '  '));
      if (d.advertise !== held)
        lines.push(
          `  live HAProxy now: the rule ${d.advertise ? 'holds' : 'fails'}; the agent's last reading: it ${held ? 'holds' : 'fails'}`,
        );
    } else {
      lines.push(renderExplanation(r.explanation, '  '));
    }
    return lines.join('\n');
  });
  return { text: [...header, '', body.join('\n\n')].join('\n'), count: routes.length };
}
