import type { Expr, Family, ProxyTerm, Route, RouteAttributes, Rule, RuleSet } from './ast.js';
import type { HealthState } from './health.js';
import { healthOf, proxyHolds } from './proxy-health.js';
import { ScratchStack } from './scratch-stack.js';
import type { ProxyEntry } from './term-table.js';

/*
 * The code of one rule, in 32-bit integers:
 *   routeCount, (table, prefix, family) per route, exprLength, expression..., attributes
 * where table, prefix and attributes index the program's lists (attributes -1 for none), family is 0 for
 * IPv4 and 1 for IPv6, and the expression is in postfix order:
 *   PROXY entry threshold | TRUE | FALSE | NOT | ALL count | ANY count | ATLEAST count n
 * with threshold 0 for none, else `value * 2 + (percent ? 1 : 0) + 1`. A number too large for that (only in
 * a rule with errors, which is never committed, but whose terms a warning may print) goes into the
 * program's `numbers` instead, and the code holds a negative index to it (see `number()`).
 */
export const OP_PROXY = 1;
export const OP_TRUE = 2;
export const OP_FALSE = 3;
export const OP_NOT = 4;
export const OP_ALL = 5;
export const OP_ANY = 6;
export const OP_ATLEAST = 7;

/** The largest number written in the code itself. */
const LARGEST = 0x3fffffff;

/** Integers per chunk of code (16 KB). A rule longer than that gets a chunk of its own. */
const CHUNK = 4096;

/** Called by {@link RuleProgram.decide} for each route of each rule decided. */
type RouteCallback = (
  table: string,
  prefix: string,
  family: Family,
  advertise: boolean,
  rule: number,
  attributes: RouteAttributes | undefined,
) => void;

/**
 * A parsed rule set in compact form: the parser writes each valid rule as a few integers (in chunks of
 * typed arrays) instead of a tree of objects. `evaluate` decides routes straight from it, and the objects
 * of `ruleSet.rules` are built from it the first time something reads them.
 *
 * What this buys: a parse + evaluate that nobody asks to explain keeps almost nothing in V8's heap (the
 * prefix strings and the decisions), where the object tree of 10,000 rules was about 4 MB, which every
 * young-generation collection during the call copied and then promoted into fresh pages. On the
 * development VM that copying and its page faults were most of the time of a parse.
 */
export class RuleProgram {
  /** Table names, by index. */
  readonly tables: string[] = [];
  /** Canonical prefix texts, by index (a rule's routes in order). */
  readonly prefixes: string[] = [];
  readonly attributes: RouteAttributes[] = [];
  /** Proxy names (with the terms made for them so far), by index. */
  readonly entries: ProxyEntry[] = [];
  /** Numbers too large for the code, each once (they only occur in rules with errors). */
  private readonly numbers: number[] = [];
  /** Valid rules written so far. */
  ruleCount = 0;
  /** Full chunks of code, and how much of each is used. */
  private readonly chunks: Int32Array[] = [];
  private readonly used: number[] = [];
  /** The chunk being filled: committed rules, then the rule being written from {@link start} on. */
  private code = new Int32Array(CHUNK);
  private start = 0;
  /** Integers of the rule being written. */
  length = 0;
  /** Per rule: its chunk and where its code starts (built on first use). */
  private ruleIndex: Int32Array | undefined;
  /** The scratch stack of {@link decideRules}, kept so that deciding a few rules allocates nothing. */
  private scratch: ScratchStack<boolean> | undefined;

  /** Starts a rule (forgetting one that was not committed). */
  begin(): void {
    this.length = 0;
  }

  /** Appends an integer to the rule being written, which is written in place in the current chunk. */
  emit(value: number): void {
    if (this.start + this.length === this.code.length) this.spill();
    this.code[this.start + this.length++] = value;
  }

  /** Moves the rule being written to a new chunk, large enough for it to grow. */
  private spill(): void {
    const { code, start, length } = this;
    const next = new Int32Array(Math.max(CHUNK, 2 * length));
    for (let i = 0; i < length; i++) next[i] = code[start + i] ?? 0;
    if (start > 0) {
      this.chunks.push(code);
      this.used.push(start);
    }
    this.code = next;
    this.start = 0;
  }

  /** Appends a count: in the code itself when it fits, else as an index into {@link numbers}. */
  emitNumber(value: number): void {
    this.emit(
      Number.isInteger(value) && value >= 0 && value <= LARGEST ? value : -1 - this.numberIndex(value),
    );
  }

  /** Appends the threshold code of `>=value` or `>=value%`. */
  emitThreshold(value: number, percent: boolean): void {
    const bit = percent ? 1 : 0;
    this.emit(
      Number.isInteger(value) && value >= 0 && value <= LARGEST >> 1
        ? value * 2 + bit + 1
        : -1 - (2 * this.numberIndex(value) + bit),
    );
  }

