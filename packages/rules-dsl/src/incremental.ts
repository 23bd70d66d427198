import type { Expr, RuleSet } from './ast.js';
import type { BackendHealth, FrontendHealth, HealthState } from './health.js';
import { OP_ATLEAST, OP_PROXY, OP_TRUE, OP_FALSE, OP_NOT, programOf } from './rule-program.js';
import type { RuleProgram } from './rule-program.js';

/** The proxies whose health differs between two states (see {@link healthChanges}). */
export interface HealthChanges {
  readonly frontends: readonly string[];
  readonly backends: readonly string[];
}

/**
 * Which rules name which proxies, for re-deciding only the rules a health change touches:
 * `evaluateRules(ruleSet, state, deps.affected(healthChanges(before, state)))`.
 */
export interface RuleDependencies {
  readonly ruleCount: number;
  /**
   * `routeStart[r]` = index in `evaluate()`'s output (and `ruleSetRoutes()`) of rule r's first route;
   * `routeStart[ruleCount]` = total routes.
   */
  readonly routeStart: Int32Array;
  /** The rules (ascending, no duplicates) naming backend `name`, with or without a threshold; empty when none. */
  backend(name: string): readonly number[];
  /** The rules (ascending, no duplicates) naming frontend `name`; empty when none. */
  frontend(name: string): readonly number[];
  /**
   * The rules (ascending, no duplicates) naming any of these proxies: what a {@link healthChanges} result
   * touches. A new array, the caller's to keep; names no rule mentions are ignored.
   */
  affected(changes: {
    readonly frontends: readonly string[];
    readonly backends: readonly string[];
  }): number[];
}

const NONE: readonly string[] = Object.freeze([]);
const NO_RULES: readonly number[] = Object.freeze([]);
const UNCHANGED: HealthChanges = Object.freeze({ frontends: NONE, backends: NONE });

function lookup<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/**
 * Whether two healths read the same to evaluation: a verdict and its summary read `up`, `serversUp` and
 * `serversTotal`; an explanation also reads `reason`, and the server counts of a frontend too when they
 * are there (a state from JSON may carry them).
 */
function sameHealth(
  a: FrontendHealth | BackendHealth | undefined,
  b: FrontendHealth | BackendHealth | undefined,
): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const x = a as BackendHealth;
  const y = b as BackendHealth;
  return (
    x.up === y.up && x.reason === y.reason && x.serversUp === y.serversUp && x.serversTotal === y.serversTotal
  );
}

/** The names of one side whose health differs, or {@link NONE}; an array is made at the first one. */
function changed<T extends FrontendHealth>(
  before: Readonly<Record<string, T>>,
  after: Readonly<Record<string, T>>,
): readonly string[] {
  if (before === after) return NONE;
  let names: string[] | undefined;
  for (const name in after) {
    if (!Object.hasOwn(after, name)) continue;
    if (!sameHealth(lookup(before, name), after[name])) (names ??= []).push(name);
  }
  for (const name in before) {
    if (!Object.hasOwn(before, name) || before[name] === undefined) continue;
    if (lookup(after, name) === undefined) (names ??= []).push(name);
  }
  return names ?? NONE;
}

/**
 * The proxies whose health differs between two states in anything evaluation reads (`up`, `reason`,
 * `serversUp`, `serversTotal`), a proxy known to one state and not the other included (it is "unknown"
 * there): for every rule that names none of them, {@link evaluate} gives the same decisions, reasons and
 * explanations against both states. Names in the order of `after`, then those only `before` knows.
 *
 * Costs one look-up per proxy of each state; a side whose table is the same object in both is skipped.
 * When nothing changed it returns a shared, frozen empty result (and allocates nothing else of its own);
 * a side without changes is a shared frozen empty array.
 */
export function healthChanges(before: HealthState, after: HealthState): HealthChanges {
  if (before === after) return UNCHANGED;
  const frontends = changed(before.frontends, after.frontends);
  const backends = changed(before.backends, after.backends);
  return frontends === NONE && backends === NONE ? UNCHANGED : { frontends, backends };
}

/**
 * A dependency index as flat arrays, to be made on one thread and used on another: per proxy entry of
 * the program (`proxies[e]`), its rules are `rules[ruleStart[e]]` up to `rules[ruleStart[e + 1]]`.
 */
