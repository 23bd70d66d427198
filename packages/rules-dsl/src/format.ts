import type { Expr, Route, RouteAttributes, Rule, RuleSet } from './ast.js';
import { DEFAULT_TABLE } from './ast.js';

const NO_ARGS: readonly string[] = [];

/** Canonical text of an expression: `all(b:be_static, any(b:be_a, b:be_b>=50%))`. */
export function formatExpr(expr: Expr): string {
  switch (expr.type) {
    case 'proxy':
    case 'const':
      return formatTerm(expr, NO_ARGS);
    case 'not':
      return formatTerm(expr, [formatExpr(expr.arg)]);
    default:
      return formatTerm(expr, expr.args.map(formatExpr));
  }
}

/**
 * Canonical text of a term whose sub-terms have the canonical texts `args` (the argument of `not`, the
 * terms of a list; ignored for proxies and constants), for callers that already hold those texts.
 */
export function formatTerm(expr: Expr, args: readonly string[]): string {
  switch (expr.type) {
    case 'proxy': {
      const head = `${expr.side === 'backend' ? 'b' : 'f'}:${expr.name}`;
      if (!expr.threshold) return head;
      return `${head}>=${expr.threshold.value}${expr.threshold.kind === 'percent' ? '%' : ''}`;
    }
    case 'const':
      return String(expr.value);
    case 'not':
      return `not(${args[0] ?? ''})`;
    // One join() gives one flat string; a template literal around a join() would add two more pieces, and
    // these texts are kept in every explanation.
    case 'atleast':
      return ['atleast(', [String(expr.n), ...args].join(', '), ')'].join('');
    case 'all':
    case 'any':
      return [expr.type, '(', args.join(', '), ')'].join('');
  }
}

/** Canonical text of a route: the table prefix form (`vol2%198.18.200.5/32`), the default table omitted. */
export function formatRoute(route: Route): string {
  return route.table === DEFAULT_TABLE ? route.prefix : `${route.table}%${route.prefix}`;
}

/** Canonical text of a `with` clause (without the keyword), or '' when there are no attributes. */
export function formatAttributes(a: RouteAttributes | undefined): string {
  if (!a) return '';
  const parts: string[] = [];
  if (a.med !== undefined) parts.push(`med ${a.med}`);
  if (a.localPref !== undefined) parts.push(`local-pref ${a.localPref}`);
  for (const [x, y] of a.communities ?? []) parts.push(`community ${x}:${y}`);
  for (const [x, y, z] of a.largeCommunities ?? []) parts.push(`large-community ${x}:${y}:${z}`);
  return parts.join(', ');
}

/** Canonical text of one rule, on one line. */
export function formatRule(rule: Rule): string {
  const attributes = formatAttributes(rule.attributes);
  return `${rule.routes.map(formatRoute).join(', ')} = ${formatExpr(rule.expr)}${attributes ? ` with ${attributes}` : ''}`;
}

/** Canonical text of a rule set: one rule per line, no comments. Its sha256 is the rule set's identity. */
export function format(ruleSet: RuleSet): string {
  return ruleSet.rules.map((r) => `${formatRule(r)}\n`).join('');
}
