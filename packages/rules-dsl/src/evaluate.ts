import type { Expr, Family, ProxyTerm, RouteAttributes, Rule, RuleSet } from './ast.js';
import { formatExpr, formatTerm } from './format.js';
import type { BackendHealth, FrontendHealth, HealthState } from './health.js';
import { healthOf, proxyHolds } from './proxy-health.js';
import type { RuleProgram } from './rule-program.js';
import { OP_ATLEAST, OP_NOT, OP_PROXY, OP_TRUE, OP_FALSE, OP_ALL, programOf } from './rule-program.js';
import { ScratchStack } from './scratch-stack.js';

/** Why a term has its value: its canonical text, the value, a short detail and its sub-terms. */
export interface Explanation {
  readonly term: string;
  readonly value: boolean;
  /** E.g. `down (DOWN)`, `unknown backend`, `2 of 3 servers usable, need 3`, `1 of 2 terms hold`. */
  readonly detail: string;
  readonly children: readonly Explanation[];
}

/**
 * The verdict for one route. `advertise` is decided by {@link evaluate}; `reason` and `explanation` are
 * built on first read (and kept), so they are accessors of the decision's class rather than own data:
 * `JSON.stringify` gives every field (the class has `toJSON`), while a spread (`{ ...d }`) or
 * `structuredClone` keeps only the data fields.
 */
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

const termHolds = (term: ProxyTerm, state: HealthState): boolean =>
  proxyHolds(
    healthOf(term.side, term.name, state),
    term.threshold && term.threshold.kind === 'percent',
    term.threshold?.value ?? 0,
  );

/** Whether an expression holds. Allocates nothing: this is the whole cost of a decision nobody explains. */
function holds(expr: Expr, state: HealthState): boolean {
  switch (expr.type) {
    case 'proxy':
      return termHolds(expr, state);
    case 'const':
      return expr.value;
    case 'not':
      return !holds(expr.arg, state);
    case 'all':
      for (const arg of expr.args) if (!holds(arg, state)) return false;
      return true;
    case 'any':
      for (const arg of expr.args) if (holds(arg, state)) return true;
      return false;
    case 'atleast': {
      let holding = 0;
      for (const arg of expr.args) if (holds(arg, state) && ++holding >= expr.n) return true;
      return false;
    }
  }
}

const leaf = (term: string, value: boolean, detail: string, summary: string): Leaf => ({
  explanation: { term, value, detail, children: NO_CHILDREN },
  summary,
});

/** The one-line summary of a proxy term whose canonical text is `text`. */
function proxySummary(
  term: ProxyTerm,
  text: string,
  health: FrontendHealth | BackendHealth | undefined,
): string {
  if (!health) return `${text} unknown`;
  if (!term.threshold) return `${text} ${health.up ? 'up' : 'down'}`;
  const { serversUp: up, serversTotal: total } = health as BackendHealth;
  if (up === undefined || total === undefined) return `${text} server counts unknown`;
  return `${text} ${up}/${total} usable`;
}

function proxyLeaf(term: ProxyTerm, text: string, state: HealthState): Leaf {
  const health = healthOf(term.side, term.name, state);
  const value = termHolds(term, state);
  const summary = proxySummary(term, text, health);
  if (!health) return leaf(text, value, `unknown ${term.side}`, summary);
  const { serversUp: up, serversTotal: total } = health as BackendHealth;
  const counted = up !== undefined && total !== undefined;
  const usable = counted ? `${up} of ${total} servers usable` : '';
  if (!term.threshold) {
    const word = health.up ? 'up' : 'down';
    let detail = health.reason ? `${word} (${health.reason})` : word;
    if (counted) detail = `${detail}, ${usable}`;
    return leaf(text, value, detail, summary);
  }
  if (!counted) return leaf(text, value, 'server counts unknown', summary);
  const need = term.threshold.value;
  if (term.threshold.kind === 'count') return leaf(text, value, `${usable}, need ${need}`, summary);
  if (total === 0) return leaf(text, value, 'no servers', summary);
  const percent = Math.floor((up * 100) / total);
  return leaf(text, value, `${usable} (${percent}%), need ${need}%`, summary);
}

