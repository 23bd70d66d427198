import type { Rule, RuleSet } from './ast.js';
import { rememberHash, ruleSetHash } from './hash.js';
import type { PackedDependencies } from './incremental.js';
import { packDependencies, rememberDependencies } from './incremental.js';
import type { PackedProgram, RuleRoute } from './rule-program.js';
import { RuleProgram, attachProgram, programOf } from './rule-program.js';

/**
 * A rule set made by `parse` (or `validateRuleSet`) as data for another thread: its compact program (the
 * code in typed arrays, the names and prefixes in lists) and its hash. A rule set itself crosses threads
 * only as its objects (`structuredClone` reads `rules`, not the program), which cost as much on the
 * receiving side as the parse did; this one is rebuilt by {@link unpackRuleSet} in a few milliseconds
 * for 10,000 rules, and evaluated from its program as the parse's own is.
 */
export interface PackedRuleSet {
  readonly version: 1;
  /** {@link ruleSetHash} of the rule set. */
  readonly hash: string;
  readonly program: PackedProgram;
  /** Its `ruleDependencies` index, made where it was packed, so that the receiver need not walk the code. */
  readonly dependencies: PackedDependencies;
}

/**
 * Packs a rule set made by `parse` or `validateRuleSet` (any other has no program: a `TypeError`).
 * `transfer` lists the buffers that `postMessage` may move instead of copying; the rule set packed stays
 * usable either way (its code is copied).
 */
export function packRuleSet(ruleSet: RuleSet): { packed: PackedRuleSet; transfer: ArrayBuffer[] } {
  const program = programOf(ruleSet);
  if (!program) throw new TypeError('packRuleSet takes a rule set made by parse or validateRuleSet');
  const dependencies = packDependencies(program);
  const packed: PackedRuleSet = {
    version: 1,
    hash: ruleSetHash(ruleSet),
    program: program.pack(),
    dependencies,
  };
  const { routeStart, ruleStart, rules } = dependencies;
  return {
    packed,
    transfer: [
      ...packed.program.chunks.map((c) => c.buffer),
      routeStart.buffer,
      ruleStart.buffer,
      rules.buffer,
    ],
  };
}

/**
 * The rule set that {@link packRuleSet} packed: evaluated from its program, its `rules` built on first
 * read (as a parse's are), its hash known without formatting it. `packed` must come from `packRuleSet`
 * (of this version of the package): it is not checked.
 */
export function unpackRuleSet(packed: PackedRuleSet): RuleSet {
  const program = RuleProgram.unpack(packed.program);
  let rules: readonly Rule[] | undefined;
  const ruleSet: RuleSet = {
    version: 1,
    get rules() {
      return (rules ??= program.rules());
    },
  };
  attachProgram(ruleSet, program);
  rememberHash(ruleSet, packed.hash);
  rememberDependencies(ruleSet, program, packed.dependencies);
  return ruleSet;
}

/**
 * Every route of a rule set in rule order, each with its rule's attributes. For a rule set made by
 * `parse`, `validateRuleSet` or {@link unpackRuleSet} it is read from the program without building the
 * rules' expressions (20,000 small objects instead of the whole tree); any other is read from `rules`.
 */
export function ruleSetRoutes(ruleSet: RuleSet): RuleRoute[] {
  const program = programOf(ruleSet);
  if (program) return program.routes();
  return ruleSet.rules.flatMap((r) =>
    r.routes.map((route) => (r.attributes ? { ...route, attributes: r.attributes } : route)),
  );
}
