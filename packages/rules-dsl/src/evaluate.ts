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
const NO_CHILDREN: readonly Explanation[] = Object.freeze([]);

/** The summaries of `items` whose value is `value`, at most {@link MAX_LISTED} of them, then a count. */
function list(items: readonly Evaluated[], value: boolean): string {
  let text = '';
  let shown = 0;
  let more = 0;
  for (const item of items) {
    if (item.explanation.value !== value) continue;
    if (shown === MAX_LISTED) {
      more++;
      continue;
    }
    text = shown === 0 ? item.summary : `${text}, ${item.summary}`;
    shown++;
  }
  return more ? `${text}, and ${more} more` : text;
}

function lookup<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

const leaf = (term: string, value: boolean, detail: string, summary: string): Evaluated => ({
  explanation: { term, value, detail, children: NO_CHILDREN },
  summary,
});

function proxyLeaf(term: ProxyTerm, text: string, state: HealthState): Evaluated {
  const health: FrontendHealth | BackendHealth | undefined =
    term.side === 'backend' ? lookup(state.backends, term.name) : lookup(state.frontends, term.name);
  if (!health) return leaf(text, false, `unknown ${term.side}`, `${text} unknown`);
  const { serversUp: up, serversTotal: total } = health as BackendHealth;
  const counted = up !== undefined && total !== undefined;
  const usable = counted ? `${up} of ${total} servers usable` : '';
  if (!term.threshold) {
    const word = health.up ? 'up' : 'down';
    let detail = health.reason ? `${word} (${health.reason})` : word;
    if (counted) detail = `${detail}, ${usable}`;
    return leaf(text, health.up, detail, `${text} ${word}`);
  }
  if (!counted) return leaf(text, false, 'server counts unknown', `${text} server counts unknown`);
  const need = term.threshold.value;
  const summary = `${text} ${up}/${total} usable`;
  if (term.threshold.kind === 'count') return leaf(text, up >= need, `${usable}, need ${need}`, summary);
  if (total === 0) return leaf(text, false, 'no servers', summary);
  const percent = Math.floor((up * 100) / total);
  return leaf(text, up * 100 >= need * total, `${usable} (${percent}%), need ${need}%`, summary);
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

/**
 * Evaluates one term. `leaves` holds the proxy terms already evaluated against this state: rules share
 * backends, and an explanation is immutable, so each distinct term is explained once per evaluation.
 */
function evaluateExpr(expr: Expr, state: HealthState, leaves: Map<string, Evaluated>): Evaluated {
  const text = termText(expr);
  switch (expr.type) {
    case 'proxy': {
      let done = leaves.get(text);
      if (!done) {
        done = proxyLeaf(expr, text, state);
        leaves.set(text, done);
      }
      return done;
    }
    case 'const':
      return leaf(text, expr.value, 'constant', `${text} (constant)`);
    case 'not': {
      const child = evaluateExpr(expr.arg, state, leaves);
      return {
        explanation: {
          term: text,
          value: !child.explanation.value,
          detail: `negates ${child.explanation.value}`,
          children: [child.explanation],
        },
        summary: `not(${child.summary})`,
      };
    }
    case 'all':
    case 'any':
    case 'atleast': {
      const children: Evaluated[] = [];
      const explanations: Explanation[] = [];
      let holding = 0;
      for (const a of expr.args) {
        const child = evaluateExpr(a, state, leaves);
        children.push(child);
        explanations.push(child.explanation);
        if (child.explanation.value) holding++;
      }
      const need = expr.type === 'atleast' ? expr.n : expr.type === 'all' ? children.length : 1;
      const value = holding >= need;
      const counts = `${holding} of ${children.length} hold`;
      const detail = expr.type === 'atleast' ? `${counts}, need ${need}` : counts;
      let summary: string;
      if (expr.type === 'atleast') summary = `${counts} (need ${need}): ${list(children, value)}`;
      else if (value && expr.type === 'all') summary = list(children, true);
      else summary = list(children, value);
      return { explanation: { term: text, value, detail, children: explanations }, summary };
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
  const leaves = new Map<string, Evaluated>();
  ruleSet.rules.forEach((rule, index) => {
    const { explanation, summary } = evaluateExpr(rule.expr, state, leaves);
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