/**
 * One evaluation of a rule set against one health state: what its decisions need to build their reasons
 * and explanations when first asked. It keeps the rule set and the state it was given (see
 * {@link evaluate}). A reason alone is made without the explanation tree (from the summaries of the
 * proxy terms and the values of the sub-terms; for a parsed rule set straight from its compact code,
 * without building its objects); an explanation is made with its reason. Both are kept per rule, so the
 * decisions of a rule's routes share them. Sub-terms are gathered on scratch stacks and
 * copied out at their exact size, a term's text is made from its sub-terms' texts, and the explanation of
 * each distinct proxy term and each count detail (`2 of 3 hold`) is made once.
 */
class Evaluation {
  /** The summary of the term last passed to {@link explain}. */
  private summary = '';
  private reasons: (string | undefined)[] | undefined;
  private explanations: (Explanation | undefined)[] | undefined;
  /**
   * Explained proxy terms. Keyed by object: a parse makes one object per distinct term (a rule set from
   * elsewhere may repeat a term in several objects, which are then explained once each).
   */
  private readonly leaves = new Map<ProxyTerm, Leaf>();
  /** Summaries of proxy terms, for reasons asked without their explanation. */
  private readonly proxySummaries = new Map<ProxyTerm, string>();
  private readonly details = new Map<number, string>();
  private readonly children = new ScratchStack<Explanation>();
  private readonly summaries = new ScratchStack<string>();
  private readonly values = new ScratchStack<boolean>();

  constructor(
    /** Its rules are read on the first explanation (a parsed rule set builds them then). */
    private readonly ruleSet: RuleSet,
    /** The compact form of a parsed rule set, from which reasons are read without building its rules. */
    private readonly program: RuleProgram | undefined,
    private readonly state: HealthState,
    /** Where to keep the texts of compound terms across evaluations, if anywhere. */
    private readonly texts: WeakMap<Expr, string> | undefined,
    /**
     * Whether every rule is decided (`evaluate`): reasons and explanations are then kept in arrays sized
     * for all rules; otherwise (`evaluateRules`) in arrays grown as they are read, so that a few rules'
     * reasons do not cost a slot for every rule.
     */
    private readonly dense = true,
  ) {}

  reasonOf(rule: number): string {
    const { program } = this;
    this.reasons ??= this.dense
      ? new Array<string | undefined>(program ? program.ruleCount : this.ruleSet.rules.length)
      : [];
    let reason = this.reasons[rule];
    if (reason === undefined) {
      reason = program
        ? this.codeReason(program, program.codeOf(rule), program.exprStart(rule), program.exprEnd(rule))
        : this.reason((this.ruleSet.rules[rule] as Rule).expr);
      this.reasons[rule] = reason;
    }
    return reason;
  }

  explanationOf(rule: number): Explanation {
    this.explanations ??= this.dense ? new Array<Explanation | undefined>(this.ruleSet.rules.length) : [];
    let explanation = this.explanations[rule];
    if (explanation === undefined) {
      explanation = this.explain((this.ruleSet.rules[rule] as Rule).expr);
      this.explanations[rule] = explanation;
      this.reasons ??= this.dense ? new Array<string | undefined>(this.ruleSet.rules.length) : [];
      this.reasons[rule] ??= this.summary;
    }
    return explanation;
  }

  private leaf(term: ProxyTerm): Leaf {
    let done = this.leaves.get(term);
    if (!done) {
      done = proxyLeaf(term, formatExpr(term), this.state);
      this.leaves.set(term, done);
    }
    return done;
  }

  /** The one-line summary of a term, the same as {@link explain} leaves in `summary`. */
  private reason(expr: Expr): string {
    switch (expr.type) {
      case 'proxy':
        return this.proxyReason(expr);
      case 'const':
        return `${formatExpr(expr)} (constant)`;
      case 'not':
        return `not(${this.reason(expr.arg)})`;
      case 'all':
      case 'any':
      case 'atleast': {
        const { summaries } = this;
        const base = summaries.size;
        let holding = 0;
        for (const arg of expr.args) if (holds(arg, this.state)) holding++;
        const count = expr.args.length;
        const need = expr.type === 'atleast' ? expr.n : expr.type === 'all' ? count : 1;
        const value = holding >= need;
        // Only the sub-terms the summary lists are summarized: the first MAX_LISTED with the node's value.
        let matching = 0;
        for (const arg of expr.args) {
          if (holds(arg, this.state) !== value) continue;
          if (matching++ < MAX_LISTED) summaries.push(this.reason(arg));
        }
        const listed = this.join(base, matching);
        summaries.size = base;
        return expr.type === 'atleast' ? `${this.detail(holding, count)} (need ${need}): ${listed}` : listed;
      }
    }
  }

