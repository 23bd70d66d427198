import type { Expr, Family, ProxyTerm, RouteAttributes, RuleSet } from './ast.js';
import { formatExpr } from './format.js';
import type { BackendHealth, FrontendHealth, HealthState } from './health.js';

/** Why a term has its value: its canonical text, the value, a short detail and its sub-terms. */
export interface Explanation {
  readonly term: string;
  readonly value: boolean;
  /** E.g. `down (DOWN)`, `unknown backend`, `2 of 3 servers usable, need 3`, `1 of 2 terms hold`. */
  readonly detail: string;
  readonly children: readonly Explanation[];
}

/** The verdict for one route. */
export interface Decision {
  readonly table: string;
  readonly prefix: string;
  readonly family: Family;
  readonly advertise: boolean;
  /** Index of the rule in the rule set. */
  readonly rule: number;
  /** One-line summary of the explanation, e.g. `b:be_app down`. */
  readonly reason: string;
  readonly explanation: Explanation;
  readonly attributes?: RouteAttributes;
}

interface Evaluated {
  readonly explanation: Explanation;
  readonly summary: string;
}

const MAX_LISTED = 4;

function list(items: readonly Evaluated[]): string {
  const shown = items.slice(0, MAX_LISTED).map((i) => i.summary);
  if (items.length > MAX_LISTED) shown.push(`and ${items.length - MAX_LISTED} more`);
  return shown.join(', ');
}

function lookup<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

function proxyLeaf(term: ProxyTerm, text: string, state: HealthState): Evaluated {
  const health: FrontendHealth | BackendHealth | undefined =
    term.side === 'backend' ? lookup(state.backends, term.name) : lookup(state.frontends, term.name);
  if (!health) {
    return {
      explanation: { term: text, value: false, detail: `unknown ${term.side}`, children: [] },
      summary: `${text} unknown`,
    };
  }
  const servers = health as BackendHealth;
  const counted = servers.serversUp !== undefined && servers.serversTotal !== undefined;
  const usable = counted ? `${servers.serversUp} of ${servers.serversTotal} servers usable` : undefined;
  if (!term.threshold) {
    const state = health.up ? 'up' : 'down';
    const detail = [health.reason ? `${state} (${health.reason})` : state, usable].filter(Boolean).join(', ');
    return {
      explanation: { term: text, value: health.up, detail, children: [] },
      summary: `${text} ${state}`,
    };
  }
  const { kind, value: need } = term.threshold;
  if (!counted) {
    const detail = 'server counts unknown';
    return { explanation: { term: text, value: false, detail, children: [] }, summary: `${text} ${detail}` };
  }
  const up = servers.serversUp ?? 0;
  const total = servers.serversTotal ?? 0;
  let value: boolean;
  let detail: string;
  if (kind === 'count') {
    value = up >= need;
    detail = `${usable}, need ${need}`;
  } else {
    value = total > 0 && up * 100 >= need * total;
    detail = total === 0 ? 'no servers' : `${usable} (${Math.floor((up * 100) / total)}%), need ${need}%`;
  }
  return {
    explanation: { term: text, value, detail, children: [] },
    summary: `${text} ${up}/${total} usable`,
  };
}

const termTexts = new WeakMap<Expr, string>();

/** The canonical text of a term, cached per node: rule sets are evaluated many times. */
function termText(expr: Expr): string {
  let text = termTexts.get(expr);
  if (text === undefined) {
    text = formatExpr(expr);
    termTexts.set(expr, text);
  }
  return text;
}

function evaluateExpr(expr: Expr, state: HealthState): Evaluated {
  const text = termText(expr);
  switch (expr.type) {
    case 'proxy':
      return proxyLeaf(expr, text, state);
    case 'const':
      return {
        explanation: { term: text, value: expr.value, detail: 'constant', children: [] },
        summary: `${text} (constant)`,
      };
    case 'not': {
      const child = evaluateExpr(expr.arg, state);
      const value = !child.explanation.value;
      return {
        explanation: {
          term: text,
          value,
          detail: `negates ${child.explanation.value}`,
          children: [child.explanation],
        },
        summary: `not(${child.summary})`,
      };
    }
    case 'all':
    case 'any':
    case 'atleast': {
      const children = expr.args.map((a) => evaluateExpr(a, state));
      const holding = children.filter((c) => c.explanation.value);
      const failing = children.filter((c) => !c.explanation.value);
      const need = expr.type === 'atleast' ? expr.n : expr.type === 'all' ? children.length : 1;
      const value = holding.length >= need;
      const counts = `${holding.length} of ${children.length} hold`;
      const detail = expr.type === 'atleast' ? `${counts}, need ${need}` : counts;
      let summary: string;
      if (expr.type === 'atleast') summary = `${counts} (need ${need}): ${list(value ? holding : failing)}`;
      else if (value) summary = list(expr.type === 'all' ? children : holding);
      else summary = list(failing);
      return {
        explanation: { term: text, value, detail, children: children.map((c) => c.explanation) },
        summary,
      };
    }
  }
}

/**
 * Evaluates every rule against a health state. Returns one decision per route, in rule-set order, each
 * with its one-line reason and explanation tree. Pure: the same rule set and state always give the same
 * decisions. Term texts are computed once per rule set and reused by later evaluations.
 */
export function evaluate(ruleSet: RuleSet, state: HealthState): Decision[] {
  const decisions: Decision[] = [];
  ruleSet.rules.forEach((rule, index) => {
    const { explanation, summary } = evaluateExpr(rule.expr, state);
    for (const route of rule.routes) {
      decisions.push({
        table: route.table,
        prefix: route.prefix,
        family: route.family,
        advertise: explanation.value,
        rule: index,
        reason: summary,
        explanation,
        ...(rule.attributes ? { attributes: rule.attributes } : {}),
      });
    }
  });
  return decisions;
}

/** Renders an explanation as an indented tree, one term per line: `b:be_app: false (down, 0 of 3 servers usable)`. */
export function renderExplanation(explanation: Explanation, indent = ''): string {
  const lines = [`${indent}${explanation.term}: ${explanation.value} (${explanation.detail})`];
  const walk = (node: Explanation, prefix: string) => {
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${child.term}: ${child.value} (${child.detail})`);
      walk(child, `${prefix}${last ? '   ' : '│  '}`);
    });
  };
  walk(explanation, indent);
  return lines.join('\n');
}
