import type { Expr, HealthState, RuleSet } from '@rhi/rules-dsl';

function collect(expr: Expr, out: Set<string>): void {
  if (expr.type === 'proxy') out.add(`${expr.side === 'backend' ? 'b' : 'f'}:${expr.name}`);
  else if (expr.type === 'not') collect(expr.arg, out);
  else if (expr.type !== 'const') for (const a of expr.args) collect(a, out);
}

/** Every proxy a rule set names, as `b:<backend>` / `f:<frontend>`, in first-seen order. */
export function proxyNames(ruleSet: RuleSet): string[] {
  const out = new Set<string>();
  for (const rule of ruleSet.rules) collect(rule.expr, out);
  return [...out];
}

/** The proxies of `names` (from {@link proxyNames}) that the health state does not know. */
export function unknownProxies(names: readonly string[], health: HealthState): string[] {
  return names.filter(
    (p) => !Object.hasOwn(p.startsWith('b:') ? health.backends : health.frontends, p.slice(2)),
  );
}
