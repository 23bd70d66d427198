import { routeId } from '@rhi/contracts';
import { formatAttributes, formatExpr, type RuleSet } from '@rhi/rules-dsl';

/** A route (`table%prefix`) and the canonical text of the rule that controls it. */
export interface RouteRule {
  readonly route: string;
  /** The condition and its `with` clause, e.g. `all(b:be_app) with med 10`. */
  readonly rule: string;
}

/** Two rule sets compared route by route. */
export interface RuleSetDiff {
  /** Routes only the first controls, in its order. */
  readonly onlyA: readonly RouteRule[];
  /** Routes only the second controls, in its order. */
  readonly onlyB: readonly RouteRule[];
  /** Routes both control with a different rule, in the first's order. */
  readonly changed: readonly { readonly route: string; readonly a: string; readonly b: string }[];
}

/** Each route of a rule set with its rule's canonical text, in file order. */
function byRoute(ruleSet: RuleSet): Map<string, string> {
  const routes = new Map<string, string>();
  for (const rule of ruleSet.rules) {
    const attributes = formatAttributes(rule.attributes);
    const text = `${formatExpr(rule.expr)}${attributes ? ` with ${attributes}` : ''}`;
    for (const r of rule.routes) routes.set(routeId(r), text);
  }
  return routes;
}

/**
 * What differs between two rule sets for the routes they control: comments, layout, the order of rules
 * and how routes are grouped on lines do not count; a condition or attribute that differs does. Pure.
 */
export function diffRuleSets(a: RuleSet, b: RuleSet): RuleSetDiff {
  const left = byRoute(a);
  const right = byRoute(b);
  const onlyA: RouteRule[] = [];
  const changed: { route: string; a: string; b: string }[] = [];
  for (const [route, rule] of left) {
    const other = right.get(route);
    if (other === undefined) onlyA.push({ route, rule });
    else if (other !== rule) changed.push({ route, a: rule, b: other });
  }
  const onlyB = [...right].filter(([route]) => !left.has(route)).map(([route, rule]) => ({ route, rule }));
  return { onlyA, onlyB, changed };
}

/** Whether a diff found nothing. */
export const sameRules = (d: RuleSetDiff): boolean =>
  d.onlyA.length === 0 && d.onlyB.length === 0 && d.changed.length === 0;
