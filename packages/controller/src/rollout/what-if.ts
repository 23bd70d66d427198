import type {
  HealthReport,
  NodeStatus,
  WhatIfNodeResult,
  WhatIfResult,
  WhatIfUnknownReason,
  WhatIfVip,
} from '@rhi/contracts';
import { routeId } from '@rhi/contracts';
import type { Expr, Family, RuleSet } from '@rhi/rules-dsl';
import { evaluate, prefixContains, ruleSetRoutes } from '@rhi/rules-dsl';
import { byName } from './step-plan.js';

/** One node as the what-if sees it: its last status and health report, and what else is known of it. */
export interface WhatIfNode {
  readonly name: string;
  /** Its last status: the routes it advertises now, its drain. Without it the node is `unknown`. */
  readonly status?: NodeStatus | undefined;
  /** Its last HAProxy health report. Without it a targeted node is `unknown` (not simulated). */
  readonly health?: HealthReport | undefined;
  /** False: outside the rollout's target, counted as it is now. Default true. */
  readonly targeted?: boolean;
  /** The node is lost (its status is stale): never counted; listed `unknown` when targeted. */
  readonly lost?: boolean;
  /**
   * The node's prefix allowlist (canonical CIDRs), when known (its status carries it; an older agent's
   * does not). Without it, only the routes its status marks `allowed: false` are known to be outside it.
   */
  readonly allowlist?: readonly string[] | undefined;
  /**
   * What its health report's maps cover, when the report has no inventory (`proxies`): `all` its
   * HAProxy's proxies (one it lacks is missing there), or only those its rules in force `named` (a proxy
   * the candidate names anew is then not known to be missing, only unverified; the agent checks it when
   * it applies the rule set and rejects the set if its HAProxy lacks it). Default `all`.
   */
  readonly reportCovers?: 'all' | 'named';
}

export type { WhatIfNodeResult, WhatIfResult, WhatIfUnknownReason, WhatIfVip } from '@rhi/contracts';

/** The proxies a rule set names, by side, each once, in first-seen order. */
function namedProxies(ruleSet: RuleSet): { frontends: string[]; backends: string[] } {
  const frontends = new Set<string>();
  const backends = new Set<string>();
  const visit = (e: Expr): void => {
    if (e.type === 'proxy') (e.side === 'backend' ? backends : frontends).add(e.name);
    else if (e.type === 'not') visit(e.arg);
    else if (e.type !== 'const') for (const a of e.args) visit(a);
  };
  for (const rule of ruleSet.rules) visit(rule.expr);
  return { frontends: [...frontends], backends: [...backends] };
}

/** VIPs by table then prefix, numbered from 0 (the candidate's first), with their tallies. */
class VipTable {
  readonly tables = new Map<string, Map<string, number>>();
  readonly table: string[] = [];
  readonly prefix: string[] = [];
  readonly family: Family[] = [];
  readonly before: number[] = [];
  readonly after: number[] = [];
  readonly unknown: number[] = [];
  readonly added: (string[] | undefined)[] = [];
  readonly withdrawn: (string[] | undefined)[] = [];
  /** Per VIP, the node generation that last marked it (see {@link whatIf}); grown with the table. */
  advertisedNow = new Uint32Array(256);
  seen = new Uint32Array(256);
  disallowed = new Uint32Array(256);

  index(table: string, prefix: string, family: Family): number {
    let byPrefix = this.tables.get(table);
    if (!byPrefix) this.tables.set(table, (byPrefix = new Map()));
    let v = byPrefix.get(prefix);
    if (v === undefined) {
      v = this.table.length;
      byPrefix.set(prefix, v);
      this.table.push(table);
      this.prefix.push(prefix);
      this.family.push(family);
      this.before.push(0);
      this.after.push(0);
      this.unknown.push(0);
      this.added.push(undefined);
      this.withdrawn.push(undefined);
      if (v >= this.seen.length) {
        const grow = (a: Uint32Array) => {
          const b = new Uint32Array(a.length * 2);
          b.set(a);
          return b;
        };
        this.advertisedNow = grow(this.advertisedNow);
        this.seen = grow(this.seen);
        this.disallowed = grow(this.disallowed);
      }
    }
    return v;
  }

  private readonly ids: (string | undefined)[] = [];

  id(v: number): string {
    return (this.ids[v] ??= routeId({ table: this.table[v] as string, prefix: this.prefix[v] as string }));
  }
}

const push = (lists: (string[] | undefined)[], v: number, value: string) => {
  const list = lists[v];
  if (list) list.push(value);
  else lists[v] = [value];
};

const NONE: readonly string[] = Object.freeze([]);

