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

function evaluateExpr(expr: Expr, state: HealthState): Evaluated {
  const text = formatExpr(expr);
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

function leafValue(term: ProxyTerm, state: HealthState): boolean {
  const health: BackendHealth | undefined =
    term.side === 'backend' ? lookup(state.backends, term.name) : lookup(state.frontends, term.name);
  if (!health) return false;
  if (!term.threshold) return health.up;
  const up = health.serversUp;
  const total = health.serversTotal;
  if (up === undefined || total === undefined) return false;
  return term.threshold.kind === 'count'
    ? up >= term.threshold.value
    : total > 0 && up * 100 >= term.threshold.value * total;
}

/** The value of an expression, without building an explanation (the hot path). */
function valueOf(expr: Expr, state: HealthState): boolean {
  switch (expr.type) {
    case 'proxy':
      return leafValue(expr, state);
    case 'const':
      return expr.value;
    case 'not':
      return !valueOf(expr.arg, state);
    case 'all':
      for (const a of expr.args) if (!valueOf(a, state)) return false;
      return true;
    case 'any':
      for (const a of expr.args) if (valueOf(a, state)) return true;
      return false;
    case 'atleast': {
      let holding = 0;
      for (const a of expr.args) if (valueOf(a, state) && ++holding >= expr.n) return true;
      return false;
    }
  }
}

/** A rule's outcome; its explanation is built on first use and shared by the rule's routes. */
class Outcome {
  private evaluated: Evaluated | undefined;
  constructor(
    private readonly expr: Expr,
    private readonly state: HealthState,
  ) {}
  get result(): Evaluated {
    this.evaluated ??= evaluateExpr(this.expr, this.state);
    return this.evaluated;
  }
}

class LazyDecision implements Decision {
  constructor(
    readonly table: string,
    readonly prefix: string,
    readonly family: Family,
    readonly advertise: boolean,
    readonly rule: number,
    private readonly outcome: Outcome,
    readonly attributes: RouteAttributes | undefined,
  ) {}
  get reason(): string {
    return this.outcome.result.summary;
  }
  get explanation(): Explanation {
    return this.outcome.result.explanation;
  }
  toJSON(): Decision {
    const { table, prefix, family, advertise, rule, reason, explanation, attributes } = this;
    return {
      table,
      prefix,
      family,
      advertise,
      rule,
      reason,
      explanation,
      ...(attributes ? { attributes } : {}),
    };
  }
}

/**
 * Evaluates every rule against a health state. Returns one decision per route, in rule-set order.
 * Pure: the same rule set and state always give the same decisions. The cost of `reason` and
 * `explanation` is paid only when they are read.
 */
export function evaluate(ruleSet: RuleSet, state: HealthState): Decision[] {
  const decisions: Decision[] = [];
  for (let index = 0; index < ruleSet.rules.length; index++) {
    const rule = ruleSet.rules[index];
    if (!rule) continue;
    const value = valueOf(rule.expr, state);
    const outcome = new Outcome(rule.expr, state);
    for (const route of rule.routes) {
      decisions.push(
        new LazyDecision(route.table, route.prefix, route.family, value, index, outcome, rule.attributes),
      );
    }
  }
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
