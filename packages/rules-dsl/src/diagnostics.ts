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
  RULE_DEFAULT_ROUTE: 'warning: a rule advertises a default route (/0)',
  RULE_CONSTANT: 'warning: a rule uses true/false, which are meant for debugging',
  RULE_REPEATED_TERM: 'warning: the same term appears twice in one argument list',
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
  /** The whole source line the diagnostic points into, without its newline. */
  readonly lineText: string;
}

/**
 * Renders a diagnostic the way compilers do:
 * `file:line:column: error CODE: message`, then the line and a caret under the column.
 */
export function formatDiagnostic(d: Diagnostic): string {
  const gutter = String(d.line);
  const pad = ' '.repeat(gutter.length);
  const expanded = d.lineText.replace(/\t/g, ' ');
  const caretLength = Math.max(1, Math.min(d.length, expanded.length - d.column + 1));
  return [
    `${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`,
    ` ${gutter} | ${expanded}`,
    ` ${pad} | ${' '.repeat(d.column - 1)}^${'~'.repeat(caretLength - 1)}`,
  ].join('\n');
}

/** Renders all diagnostics, one block each, followed by a count line such as `2 errors, 1 warning`. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [
    ...diagnostics.map(formatDiagnostic),
    `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`,
  ].join('\n');
}
