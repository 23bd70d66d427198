export type {
  ConstTerm,
  Expr,
  Family,
  ListTerm,
  NotTerm,
  ProxyTerm,
  QuorumTerm,
  Route,
  RouteAttributes,
  Rule,
  RuleSet,
  Threshold,
} from './ast.js';
export { DEFAULT_TABLE } from './ast.js';
export type { Diagnostic, DiagnosticCode } from './diagnostics.js';
export { DIAGNOSTIC_CODES, countDiagnostics, formatDiagnostic, formatDiagnostics } from './diagnostics.js';
export type { Decision, Explanation } from './evaluate.js';
export { evaluate, evaluateRules, renderExplanation } from './evaluate.js';
export { format, formatAttributes, formatExpr, formatRoute, formatRule } from './format.js';
export type { FormatSourceResult } from './format-source.js';
export { formatSource } from './format-source.js';
export { ruleSetHash } from './hash.js';
export type { BackendHealth, FrontendHealth, HealthState } from './health.js';
export type { HealthChanges, RuleDependencies } from './incremental.js';
export { healthChanges, ruleDependencies } from './incremental.js';
export type { ParsedPrefix, PrefixError } from './ip.js';
export { parsePrefix, prefixContains } from './ip.js';
export type { ParseLimits } from './limits.js';
export { DEFAULT_LIMITS, DEPTH_CEILING } from './limits.js';
export type { ParseOptions, ParseResult, RuleLocation, SourceItem } from './parser.js';
export { parse } from './parser.js';
export { ExprSchema, HealthStateSchema, RuleSetSchema } from './schema.js';
export type { RuleRoute } from './rule-program.js';
export type { PackedRuleSet } from './transfer.js';
export { packRuleSet, ruleSetRoutes, unpackRuleSet } from './transfer.js';
export type { ValidateResult } from './validate.js';
export { validateRuleSet } from './validate.js';
