/**
 * Stable diagnostic codes. Each is documented in the package README; never renumber or reuse one.
 * Errors make a file invalid; warnings do not.
 */
export const DIAGNOSTIC_CODES = {
  RULE_SYNTAX: 'the line does not follow the rule grammar',
  RULE_BAD_ADDRESS: 'a network is not a valid IPv4 or IPv6 address',
  RULE_BAD_MASK: 'a prefix length is not a number in range for its family',
  RULE_HOST_BITS: 'a CIDR has host bits set (the network address is suggested)',
  RULE_BAD_TABLE: 'a route table name breaks BIRD symbol rules or is a BIRD keyword',
  RULE_DUPLICATE_ROUTE: 'the same prefix in the same table is controlled by two rules',
  RULE_UNKNOWN_AGGREGATOR: 'an aggregator name is unknown (the nearest name is suggested)',
  RULE_EMPTY_ARGS: 'an aggregator that needs arguments has none',
  RULE_ARITY: 'an aggregator has the wrong number of arguments',
  RULE_BAD_QUORUM: 'the count of atleast() is not an integer between 1 and its number of terms',
  RULE_UNKNOWN_PROXY_KIND: 'a proxy reference has a prefix other than b: or f:',
  RULE_BAD_PROXY_NAME: 'a proxy name is empty or has characters HAProxy does not allow',
  RULE_BAD_THRESHOLD: 'a capacity threshold is malformed, out of range, or on a frontend',
  RULE_BAD_ATTRIBUTE: 'a route attribute in the with clause is unknown, malformed, out of range or repeated',
  RULE_TOO_DEEP: 'expressions are nested deeper than the parser allows',
  RULE_TOO_MANY_TERMS: 'a rule has more terms than the parser allows (maxTermsPerRule)',
  RULE_SET_TOO_LARGE: 'the rule set text is larger than the parser reads (maxBytes); none of it is read',
  RULE_SET_TOO_MANY_RULES:
    'the rule set has more rules than the parser allows (maxRules); the rest is not read',
  RULE_SET_TOO_MANY_ROUTES:
    'the rule set has more routes than the parser allows (maxRoutes); the rest is not read',
  RULE_DEFAULT_ROUTE: 'warning: a rule advertises a default route (/0)',
  RULE_CONSTANT: 'warning: a rule uses true/false, which are meant for debugging',
  RULE_REPEATED_TERM: 'warning: the same term appears twice in one argument list',
  RULE_TOO_MANY_DIAGNOSTICS:
    'warning: more errors or warnings than the parser reports (maxDiagnostics); the rest are only counted',
} as const;

/** A stable diagnostic code, e.g. `RULE_HOST_BITS`. */
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** One finding about a rules file, located at a 1-based line and column. */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: DiagnosticCode;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Length of the offending text, for the caret underline (at least 1). */
  readonly length: number;
  /**
   * The whole source line the diagnostic points into, without its newline. {@link formatDiagnostic} shows
   * only a window of it around the column when it is long.
   */
  readonly lineText: string;
  /**
   * Only on the last diagnostic of a capped list (code `RULE_TOO_MANY_DIAGNOSTICS`): how many errors and
   * warnings were found but left out. {@link countDiagnostics} and {@link formatDiagnostics} add them in.
   */
  readonly omitted?: { readonly errors: number; readonly warnings: number };
}

/** Lines longer than this are shown as a window of {@link WINDOW} characters around the column. */
const LONGEST_SHOWN = 240;
const WINDOW = 200;
/** Characters of a clipped line shown before the column, when there are that many. */
const BEFORE = 60;

/**
 * Renders a diagnostic the way compilers do:
 * `file:line:column: error CODE: message`, then the line and a caret under the column.
 */
export function formatDiagnostic(d: Diagnostic): string {
  const gutter = String(d.line);
  const pad = ' '.repeat(gutter.length);
  const { lineText } = d;
  // A long line (a generated file can hold a whole rule set on one) is cut to a window around the column,
  // so that what is printed per diagnostic stays small whatever the line.
  let from = 0;
  let to = lineText.length;
  if (to > LONGEST_SHOWN) {
    from = Math.max(0, Math.min(d.column - 1 - BEFORE, lineText.length - WINDOW));
    to = Math.min(lineText.length, from + WINDOW);
  }
  const head = from > 0 ? '…' : '';
  const shown = `${head}${lineText.slice(from, to).replace(/\t/g, ' ')}${to < lineText.length ? '…' : ''}`;
  const caretAt = d.column - 1 - from + head.length;
  const caretLength = Math.max(1, Math.min(d.length, to - d.column + 1));
  return [
    `${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`,
    ` ${gutter} | ${shown}`,
    ` ${pad} | ${' '.repeat(caretAt)}^${'~'.repeat(caretLength - 1)}`,
  ].join('\n');
}

/**
 * How many errors and warnings `diagnostics` stand for: those listed, plus those a capped list left out
 * (the `RULE_TOO_MANY_DIAGNOSTICS` note that says so is not counted itself).
 */
export function countDiagnostics(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const d of diagnostics) {
    if (d.omitted) {
      errors += d.omitted.errors;
      warnings += d.omitted.warnings;
    } else if (d.severity === 'error') errors++;
    else warnings++;
  }
  return { errors, warnings };
}

/**
 * Renders all diagnostics, one block each, followed by a count line such as `2 errors, 1 warning` (counting
 * those a capped list left out, see {@link countDiagnostics}).
 */
export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  const { errors, warnings } = countDiagnostics(diagnostics);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [
    ...diagnostics.map(formatDiagnostic),
    `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`,
  ].join('\n');
}