  private proxyReason(term: ProxyTerm): string {
    let summary = this.leaves.get(term)?.summary ?? this.proxySummaries.get(term);
    if (summary === undefined) {
      summary = proxySummary(term, formatExpr(term), healthOf(term.side, term.name, this.state));
      this.proxySummaries.set(term, summary);
    }
    return summary;
  }

  /**
   * {@link reason} over the code of an expression in a parsed rule set (postfix: sub-terms come before
   * their aggregator), so that reasons need none of the rule set's objects. Every sub-term is summarized
   * here (a summary lists only those with its term's value), and its summary and value wait on the
   * scratch stacks for its aggregator.
   */
  private codeReason(program: RuleProgram, code: Int32Array, start: number, end: number): string {
    const { summaries, values } = this;
    const base = summaries.size;
    for (let i = start; i < end;) {
      const op = code[i];
      if (op === OP_PROXY) {
        const term = program.term(code[i + 1] ?? 0, code[i + 2] ?? 0);
        values.push(holds(term, this.state));
        summaries.push(this.proxyReason(term));
        i += 3;
      } else if (op === OP_TRUE || op === OP_FALSE) {
        values.push(op === OP_TRUE);
        summaries.push(op === OP_TRUE ? 'true (constant)' : 'false (constant)');
        i++;
      } else if (op === OP_NOT) {
        values.push(!values.pop());
        summaries.push(`not(${summaries.pop() ?? ''})`);
        i++;
      } else {
        const count = code[i + 1] ?? 0;
        const need = op === OP_ATLEAST ? (code[i + 2] ?? 0) : op === OP_ALL ? count : 1;
        const first = values.size - count;
        let holding = 0;
        for (let k = first; k < values.size; k++) if (values.at(k)) holding++;
        const value = holding >= need;
        let matching = 0;
        for (let k = first; k < values.size; k++) {
          if (values.at(k) !== value) continue;
          if (matching++ < MAX_LISTED) summaries.push(summaries.at(k) ?? '');
        }
        const top = summaries.size - Math.min(matching, MAX_LISTED);
        const listed = this.join(top, matching);
        summaries.size = first;
        values.size = first;
        values.push(value);
        summaries.push(
          op === OP_ATLEAST ? `${this.detail(holding, count)} (need ${need}): ${listed}` : listed,
        );
        i += op === OP_ATLEAST ? 3 : 2;
      }
    }
    const reason = summaries.pop() ?? '';
    summaries.size = base;
    values.clear();
    return reason;
  }

