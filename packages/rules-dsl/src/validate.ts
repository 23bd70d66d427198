import { isDeepStrictEqual } from 'node:util';
import type { RuleSet } from './ast.js';
import type { Diagnostic } from './diagnostics.js';
import { format } from './format.js';
import type { ParseLimits } from './limits.js';
import { parse } from './parser.js';
import { RuleSetSchema } from './schema.js';

/** What {@link validateRuleSet} returns. */
export type ValidateResult =
  | { readonly ok: true; readonly ruleSet: RuleSet; readonly diagnostics: readonly Diagnostic[] }
  | { readonly ok: false; readonly issues: readonly string[]; readonly diagnostics: readonly Diagnostic[] };

/**
 * Checks a compiled rule set that arrived from outside (JSON over the wire): its shape with zod, then its
 * meaning by re-parsing its canonical text (bad prefixes, host bits, duplicates, table names, quorum
 * counts), so that a rule set accepted here is exactly one the parser could have produced. The re-parse
 * applies the parse limits (the defaults, or `limits`) to the canonical text.
 */
export function validateRuleSet(
  value: unknown,
  file = '<rule set>',
  limits: Partial<ParseLimits> = {},
): ValidateResult {
  const shape = RuleSetSchema.safeParse(value);
  if (!shape.success) {
    const issues = shape.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { ok: false, issues, diagnostics: [] };
  }
  const text = format(shape.data);
  const reparsed = parse(text, { ...limits, file });
  if (!reparsed.ok) {
    const issues = reparsed.diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => `rules.${d.line - 1}: ${d.code}: ${d.message}`);
    return { ok: false, issues, diagnostics: reparsed.diagnostics };
  }
  // Comparing values, not texts: a field can hide syntax that re-parses into another rule set (a table or a
  // second route inside a prefix, a newline, a family that does not match its prefix).
  if (!isDeepStrictEqual(reparsed.ruleSet, shape.data)) {
    return {
      ok: false,
      issues: ['rule set is not what its canonical text parses to (e.g. a prefix not written canonically)'],
      diagnostics: [],
    };
  }
  return { ok: true, ruleSet: reparsed.ruleSet, diagnostics: reparsed.diagnostics };
}
