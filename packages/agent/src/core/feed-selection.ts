import type { ProxyNames } from '@rhi/haproxy-client';
import type { RuleSet } from '@rhi/rules-dsl';
import { forEachProxyTerm } from './proxy-names.js';

/** What the health feed reads for a rule set: the proxies it names, and server rows only if it needs them. */
export interface FeedSelection {
  readonly proxies: ProxyNames;
  /** True when a rule has a capacity threshold (`b:be>=N`, `b:be>=N%`), which needs server counts. */
  readonly withServers: boolean;
}

/** The feed's selection for a rule set (none: read no proxy, only the process). Pure. */
export function feedSelection(ruleSet: RuleSet | null): FeedSelection {
  const frontends = new Set<string>();
  const backends = new Set<string>();
  let withServers = false;
  if (ruleSet)
    forEachProxyTerm(ruleSet, (term) => {
      (term.side === 'backend' ? backends : frontends).add(term.name);
      if (term.threshold) withServers = true;
    });
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