  private explain(expr: Expr): Explanation {
    switch (expr.type) {
      case 'proxy': {
        const done = this.leaf(expr);
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
        const { children: stack, summaries } = this;
        const base = stack.size;
        let holding = 0;
        for (const arg of expr.args) {
          const child = this.explain(arg);
          stack.push(child);
          summaries.push(this.summary);
          if (child.value) holding++;
        }
        const count = expr.args.length;
        const need = expr.type === 'atleast' ? expr.n : expr.type === 'all' ? count : 1;
        const value = holding >= need;
        const listed = this.list(base, value);
        const children = stack.popFrom(base);
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

  /** The summaries of the children from `base` up (on the scratch stacks) whose value is `value`. */
  private list(base: number, value: boolean): string {
    const { children, summaries } = this;
    let matching = 0;
    for (let i = base; i < children.size; i++) {
      if (children.at(i)?.value !== value) continue;
      if (matching++ < MAX_LISTED) summaries.push(summaries.at(i) ?? '');
    }
    const top = summaries.size - Math.min(matching, MAX_LISTED);
    const listed = this.join(top, matching);
    summaries.size = top;
    return listed;
  }

  /**
   * The summaries on the stack from `base` up (at most {@link MAX_LISTED} of `matching`), then a count of
   * the rest. Joined into one flat string: reasons are kept, and a string built with + is a tree of pieces.
   */
  private join(base: number, matching: number): string {
    const { summaries } = this;
    if (matching <= 1) return matching === 1 ? (summaries.at(base) ?? '') : '';
    const listed = Math.min(matching, MAX_LISTED);
    const parts = new Array<string>(matching > listed ? listed + 1 : listed);
    for (let i = 0; i < listed; i++) parts[i] = summaries.at(base + i) ?? '';
    if (matching > listed) parts[listed] = `and ${matching - listed} more`;
    return parts.join(', ');
  }
}

/**
 * A decision whose reason and explanation are made on first read. The private field is invisible to
 * spreads, JSON, structuredClone and deep equality; `toJSON` adds the lazy fields to the JSON.
 */
class LazyDecision implements Decision {
  declare readonly attributes?: RouteAttributes;
  readonly #evaluation: Evaluation;

  constructor(
    readonly table: string,
    readonly prefix: string,
    readonly family: Family,
    readonly advertise: boolean,
    readonly rule: number,
    attributes: RouteAttributes | undefined,
    evaluation: Evaluation,
  ) {
    if (attributes) this.attributes = attributes;
    this.#evaluation = evaluation;
  }

  get reason(): string {
    return this.#evaluation.reasonOf(this.rule);
  }

  get explanation(): Explanation {
    return this.#evaluation.explanationOf(this.rule);
  }

  toJSON(): Decision {
    const { table, prefix, family, advertise, rule, reason, explanation, attributes } = this;
    return attributes
      ? { table, prefix, family, advertise, rule, reason, explanation, attributes }
      : { table, prefix, family, advertise, rule, reason, explanation };
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
 * Evaluates every rule against a health state. Returns one decision per route, in rule-set order. Pure:
 * the same rule set and state always give the same decisions.
 *
 * `advertise` is decided here; each decision's `reason` and `explanation` are made when first read, from
 * the rule set and the state passed here, which are kept for that: neither may be changed afterwards (both
 * are read-only in their types; give a new state object for a new reading, as the agent and CLI do).
 */
export function evaluate(ruleSet: RuleSet, state: HealthState): Decision[] {
  // A parsed rule set is decided from its compact program, without building its objects.
  const program = programOf(ruleSet);
  const evaluation = new Evaluation(
    ruleSet,
    program,
    state,
    evaluatedBefore.has(ruleSet) ? termTexts : undefined,
  );
  evaluatedBefore.add(ruleSet);
  const decisions: Decision[] = [];
  if (program) {
    program.decide(state, (table, prefix, family, advertise, rule, attributes) => {
      decisions.push(new LazyDecision(table, prefix, family, advertise, rule, attributes, evaluation));
    });
    return decisions;
  }
  const { rules } = ruleSet;
  for (let rule = 0; rule < rules.length; rule++) {
    const { routes, expr, attributes } = rules[rule] as Rule;
    const advertise = holds(expr, state);
    for (const { table, prefix, family } of routes) {
      decisions.push(new LazyDecision(table, prefix, family, advertise, rule, attributes, evaluation));
    }
  }
  return decisions;
}

/**
 * The decisions of just the rules listed (indices into the rule set, as `Decision.rule`), in the order
 * listed, each rule's routes in order: each decision is exactly the one {@link evaluate} gives for that
 * route against the same state, its lazy `reason` and `explanation` included. With the rules that a
 * health change touches (`ruleDependencies(ruleSet).affected(healthChanges(before, after))`), this
 * re-decides a rule set at the cost of those rules alone. A rule index out of range is a `RangeError`.
 *
 * For a rule set made by `parse`, `validateRuleSet` or `unpackRuleSet` it reads only the listed rules'
 * compact code (the rule index, built once per rule set, finds them) and allocates only the decisions;
 * any other rule set is read from its `rules`. The same terms as {@link evaluate}: neither the rule set nor
 * the state may be changed afterwards.
 */
export function evaluateRules(ruleSet: RuleSet, state: HealthState, rules: readonly number[]): Decision[] {
  const program = programOf(ruleSet);
  const evaluation = new Evaluation(
    ruleSet,
    program,
    state,
    evaluatedBefore.has(ruleSet) ? termTexts : undefined,
    false,
  );
  evaluatedBefore.add(ruleSet);
  const decisions: Decision[] = [];
  if (program) {
    program.decideRules(state, rules, (table, prefix, family, advertise, rule, attributes) => {
      decisions.push(new LazyDecision(table, prefix, family, advertise, rule, attributes, evaluation));
    });
    return decisions;
  }
  const all = ruleSet.rules;
  for (let k = 0; k < rules.length; k++) {
    const rule = rules[k] as number;
    const found = Number.isInteger(rule) && rule >= 0 ? all[rule] : undefined;
    if (!found) throw new RangeError(`no rule ${rule} in a rule set of ${all.length} rules`);
    const { routes, expr, attributes } = found;
    const advertise = holds(expr, state);
    for (const { table, prefix, family } of routes) {
      decisions.push(new LazyDecision(table, prefix, family, advertise, rule, attributes, evaluation));
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