export interface PackedDependencies {
  readonly routeStart: Int32Array<ArrayBuffer>;
  readonly ruleStart: Int32Array<ArrayBuffer>;
  readonly rules: Int32Array<ArrayBuffer>;
}

type ProxySide = 'frontend' | 'backend';

class Dependencies implements RuleDependencies {
  /** One bit per rule, for merging several proxies' rules; all zero between calls. */
  private bits: Uint32Array | undefined;
  /** Per proxy entry, its rules as an array, made on first use. */
  private readonly lists: (readonly number[] | undefined)[];
  private readonly backends = new Map<string, number>();
  private readonly frontends = new Map<string, number>();

  readonly ruleCount: number;
  readonly routeStart: Int32Array;

  constructor(
    private readonly packed: PackedDependencies,
    proxies: readonly { readonly side: ProxySide; readonly name: string }[],
  ) {
    this.ruleCount = packed.routeStart.length - 1;
    this.routeStart = packed.routeStart;
    this.lists = new Array<readonly number[] | undefined>(proxies.length);
    const { ruleStart } = packed;
    proxies.forEach((p, entry) => {
      if ((ruleStart[entry + 1] as number) > (ruleStart[entry] as number))
        (p.side === 'backend' ? this.backends : this.frontends).set(p.name, entry);
    });
  }

  backend(name: string): readonly number[] {
    return this.list(this.backends.get(name));
  }

  frontend(name: string): readonly number[] {
    return this.list(this.frontends.get(name));
  }

  private list(entry: number | undefined): readonly number[] {
    if (entry === undefined) return NO_RULES;
    let list = this.lists[entry];
    if (list === undefined) {
      const { ruleStart, rules } = this.packed;
      list = Object.freeze(Array.from(rules.subarray(ruleStart[entry], ruleStart[entry + 1])));
      this.lists[entry] = list;
    }
    return list;
  }

  affected(changes: {
    readonly frontends: readonly string[];
    readonly backends: readonly string[];
  }): number[] {
    let only: readonly number[] = NO_RULES;
    let lists = 0;
    for (const name of changes.backends) {
      const rules = this.backend(name);
      if (rules.length === 0 || rules === only) continue;
      only = rules;
      lists++;
    }
    for (const name of changes.frontends) {
      const rules = this.frontend(name);
      if (rules.length === 0 || rules === only) continue;
      only = rules;
      lists++;
    }
    if (lists <= 1) return only.slice();
    // Several lists: set a bit per rule, then read the bits back in order (a word per 32 rules between
    // the lowest and highest rule met), clearing them for the next call.
    const bits = (this.bits ??= new Uint32Array((this.ruleCount + 31) >>> 5));
    let low = bits.length;
    let high = 0;
    const mark = (rules: readonly number[]) => {
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i] as number;
        bits[rule >>> 5] = (bits[rule >>> 5] as number) | (1 << (rule & 31));
      }
      const first = (rules[0] as number) >>> 5;
      const last = (rules[rules.length - 1] as number) >>> 5;
      if (first < low) low = first;
      if (last > high) high = last;
    };
    for (const name of changes.backends) mark(this.backend(name));
    for (const name of changes.frontends) mark(this.frontend(name));
    const out: number[] = [];
    for (let w = low; w <= high; w++) {
      let word = bits[w] as number;
      if (word === 0) continue;
      bits[w] = 0;
      while (word !== 0) {
        const bit = 31 - Math.clz32(word & -word);
        out.push(w * 32 + bit);
        word &= word - 1;
      }
    }
    return out;
  }
}

/** Flat lists from per-entry counts: `ruleStart` the running sums, `rules` sized to hold them all. */
function flatLists(counts: Int32Array): {
  ruleStart: Int32Array<ArrayBuffer>;
  rules: Int32Array<ArrayBuffer>;
} {
  const ruleStart = new Int32Array(counts.length + 1);
  for (let e = 0; e < counts.length; e++) ruleStart[e + 1] = (ruleStart[e] as number) + (counts[e] as number);
  return { ruleStart, rules: new Int32Array(ruleStart[counts.length] as number) };
}

