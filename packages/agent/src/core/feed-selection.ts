import type { ProxyNames } from '@rhi/haproxy-client';
import type { Expr, RuleSet } from '@rhi/rules-dsl';

/** What the health feed reads for a rule set: the proxies it names, and server rows only if it needs them. */
export interface FeedSelection {
  readonly proxies: ProxyNames;
  /** True when a rule has a capacity threshold (`b:be>=N`, `b:be>=N%`), which needs server counts. */
  readonly withServers: boolean;
}

function visit(expr: Expr, frontends: Set<string>, backends: Set<string>): boolean {
  switch (expr.type) {
    case 'proxy':
      (expr.side === 'backend' ? backends : frontends).add(expr.name);
      return expr.threshold !== undefined;
    case 'not':
      return visit(expr.arg, frontends, backends);
    case 'const':
      return false;
    default: {
      let thresholds = false;
      for (const arg of expr.args) thresholds = visit(arg, frontends, backends) || thresholds;
      return thresholds;
    }
  }
}

/** The feed's selection for a rule set (none: read no proxy, only the process). Pure. */
export function feedSelection(ruleSet: RuleSet | null): FeedSelection {
  const frontends = new Set<string>();
  const backends = new Set<string>();
  let withServers = false;
  for (const rule of ruleSet?.rules ?? []) withServers = visit(rule.expr, frontends, backends) || withServers;
  return { proxies: { frontends: [...frontends], backends: [...backends] }, withServers };
}

/** Same proxies and server rows. Pure. */
export function sameSelection(a: FeedSelection, b: FeedSelection): boolean {
  const same = (x: readonly string[], y: readonly string[]) =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    a.withServers === b.withServers &&
    same(a.proxies.frontends, b.proxies.frontends) &&
    same(a.proxies.backends, b.proxies.backends)
  );
}