  private numberIndex(value: number): number {
    const known = this.numbers.findIndex((n) => Object.is(n, value));
    if (known >= 0) return known;
    this.numbers.push(value);
    return this.numbers.length - 1;
  }

  /** The count that `emitNumber` wrote as `code`. */
  private number(code: number): number {
    return code >= 0 ? code : (this.numbers[-1 - code] ?? 0);
  }

  /** Overwrites the integer at `index` of the rule being written (a count known only later). */
  patch(index: number, value: number): void {
    this.code[this.start + index] = value;
  }

  /** The integer at `index` of the rule being written. */
  at(index: number): number {
    return this.code[this.start + index] ?? 0;
  }

  /** The expression whose code is `[start, end)` of the rule being written (for a diagnostic). */
  pendingExpr(start: number, end: number): Expr {
    return this.expr(this.code, this.start + start, this.start + end);
  }

  /** Adds the rule being written to the program. */
  commit(): void {
    this.start += this.length;
    this.length = 0;
    this.ruleCount++;
  }

  /**
   * Where the expression of a rule is: `[exprStart(rule), exprEnd(rule))` of `codeOf(rule)`, in
   * postfix order (see the layout above). For reading reasons straight from the code.
   */
  codeOf(rule: number): Int32Array {
    return this.chunk(this.index()[2 * rule] ?? 0);
  }

  exprStart(rule: number): number {
    const at = this.index()[2 * rule + 1] ?? 0;
    return at + 2 + 3 * (this.codeOf(rule)[at] ?? 0);
  }

  exprEnd(rule: number): number {
    const start = this.exprStart(rule);
    return start + (this.codeOf(rule)[start - 1] ?? 0);
  }

  /** The number of routes of a rule. */
  routeCount(rule: number): number {
    return this.codeOf(rule)[this.index()[2 * rule + 1] ?? 0] ?? 0;
  }

  private index(): Int32Array {
    if (this.ruleIndex) return this.ruleIndex;
    const index = new Int32Array(2 * this.ruleCount);
    let rule = 0;
    for (let c = 0; c <= this.chunks.length; c++) {
      const code = this.chunk(c);
      const end = this.usedOf(c);
      for (let at = 0; at < end; rule++) {
        const exprAt = at + 1 + 3 * (code[at] ?? 0);
        index[2 * rule] = c;
        index[2 * rule + 1] = at;
        at = exprAt + 2 + (code[exprAt] ?? 0);
      }
    }
    this.ruleIndex = index;
    return index;
  }

  /** The code of chunk `c` and how much of it holds rules (the current chunk comes last). */
  private chunk(c: number): Int32Array {
    return c < this.chunks.length ? (this.chunks[c] as Int32Array) : this.code;
  }

  private usedOf(c: number): number {
    return c < this.chunks.length ? (this.used[c] ?? 0) : this.start;
  }

  /**
   * Decides every rule against a health state: calls `route` for each route of each rule, in order, with
   * whether its rule holds. Allocates nothing but what `route` does.
   */
  decide(state: HealthState, route: RouteCallback): void {
    const values = new ScratchStack<boolean>();
    let rule = 0;
    for (let c = 0; c <= this.chunks.length; c++) {
      const code = this.chunk(c);
      const end = this.usedOf(c);
      for (let at = 0; at < end; rule++) at = this.decideAt(code, at, rule, state, values, route);
    }
  }

  /** Decides the rule whose code starts at `at`, calling `route` for each of its routes; returns where the next starts. */
  private decideAt(
    code: Int32Array,
    at: number,
    rule: number,
    state: HealthState,
    values: ScratchStack<boolean>,
    route: RouteCallback,
  ): number {
    const routes = at + 1;
    const exprAt = routes + 3 * (code[at] ?? 0);
    const exprEnd = exprAt + 1 + (code[exprAt] ?? 0);
    const advertise = this.holds(code, exprAt + 1, exprEnd, state, values);
    const attributes = code[exprEnd] ?? -1;
    for (let r = routes; r < exprAt; r += 3) {
      route(
        this.tables[code[r] ?? 0] as string,
        this.prefixes[code[r + 1] ?? 0] as string,
        code[r + 2] ? 'ipv6' : 'ipv4',
        advertise,
        rule,
        attributes < 0 ? undefined : this.attributes[attributes],
      );
    }
    return exprEnd + 1;
  }