const inventories = new WeakMap<object, { frontends: object; backends: object }>();
/** A report's inventory as sets to look names up in (made once per report). */
function inventoryOf(p: { readonly frontends: readonly string[]; readonly backends: readonly string[] }) {
  let inv = inventories.get(p);
  if (!inv) {
    const set = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, true]));
    inventories.set(p, (inv = { frontends: set(p.frontends), backends: set(p.backends) }));
  }
  return inv;
}

/** `out` with the proxies of `names` that `have` lacks added (as `tag` + name); made only when needed. */
function missing(
  names: readonly string[],
  have: object,
  tag: string,
  out: string[] | undefined,
): string[] | undefined {
  for (const p of names) if (!Object.hasOwn(have, p)) (out ??= []).push(tag + p);
  return out;
}

/**
 * What a candidate rule set would change across the fleet, per VIP and per node, judged on each targeted
 * node's last HAProxy health report with the rules language's own `evaluate` (the agents' code), then the
 * agent's policies: HAProxy unreachable advertises nothing, a prefix outside the allowlist is never
 * advertised, a drained node advertises nothing (before and after). The first rule for a route decides
 * it, as in the agent. Damping is not simulated: this is where each node settles.
 *
 * "Now" is what each node's status says it wants (`desired`). Untargeted nodes count as they are;
 * targeted nodes without a status or health report, and lost nodes, are listed as unknown and not counted.
 * One pass over the nodes; per node, one evaluation and marks in typed arrays. Pure.
 */
