import type { Expr, Family, ProxyTerm, RouteAttributes, Rule, RuleSet } from '../src/ast.js';
import { formatExpr, formatTerm } from '../src/format.js';
import type { BackendHealth, FrontendHealth, HealthState } from '../src/health.js';
import { ScratchStack } from '../src/scratch-stack.js';

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

/** A proxy term's explanation and one-line summary, shared by every rule that names the term. */
interface Leaf {
  readonly explanation: Explanation;
  readonly summary: string;
}

const MAX_LISTED = 4;
const NO_CHILDREN: readonly Explanation[] = Object.freeze([]);

function lookup<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

const leaf = (term: string, value: boolean, detail: string, summary: string): Leaf => ({
  explanation: { term, value, detail, children: NO_CHILDREN },
  summary,
});

function proxyLeaf(term: ProxyTerm, text: string, state: HealthState): Leaf {
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

/**
 * One evaluation of a rule set against one health state. The explanations it returns are kept by the
 * decisions, so it allocates little beyond them: a node's one-line summary comes back in `summary` rather
 * than in a wrapper object, sub-terms are gathered on scratch stacks and copied out at their exact size,
 * a term's text is made from its sub-terms' texts, and the explanation of each distinct proxy term and
 * each count detail (`2 of 3 hold`) is made once.
 */
class Evaluation {
  /** The summary of the term last passed to {@link explain}. */
  summary = '';
  /**
   * Explained proxy terms. Keyed by object: a parse makes one object per distinct term (a rule set from
   * elsewhere may repeat a term in several objects, which are then explained once each).
   */
  private readonly leaves = new Map<ProxyTerm, Leaf>();
  private readonly details = new Map<number, string>();
  private readonly explanations = new ScratchStack<Explanation>();
  private readonly summaries = new ScratchStack<string>();

  constructor(
    private readonly state: HealthState,
    /** Where to keep the texts of compound terms across evaluations, if anywhere. */
    private readonly texts: WeakMap<Expr, string> | undefined,
  ) {}

  /** The text of a compound term, from the cache or from its sub-terms' texts. */
  private text(expr: Expr, children: readonly Explanation[]): string {
    let text = this.texts?.get(expr);
    if (text === undefined) {
      text = formatTerm(
        expr,
        children.map((c) => c.term),
      );
      this.texts?.set(expr, text);
    }
    return text;
  }

  explain(expr: Expr): Explanation {
    switch (expr.type) {
      case 'proxy': {
        let done = this.leaves.get(expr);
        if (!done) {
          done = proxyLeaf(expr, formatExpr(expr), this.state);
          this.leaves.set(expr, done);
        }
        this.summary = done.summary;
        return done.explanation;
      }
      case 'const': {
        const text = formatExpr(expr);
        this.summary = `${text} (constant)`;
        return { term: text, value: expr.value, detail: 'constant', children: NO_CHILDREN };
      }
      case 'not': {
        const child = this.explain(expr.arg);
        this.summary = `not(${this.summary})`;
        const children = [child];
        const term = this.text(expr, children);
        return { term, value: !child.value, detail: `negates ${child.value}`, children };
      }
      case 'all':
      case 'any':
      case 'atleast': {
        // Children of this node sit on the scratch stacks from `base` up.
        const { explanations, summaries } = this;
        const base = explanations.size;
        let holding = 0;
        for (const arg of expr.args) {
          const child = this.explain(arg);
          explanations.push(child);
          summaries.push(this.summary);
          if (child.value) holding++;
        }
        const count = expr.args.length;
        const need = expr.type === 'atleast' ? expr.n : expr.type === 'all' ? count : 1;
        const value = holding >= need;
        const listed = this.list(base, value);
        const children = explanations.popFrom(base);
        summaries.size = base;
        const text = this.text(expr, children);
        if (expr.type === 'atleast') {
          const detail = this.detail(holding, count, need);
          this.summary = `${this.detail(holding, count)} (need ${need}): ${listed}`;
          return { term: text, value, detail, children };
        }
        this.summary = listed;
        return { term: text, value, detail: this.detail(holding, count), children };
      }
    }
  }

  /**
   * `<holding> of <count> hold`, then `, need <need>` when a need is given. The few distinct texts of an
   * evaluation are made once (keyed by the numbers while they are small) instead of once per rule.
   */
  private detail(holding: number, count: number, need?: number): string {
    const small = count < 1024 && (need ?? 0) < 1023;
    const key = (holding * 1024 + count) * 1024 + (need === undefined ? 0 : need + 1);
    let text = small ? this.details.get(key) : undefined;
    if (text === undefined) {
      text = need === undefined ? `${holding} of ${count} hold` : `${holding} of ${count} hold, need ${need}`;
      if (small) this.details.set(key, text);
    }
    return text;
  }

  /**
   * The summaries of the children from `base` up whose value is `value`: at most {@link MAX_LISTED} of
   * them, then a count. Joined into one flat string: the reason of every decision is kept, and a string
   * built with + is a tree of pieces.
   */
  private list(base: number, value: boolean): string {
    const { explanations, summaries } = this;
    let matching = 0;
    let first = '';
    for (let i = base; i < explanations.size; i++) {
      if (explanations.at(i)?.value !== value) continue;
      if (matching++ === 0) first = summaries.at(i) ?? '';
    }
    if (matching <= 1) return first;
    const listed = Math.min(matching, MAX_LISTED);
    const parts = new Array<string>(matching > listed ? listed + 1 : listed);
    let shown = 0;
    for (let i = base; i < explanations.size && shown < listed; i++) {
      if (explanations.at(i)?.value === value) parts[shown++] = summaries.at(i) ?? '';
    }
    if (matching > listed) parts[listed] = `and ${matching - listed} more`;
    return parts.join(', ');
  }
}

/**
 * Rule sets evaluated before. A rule set evaluated again (the agent's case: one rule set, many health
 * states) gets the texts of its compound terms cached in {@link termTexts}; a rule set evaluated once
 * (parsed and evaluated, as by the CLI) does not pay for filling a cache it will not use.
 */
const evaluatedBefore = new WeakSet<RuleSet>();
const termTexts = new WeakMap<Expr, string>();

/**
 * The evaluator as it was before decisions explained themselves lazily (src/evaluate.ts at commit
 * 73c65d9), kept as a test oracle: every decision built eagerly as plain data, with its reason and
 * explanation. src/evaluate.ts must give the same JSON for every rule set and state.
 */
export function eagerEvaluate(ruleSet: RuleSet, state: HealthState): Decision[] {
  const decisions: Decision[] = [];
  const evaluation = new Evaluation(state, evaluatedBefore.has(ruleSet) ? termTexts : undefined);
  evaluatedBefore.add(ruleSet);
  const { rules } = ruleSet;
  for (let rule = 0; rule < rules.length; rule++) {
    const { routes, expr, attributes } = rules[rule] as Rule;
    const explanation = evaluation.explain(expr);
    const reason = evaluation.summary;
    const advertise = explanation.value;
    for (const { table, prefix, family } of routes) {
      decisions.push(
        attributes
          ? { table, prefix, family, advertise, rule, reason, explanation, attributes }
          : { table, prefix, family, advertise, rule, reason, explanation },
      );
    }
  }
  return decisions;
}