/** The dependency index of a program as flat arrays: two walks of its code, the second filling the lists. */
export function packDependencies(program: RuleProgram): PackedDependencies {
  const { ruleCount, entries } = program;
  const routeStart = new Int32Array(ruleCount + 1);
  for (let rule = 0; rule < ruleCount; rule++) {
    routeStart[rule + 1] = (routeStart[rule] as number) + program.routeCount(rule);
  }
  // Per proxy entry: how many rules name it (first walk), then its place in the list (second walk).
  const counts = new Int32Array(entries.length);
  const last = new Int32Array(entries.length);
  const visit = (each: (entry: number, rule: number) => void) => {
    last.fill(-1);
    for (let rule = 0; rule < ruleCount; rule++) {
      const code = program.codeOf(rule);
      const end = program.exprEnd(rule);
      for (let i = program.exprStart(rule); i < end;) {
        const op = code[i];
        if (op === OP_PROXY) {
          const entry = code[i + 1] ?? 0;
          if (last[entry] !== rule) {
            last[entry] = rule;
            each(entry, rule);
          }
          i += 3;
        } else if (op === OP_TRUE || op === OP_FALSE || op === OP_NOT) i++;
        else i += op === OP_ATLEAST ? 3 : 2;
      }
    }
  };
  visit((entry) => (counts[entry] = (counts[entry] as number) + 1));
  const { ruleStart, rules } = flatLists(counts);
  const at = ruleStart.slice(0, entries.length);
  visit((entry, rule) => {
    rules[at[entry] as number] = rule;
    at[entry] = (at[entry] as number) + 1;
  });
  return { routeStart, ruleStart, rules };
}

function fromRules(ruleSet: RuleSet): Dependencies {
  const { rules } = ruleSet;
  const routeStart = new Int32Array(rules.length + 1);
  const entries = new Map<
    string,
    { readonly side: ProxySide; readonly name: string; readonly rules: number[] }
  >();
  const stack: Expr[] = [];
  for (let rule = 0; rule < rules.length; rule++) {
    const { routes, expr } = rules[rule] as RuleSet['rules'][number];
    routeStart[rule + 1] = (routeStart[rule] as number) + routes.length;
    stack.push(expr);
    for (let e = stack.pop(); e !== undefined; e = stack.pop()) {
      switch (e.type) {
        case 'proxy': {
          const key = `${e.side} ${e.name}`;
          let entry = entries.get(key);
          if (!entry) entries.set(key, (entry = { side: e.side, name: e.name, rules: [] }));
          if (entry.rules[entry.rules.length - 1] !== rule) entry.rules.push(rule);
          break;
        }
        case 'not':
          stack.push(e.arg);
          break;
        case 'all':
        case 'any':
        case 'atleast':
          for (const arg of e.args) stack.push(arg);
          break;
        case 'const':
          break;
      }
    }
  }
  const proxies = [...entries.values()];
  const { ruleStart, rules: flat } = flatLists(Int32Array.from(proxies, (p) => p.rules.length));
  proxies.forEach((p, e) => flat.set(p.rules, ruleStart[e]));
  return new Dependencies({ routeStart, ruleStart, rules: flat }, proxies);
}

const dependencies = new WeakMap<RuleSet, RuleDependencies>();

/**
 * The dependency index of a rule set: which rules name each backend and frontend, and where each rule's
 * routes start among the decisions. Made once per rule set (and kept while it lives): for a rule set made
 * by `parse`, `validateRuleSet` or `unpackRuleSet` from its compact code, without building
 * `ruleSet.rules`; for any other from its rules, which must not change afterwards.
 */
export function ruleDependencies(ruleSet: RuleSet): RuleDependencies {
  let known = dependencies.get(ruleSet);
  if (!known) {
    const program = programOf(ruleSet);
    known = program ? new Dependencies(packDependencies(program), program.entries) : fromRules(ruleSet);
    dependencies.set(ruleSet, known);
  }
  return known;
}

/**
 * Records the dependency index that {@link packDependencies} made of `program` (on another thread) as
 * `ruleSet`'s, so that {@link ruleDependencies} does not walk the program again.
 */
export function rememberDependencies(
  ruleSet: RuleSet,
  program: RuleProgram,
  packed: PackedDependencies,
): void {
  dependencies.set(ruleSet, new Dependencies(packed, program.entries));
}