export function whatIf(candidate: RuleSet, nodes: Iterable<WhatIfNode>): WhatIfResult {
  const vips = new VipTable();
  const routes = ruleSetRoutes(candidate);
  // The VIP of each decision position: evaluate returns decisions in the order of ruleSetRoutes.
  const decisionVip = new Int32Array(routes.length);
  const decisionTable: string[] = new Array<string>(routes.length);
  const decisionPrefix: string[] = new Array<string>(routes.length);
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    decisionVip[i] = vips.index(r.table, r.prefix, r.family);
    decisionTable[i] = r.table;
    decisionPrefix[i] = r.prefix;
  }
  const candidateVips = vips.table.length;
  const proxies = namedProxies(candidate);
  const byAllowlist = new Map<string, { allowed: Uint8Array; outside: readonly string[] }>();
  const allowlistMask = (networks: readonly string[]) => {
    const key = networks.join(' ');
    let mask = byAllowlist.get(key);
    if (!mask) {
      const allowed = new Uint8Array(candidateVips);
      const outside: string[] = [];
      for (let v = 0; v < candidateVips; v++) {
        const prefix = vips.prefix[v] as string;
        if (networks.some((n) => prefixContains(n, prefix))) allowed[v] = 1;
        else outside.push(vips.id(v));
      }
      mask = { allowed, outside };
      byAllowlist.set(key, mask);
    }
    return mask;
  };

  const results: WhatIfNodeResult[] = [];
  const unknown: { node: string; reason: WhatIfUnknownReason }[] = [];
  let simulated = 0;
  let changed = 0;
  let drainedCount = 0;
  let untargeted = 0;
  let gen = 0;
  /** The VIPs the node being simulated advertises now. */
  let nowList = new Int32Array(256);

  for (const n of nodes) {
    const targeted = n.targeted !== false;
    if (n.lost || !n.status) {
      if (targeted) unknown.push({ node: n.name, reason: n.lost ? 'lost' : 'noStatus' });
      continue;
    }
    const { status, health } = n;
    const drained = status.drain.drained;
    if (!targeted || !health) {
      if (targeted) unknown.push({ node: n.name, reason: 'noHealthReport' });
      else untargeted++;
      if (drained) continue;
      for (const r of status.routes) {
        if (!r.desired) continue;
        const v = vips.index(r.table, r.prefix, r.family);
        if (!targeted) {
          vips.before[v]!++;
          vips.after[v]!++;
        } else vips.unknown[v]!++;
      }
      continue;
    }

    simulated++;
    if (drained) drainedCount++;
    gen++;
    let advertising = 0;
    if (nowList.length < status.routes.length) nowList = new Int32Array(status.routes.length * 2);
    for (const r of status.routes) {
      const v = vips.index(r.table, r.prefix, r.family);
      if (!r.allowed) vips.disallowed[v] = gen;
      if (r.desired && !drained && vips.advertisedNow[v] !== gen) {
        vips.advertisedNow[v] = gen;
        vips.before[v]!++;
        nowList[advertising++] = v;
      }
    }
    const mask = n.allowlist ? allowlistMask(n.allowlist) : undefined;
    let added: string[] | undefined;
    let withdrawn: string[] | undefined;
    const name = n.name;

    const decisions = health.reachable ? evaluate(candidate, health) : null;
    if (decisions) {
      for (let i = 0; i < decisions.length; i++) {
        const d = decisions[i]!;
        let v = decisionVip[i] ?? -1;
        if (d.prefix !== decisionPrefix[i] || d.table !== decisionTable[i])
          v = vips.index(d.table, d.prefix, d.family);
        if (vips.seen[v] === gen) continue;
        vips.seen[v] = gen;
        const allowed = mask ? mask.allowed[v] === 1 : vips.disallowed[v] !== gen;
        const was = vips.advertisedNow[v] === gen;
        if (d.advertise && allowed && !drained) {
          vips.after[v]!++;
          if (!was) {
            (added ??= []).push(vips.id(v));
            push(vips.added, v, name);
          }
        } else if (was) {
          (withdrawn ??= []).push(vips.id(v));
          push(vips.withdrawn, v, name);
        }
      }
    }
    for (let j = 0; j < advertising; j++) {
      const v = nowList[j]!;
      if (vips.seen[v] === gen) continue;
      // Advertised now, and no decision of the candidate for it (no rule, or HAProxy unreachable).
      vips.seen[v] = gen;
      (withdrawn ??= []).push(vips.id(v));
      push(vips.withdrawn, v, name);
    }

    let unknownProxies: string[] | undefined;
    let unverified: string[] | undefined;
    if (health.reachable && health.proxies) {
      // The report's inventory says which proxies the worker has: one it lacks is missing; one it has
      // whose health the report does not carry (not named by the rules in force) is unverified.
      const inventory = inventoryOf(health.proxies);
      unknownProxies = missing(proxies.frontends, inventory.frontends, 'f:', unknownProxies);
      unknownProxies = missing(proxies.backends, inventory.backends, 'b:', unknownProxies);
      unverified = missing(
        proxies.frontends.filter((p) => Object.hasOwn(inventory.frontends, p)),
        health.frontends,
        'f:',
        unverified,
      );
      unverified = missing(
        proxies.backends.filter((p) => Object.hasOwn(inventory.backends, p)),
        health.backends,
        'b:',
        unverified,
      );
    } else if (health.reachable && n.reportCovers === 'named') {
      unverified = missing(proxies.frontends, health.frontends, 'f:', unverified);
      unverified = missing(proxies.backends, health.backends, 'b:', unverified);
    } else if (health.reachable) {
      if (health.omitted.frontends > 0)
        unverified = missing(proxies.frontends, health.frontends, 'f:', unverified);
      else unknownProxies = missing(proxies.frontends, health.frontends, 'f:', unknownProxies);
      if (health.omitted.backends > 0)
        unverified = missing(proxies.backends, health.backends, 'b:', unverified);
      else unknownProxies = missing(proxies.backends, health.backends, 'b:', unknownProxies);
    }
    let outside: readonly string[] = NONE;
    if (mask) outside = mask.outside;
    else {
      let list: string[] | undefined;
      for (let v = 0; v < candidateVips; v++) if (vips.disallowed[v] === gen) (list ??= []).push(vips.id(v));
      if (list) outside = list;
    }

    if (added || withdrawn) changed++;
    if (added || withdrawn || unknownProxies || unverified || outside.length || !health.reachable)
      results.push({
        node: name,
        drained,
        haproxyReachable: health.reachable,
        added: added ?? NONE,
        withdrawn: withdrawn ?? NONE,
        unknownProxies: unknownProxies ?? NONE,
        unverifiedProxies: unverified ?? NONE,
        outsideAllowlist: outside,
        allowlistKnown: mask !== undefined,
      });
  }

  const vipResults: WhatIfVip[] = [];
  for (let v = 0; v < vips.table.length; v++)
    vipResults.push({
      id: vips.id(v),
      table: vips.table[v] as string,
      prefix: vips.prefix[v] as string,
      family: vips.family[v] as Family,
      inCandidate: v < candidateVips,
      before: vips.before[v] as number,
      after: vips.after[v] as number,
      added: (vips.added[v] ?? NONE).slice().sort(byName),
      withdrawn: (vips.withdrawn[v] ?? NONE).slice().sort(byName),
      unknownAdvertisers: vips.unknown[v] as number,
    });
  vipResults.sort((a, b) => byName(a.id, b.id));
  results.sort((a, b) => byName(a.node, b.node));
  unknown.sort((a, b) => byName(a.node, b.node));
  return {
    vips: vipResults,
    nodes: results,
    unknown,
    counts: { simulated, changed, drained: drainedCount, unknown: unknown.length, untargeted },
  };
}
