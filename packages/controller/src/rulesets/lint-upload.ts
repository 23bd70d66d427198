import {
  signRuleSet,
  WIRE_VERSION,
  type DiagnosticView,
  type RuleSetRecord,
  type RuleSetTarget,
} from '@rhi/contracts';
import {
  countDiagnostics,
  formatDiagnostics,
  parse,
  ruleSetRoutes,
  type Diagnostic,
  type ParseLimits,
  type RuleSet,
} from '@rhi/rules-dsl';

/** At most this many diagnostics are listed in an answer; the rest are counted. */
export const MAX_LISTED_DIAGNOSTICS = 200;

export type { DiagnosticView } from '@rhi/contracts';

/** A rule-set text judged for upload. */
export type LintOutcome =
  | {
      readonly ok: true;
      readonly ruleSet: RuleSet;
      readonly rules: number;
      readonly routes: number;
      readonly warnings: readonly DiagnosticView[];
    }
  | {
      readonly ok: false;
      /** RULESET_INVALID: errors in the text; RULESET_EMPTY: no rule (it would withdraw every route). */
      readonly code: 'RULESET_INVALID' | 'RULESET_EMPTY';
      readonly message: string;
      readonly errors: number;
      readonly warnings: number;
      /** The first {@link MAX_LISTED_DIAGNOSTICS}, errors first. */
      readonly diagnostics: readonly DiagnosticView[];
      /** The diagnostics as `rhi-rules lint` prints them (caret under each place). */
      readonly text: string;
    };

/** A diagnostic as the API and `rhictl` show it. */
export const diagnosticView = (d: Diagnostic): DiagnosticView => ({
  severity: d.severity,
  code: d.code,
  message: d.message,
  file: d.file,
  line: d.line,
  column: d.column,
  length: d.length,
});

/**
 * Lints a rule-set text as `rhi-rules lint` does, within `limits` (rules-dsl's defaults for those not
 * given): refused with every error and its place, or with RULESET_EMPTY when it holds no rule. Pure.
 */
export function lintUpload(source: string, file: string, limits: Partial<ParseLimits> = {}): LintOutcome {
  const result = parse(source, { ...limits, file });
  const { errors, warnings } = countDiagnostics(result.diagnostics);
  if (!result.ok) {
    const listed = [...result.diagnostics]
      .sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1))
      .slice(0, MAX_LISTED_DIAGNOSTICS);
    return {
      ok: false,
      code: 'RULESET_INVALID',
      message: `${file}: ${errors} error${errors === 1 ? '' : 's'}${
        listed[0] ? `, the first at ${listed[0].line}:${listed[0].column}: ${listed[0].message}` : ''
      }`,
      errors,
      warnings,
      diagnostics: listed.map(diagnosticView),
      text: formatDiagnostics(listed),
    };
  }
  if (result.ruleSet.rules.length === 0)
    return {
      ok: false,
      code: 'RULESET_EMPTY',
      message: `${file}: no rule: a rule set without rules would withdraw every route of every node it reaches`,
      errors: 0,
      warnings,
      diagnostics: result.diagnostics.slice(0, MAX_LISTED_DIAGNOSTICS).map(diagnosticView),
      text: formatDiagnostics(result.diagnostics.slice(0, MAX_LISTED_DIAGNOSTICS)),
    };
  return {
    ok: true,
    ruleSet: result.ruleSet,
    rules: result.ruleSet.rules.length,
    routes: ruleSetRoutes(result.ruleSet).length,
    warnings: result.diagnostics.slice(0, MAX_LISTED_DIAGNOSTICS).map(diagnosticView),
  };
}

/** What is stored with a rule set besides its rules. */
export interface RecordMeta {
  readonly source: string;
  readonly author: string;
  readonly message: string;
  readonly target: RuleSetTarget;
  readonly copyOf?: number;
}

/** The record of a linted rule set at `serial`, signed with the key. Pure but for the signature's clock. */
export function buildRecord(
  lint: Extract<LintOutcome, { ok: true }>,
  meta: RecordMeta,
  serial: number,
  key: { readonly keyId: string; readonly privateKeyPem: string },
  now: Date,
): RuleSetRecord {
  const signed = signRuleSet(lint.ruleSet, {
    privateKeyPem: key.privateKeyPem,
    keyId: key.keyId,
    serial,
    issuedAt: now,
  });
  return {
    schema: `${WIRE_VERSION}.ruleset.record`,
    serial,
    hash: signed.hash,
    author: meta.author,
    message: meta.message,
    createdAt: now.toISOString(),
    target: meta.target,
    rules: lint.rules,
    routes: lint.routes,
    bytes: Buffer.byteLength(meta.source),
    keyId: key.keyId,
    copyOf: meta.copyOf ?? null,
    source: meta.source,
    signed,
  };
}
