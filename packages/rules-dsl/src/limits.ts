/**
 * How much `parse` reads and reports: each bounds the work and memory of a parse, and of what is done
 * with its result (evaluating it, explaining it, printing its diagnostics). A rule set over a limit is
 * refused with a diagnostic; the parser stops reading where it crosses a rule-set limit (`maxBytes`,
 * `maxRules`, `maxRoutes`), so a huge input costs no more than one at the limit.
 */
export interface ParseLimits {
  /** The largest text read, in UTF-8 bytes; a larger one is refused unread (`RULE_SET_TOO_LARGE`). */
  readonly maxBytes: number;
  /** Rules in the rule set, valid or not (`RULE_SET_TOO_MANY_RULES`). */
  readonly maxRules: number;
  /** Routes (networks) of all rules together (`RULE_SET_TOO_MANY_ROUTES`). */
  readonly maxRoutes: number;
  /** Deepest nesting of aggregators (`RULE_TOO_DEEP`); at most {@link DEPTH_CEILING}. */
  readonly maxDepth: number;
  /** Terms of one rule's expression, aggregators and constants included (`RULE_TOO_MANY_TERMS`). */
  readonly maxTermsPerRule: number;
  /**
   * Errors listed, and separately warnings listed; those past it are counted in one last
   * `RULE_TOO_MANY_DIAGNOSTICS` warning (whose `omitted` says how many).
   */
  readonly maxDiagnostics: number;
}

/**
 * The limits of a parse unless its options say otherwise. Chosen so that a large real fleet fits with
 * room to spare (the README's benchmark file of 10,000 rules is about 490 KB, with 4 to 6 terms a rule),
 * while the largest input accepted still parses in well under a second.
 */
export const DEFAULT_LIMITS: ParseLimits = Object.freeze({
  maxBytes: 4 * 1024 * 1024,
  maxRules: 10_000,
  maxRoutes: 20_000,
  maxDepth: 32,
  maxTermsPerRule: 1_000,
  maxDiagnostics: 100,
});

/**
 * The deepest nesting any parse accepts, whatever its `maxDepth`: the parser, `evaluate`, `format` and the
 * explanations walk an expression by recursion, which this keeps far from the end of the stack.
 */
export const DEPTH_CEILING = 256;

/** The limits of a parse: the defaults, overridden by the options given (a NaN is the default too). */
export function limitsOf(options: Partial<ParseLimits>): ParseLimits {
  const pick = (key: keyof ParseLimits): number => {
    const value = options[key];
    return value === undefined || Number.isNaN(value) ? DEFAULT_LIMITS[key] : Math.max(0, Math.floor(value));
  };
  return {
    maxBytes: pick('maxBytes'),
    maxRules: pick('maxRules'),
    maxRoutes: pick('maxRoutes'),
    maxDepth: Math.min(DEPTH_CEILING, pick('maxDepth')),
    maxTermsPerRule: pick('maxTermsPerRule'),
    maxDiagnostics: pick('maxDiagnostics'),
  };
}