  /**
   * {@link decide} for the rules listed (each an index below {@link ruleCount}, else a `RangeError`), in
   * the order listed: reads only their code, through the rule index.
   */
  decideRules(state: HealthState, rules: readonly number[], route: RouteCallback): void {
    const values = (this.scratch ??= new ScratchStack<boolean>());
    const index = this.index();
    for (let k = 0; k < rules.length; k++) {
      const rule = rules[k] as number;
      if (!(Number.isInteger(rule) && rule >= 0 && rule < this.ruleCount)) {
        throw new RangeError(`no rule ${rule} in a rule set of ${this.ruleCount} rules`);
      }
      this.decideAt(this.chunk(index[2 * rule] ?? 0), index[2 * rule + 1] ?? 0, rule, state, values, route);
    }
  }

  private holds(
    code: Int32Array,
    start: number,
    end: number,
    state: HealthState,
    values: ScratchStack<boolean>,
  ): boolean {
    values.clear();
    for (let i = start; i < end;) {
      switch (code[i]) {
        case OP_PROXY: {
          const entry = this.entries[code[i + 1] ?? 0] as ProxyEntry;
          const threshold = code[i + 2] ?? 0;
          const health = healthOf(entry.side, entry.name, state);
          values.push(
            proxyHolds(health, threshold === 0 ? undefined : (threshold - 1) % 2 === 1, (threshold - 1) >> 1),
          );
          i += 3;
          break;
        }
        case OP_TRUE:
        case OP_FALSE:
          values.push(code[i] === OP_TRUE);
          i++;
          break;
        case OP_NOT:
          values.push(!values.pop());
          i++;
          break;
        default: {
          const op = code[i];
          const count = code[i + 1] ?? 0;
          const need = op === OP_ATLEAST ? (code[i + 2] ?? 0) : op === OP_ALL ? count : 1;
          let holding = 0;
          for (let k = values.size - count; k < values.size; k++) if (values.at(k)) holding++;
          values.size -= count;
          values.push(holding >= need);
          i += op === OP_ATLEAST ? 3 : 2;
        }
      }
    }
    return values.pop() ?? false;
  }

  /** Every route of every rule, in order, with its rule's attributes; builds no expression. */
  routes(): RuleRoute[] {
    const out: RuleRoute[] = [];
    for (let c = 0; c <= this.chunks.length; c++) {
      const code = this.chunk(c);
      const end = this.usedOf(c);
      for (let at = 0; at < end;) {
        const exprAt = at + 1 + 3 * (code[at] ?? 0);
        const exprEnd = exprAt + 1 + (code[exprAt] ?? 0);
        const index = code[exprEnd] ?? -1;
        const attributes = index < 0 ? undefined : this.attributes[index];
        for (let r = at + 1; r < exprAt; r += 3) {
          const table = this.tables[code[r] ?? 0] as string;
          const prefix = this.prefixes[code[r + 1] ?? 0] as string;
          const family = code[r + 2] ? 'ipv6' : 'ipv4';
          out.push(attributes ? { table, prefix, family, attributes } : { table, prefix, family });
        }
        at = exprEnd + 1;
      }
    }
    return out;
  }

  /** The rules as objects: what `ruleSet.rules` of a parse holds. */
  rules(): Rule[] {
    const rules = new Array<Rule>(this.ruleCount);
    const exprs = new ScratchStack<Expr>();
    let rule = 0;
    for (let c = 0; c <= this.chunks.length; c++) {
      const code = this.chunk(c);
      const end = this.usedOf(c);
      for (let at = 0; at < end; rule++) {
        const count = code[at] ?? 0;
        const routes = new Array<Route>(count);
        for (let r = 0; r < count; r++) {
          const i = at + 1 + 3 * r;
          routes[r] = {
            table: this.tables[code[i] ?? 0] as string,
            prefix: this.prefixes[code[i + 1] ?? 0] as string,
            family: code[i + 2] ? 'ipv6' : 'ipv4',
          };
        }
        const exprAt = at + 1 + 3 * count;
        const exprEnd = exprAt + 1 + (code[exprAt] ?? 0);
        const expr = this.expr(code, exprAt + 1, exprEnd, exprs);
        const attributes = code[exprEnd] ?? -1;
        rules[rule] =
          attributes < 0 ? { routes, expr } : { routes, expr, attributes: this.attributes[attributes] };
        at = exprEnd + 1;
      }
    }
    return rules;
  }

