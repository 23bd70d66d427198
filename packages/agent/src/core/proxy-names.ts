import type { Expr, HealthState, ProxyTerm, RuleSet } from '@rhi/rules-dsl';

function visit(expr: Expr, fn: (term: ProxyTerm) => void): void {
  if (expr.type === 'proxy') fn(expr);
  else if (expr.type === 'not') visit(expr.arg, fn);
  else if (expr.type !== 'const') for (const a of expr.args) visit(a, fn);
}

/** Calls `fn` for every proxy term of a rule set, nested ones included, in source order. Pure. */
export function forEachProxyTerm(ruleSet: RuleSet, fn: (term: ProxyTerm) => void): void {
  for (const rule of ruleSet.rules) visit(rule.expr, fn);
}

/** Every proxy a rule set names, as `b:<backend>` / `f:<frontend>`, in first-seen order. */
export function proxyNames(ruleSet: RuleSet): string[] {
  const out = new Set<string>();
  forEachProxyTerm(ruleSet, (t) => out.add(`${t.side === 'backend' ? 'b' : 'f'}:${t.name}`));
  return [...out];
}

/** The proxies of `names` (from {@link proxyNames}) that the health state does not know. */
export function unknownProxies(names: readonly string[], health: HealthState): string[] {
  return names.filter(
    (p) => !Object.hasOwn(p.startsWith('b:') ? health.backends : health.frontends, p.slice(2)),
  );
}