  /** The expression whose code is `code[start, end)`. */
  expr(code: Int32Array, start: number, end: number, exprs = new ScratchStack<Expr>()): Expr {
    const base = exprs.size;
    for (let i = start; i < end;) {
      switch (code[i]) {
        case OP_PROXY:
          exprs.push(this.term(code[i + 1] ?? 0, code[i + 2] ?? 0));
          i += 3;
          break;
        case OP_TRUE:
        case OP_FALSE:
          exprs.push({ type: 'const', value: code[i] === OP_TRUE });
          i++;
          break;
        case OP_NOT:
          exprs.push({ type: 'not', arg: exprs.pop() as Expr });
          i++;
          break;
        case OP_ATLEAST: {
          const args = exprs.popFrom(exprs.size - (code[i + 1] ?? 0));
          exprs.push({ type: 'atleast', n: this.number(code[i + 2] ?? 0), args });
          i += 3;
          break;
        }
        default: {
          const type = code[i] === OP_ALL ? 'all' : 'any';
          const args = exprs.popFrom(exprs.size - (code[i + 1] ?? 0));
          exprs.push({ type, args });
          i += 2;
        }
      }
    }
    const expr = exprs.pop() as Expr;
    exprs.size = base;
    return expr;
  }

  /**
   * The program as plain data and typed arrays, for another thread (see `packRuleSet`): the code is
   * copied at its used length, so the program itself stays usable.
   */
  pack(): PackedProgram {
    const chunks: Int32Array<ArrayBuffer>[] = [];
    for (let c = 0; c <= this.chunks.length; c++) chunks.push(this.chunk(c).slice(0, this.usedOf(c)));
    return {
      ruleCount: this.ruleCount,
      tables: this.tables,
      prefixes: this.prefixes,
      attributes: this.attributes,
      proxies: this.entries.map((e) => ({ side: e.side, name: e.name })),
      numbers: this.numbers,
      chunks,
    };
  }

  /** The program that {@link pack} made `packed` of. */
  static unpack(packed: PackedProgram): RuleProgram {
    const program = new RuleProgram();
    // Loops, not push(...list): a spread of 20,000 arguments is near the engine's limit.
    for (const table of packed.tables) program.tables.push(table);
    for (const prefix of packed.prefixes) program.prefixes.push(prefix);
    for (const attributes of packed.attributes) program.attributes.push(attributes);
    packed.proxies.forEach((p, index) => program.entries.push({ index, side: p.side, name: p.name }));
    for (const n of packed.numbers) program.numbers.push(n);
    const chunks = packed.chunks.length ? packed.chunks : [new Int32Array(0)];
    for (const chunk of chunks.slice(0, -1)) {
      program.chunks.push(chunk);
      program.used.push(chunk.length);
    }
    const last = chunks[chunks.length - 1] as Int32Array<ArrayBuffer>;
    program.code = last;
    program.start = last.length;
    program.ruleCount = packed.ruleCount;
    return program;
  }

  /** The shared term object of a proxy entry and threshold code, made on first use. */
  term(index: number, threshold: number): ProxyTerm {
    const entry = this.entries[index] as ProxyEntry;
    const { side, name } = entry;
    if (threshold === 0) return (entry.plain ??= { type: 'proxy', side, name });
    const large = threshold < 0 ? -1 - threshold : -1;
    const kind = (large >= 0 ? large % 2 : (threshold - 1) % 2) === 1 ? 'percent' : 'count';
    const value = large >= 0 ? (this.numbers[large >> 1] ?? 0) : (threshold - 1) >> 1;
    const known = entry.thresholds;
    if (known) {
      for (const term of known)
        if (term.threshold?.kind === kind && term.threshold.value === value) return term;
    }
    const term: ProxyTerm = { type: 'proxy', side, name, threshold: { kind, value } };
    // Exact-size lists: a name has few thresholds, and a list grown by push() keeps room for 16.
    entry.thresholds = known ? known.concat(term) : [term];
    return term;
  }
}

/** A route of a rule set, with the attributes of the rule it belongs to. */
export interface RuleRoute extends Route {
  readonly attributes?: RouteAttributes;
}

/** A {@link RuleProgram} as data that `structuredClone` and `postMessage` keep (the chunks can be transferred). */
export interface PackedProgram {
  readonly ruleCount: number;
  readonly tables: readonly string[];
  readonly prefixes: readonly string[];
  readonly attributes: readonly RouteAttributes[];
  readonly proxies: readonly { readonly side: ProxyTerm['side']; readonly name: string }[];
  readonly numbers: readonly number[];
  /** The code, each chunk at its used length. */
  readonly chunks: readonly Int32Array<ArrayBuffer>[];
}

/** The programs of the rule sets made by `parse`, which `evaluate` runs instead of walking their objects. */
const programs = new WeakMap<RuleSet, RuleProgram>();

/** Records that `ruleSet` (made by a parse) is the program's. */
export function attachProgram(ruleSet: RuleSet, program: RuleProgram): void {
  programs.set(ruleSet, program);
}

/** The program of a rule set made by `parse`, or undefined for any other rule set. */
export function programOf(ruleSet: RuleSet): RuleProgram | undefined {
  return programs.get(ruleSet);
}
