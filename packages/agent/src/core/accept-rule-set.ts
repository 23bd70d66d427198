import type { KeyObject } from 'node:crypto';
import type { RuleSetRejection } from '@rhi/contracts';
import { verifySignedRuleSet } from '@rhi/contracts';
import type { HealthState, RuleLocation, RuleSet } from '@rhi/rules-dsl';
import { formatDiagnostic, parse, ruleSetHash } from '@rhi/rules-dsl';
import type { Allowlist } from './allowlist.js';
import { proxyNames, unknownProxies } from './proxy-names.js';

/** The rule set in force, as far as acceptance is concerned. */
export interface CurrentRuleSet {
  readonly hash: string;
  readonly serial: number;
}

/** Why a candidate rule set was refused (codes of signature checks, plus the agent's own). */
export type RejectionCode =
  | RuleSetRejection
  | 'RULESET_REPLAYED'
  | 'RULESET_SYNTAX'
  | 'RULESET_UNKNOWN_PROXIES'
  | 'RULESET_EMPTY'
  | 'RULESET_BAD_TABLE';

/** The verdict on a candidate rule set. A rejected one changes nothing: the last good one stays. */
export type Acceptance =
  | {
      readonly ok: true;
      readonly ruleSet: RuleSet;
      readonly hash: string;
      readonly serial: number;
      /** The candidate is the rule set already in force. */
      readonly unchanged: boolean;
      /**
       * Worth telling, not worth refusing: routes outside the allowlist (never advertised), tables
       * bird.tables does not list (default next hop).
       */
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly code: RejectionCode; readonly reason: string };

/** The route tables as the injector sees them, for a candidate's tables to be judged. */
export interface TableView {
  /** The tables bird.tables lists (with their next hops); the others get the default next hop. */
  readonly configured: ReadonlySet<string>;
  /** Per table: the protocols it would be rendered as, and why it cannot be (absent when it can). */
  judge(
    tables: readonly string[],
  ): ReadonlyMap<string, { readonly protocols: readonly string[]; readonly problem?: string }>;
  /** False when BIRD's own symbols could not be read: a clash with them is then found at apply. */
  readonly symbolsChecked: boolean;
}

/** What acceptance checks a candidate against. */
export interface AcceptContext {
  readonly current: CurrentRuleSet | null;
  readonly allowlist: Allowlist;
  /** The last HAProxy reading: proxies a rule names must exist there. Null when HAProxy was never read. */
  readonly health: HealthState | null;
  /** Accept rule sets naming proxies the live HAProxy does not know (they count as down). */
  readonly allowUnknownProxies: boolean;
  /** Accept a rule set with no rule (it withdraws every route; `drain` is the tool for that). */
  readonly allowEmpty?: boolean;
  /** The injector's tables: a table that cannot be rendered is refused. Absent: tables are not judged. */
  readonly tables?: TableView;
}

/** Where each rule of a candidate comes from, for messages: `file:line:column`. */
interface Places {
  readonly label: string;
  readonly locations?: readonly RuleLocation[];
}

const placeOf = (places: Places, rule: number) => {
  const at = places.locations?.[rule];
  // A rule set from the controller has no file: its rules are the lines of its canonical text.
  return at ? `${places.label}:${at.line}:${at.column}` : `${places.label}:${rule + 1}:1`;
};

/** Refusals and warnings about the candidate's route tables, each naming the first rule that uses the table. */
function judgeTables(
  ruleSet: RuleSet,
  places: Places,
  view: TableView,
): { refusal?: string; warnings: string[] } {
  const firstUse = new Map<string, number>();
  ruleSet.rules.forEach((rule, i) => {
    for (const route of rule.routes) if (!firstUse.has(route.table)) firstUse.set(route.table, i);
  });
  const verdicts = view.judge([...firstUse.keys()]);
  const refusals: string[] = [];
  const warnings: string[] = [];
  for (const [table, rule] of firstUse) {
    const verdict = verdicts.get(table);
    const place = placeOf(places, rule);
    if (verdict?.problem) refusals.push(`${place}: ${verdict.problem}`);
    else if (!view.configured.has(table)) {
      warnings.push(
        `${place}: table '${table}' is not in bird.tables: its routes get the default next hop, in protocol${
          verdict && verdict.protocols.length > 1 ? 's' : ''
        } ${verdict?.protocols.join(', ') ?? table} (the BIRD config must export ${
          verdict && verdict.protocols.length > 1 ? 'them' : 'it'
        })`,
      );
    }
  }
  if (!view.symbolsChecked && firstUse.size > 0) {
    warnings.push(
      "BIRD's symbols could not be read: a table whose protocol name BIRD's config already uses is found only when the routes are applied (its routes are then left out)",
    );
  }
  return refusals.length ? { refusal: refusals.join('\n'), warnings } : { warnings };
}

function check(ruleSet: RuleSet, serial: number, ctx: AcceptContext, places: Places): Acceptance {
  if (ruleSet.rules.length === 0 && !ctx.allowEmpty) {
    return {
      ok: false,
      code: 'RULESET_EMPTY',
      reason: `${places.label} has no rule: it would withdraw every route of this node. Use \`rhi-agent drain\` for that, or set rules.allowEmpty: true`,
    };
  }
  const hash = ruleSetHash(ruleSet);
  if (ctx.current && ctx.current.hash === hash) {
    return {
      ok: true,
      ruleSet,
      hash,
      serial: Math.max(serial, ctx.current.serial),
      unchanged: true,
      warnings: [],
    };
  }
  if (ctx.health && !ctx.allowUnknownProxies) {
    const unknown = unknownProxies(proxyNames(ruleSet), ctx.health);
    if (unknown.length) {
      return {
        ok: false,
        code: 'RULESET_UNKNOWN_PROXIES',
        reason: `the live HAProxy has no ${unknown.join(', ')}; refusing a rule set that would count them as down`,
      };
    }
  }
  const tables = ctx.tables ? judgeTables(ruleSet, places, ctx.tables) : { warnings: [] };
  if (tables.refusal) return { ok: false, code: 'RULESET_BAD_TABLE', reason: tables.refusal };
  const outside = ruleSet.rules.flatMap((r) => r.routes).filter((r) => !ctx.allowlist.allows(r.prefix));
  const warnings = [
    ...tables.warnings,
    ...outside.map(
      (r) => `${r.table}%${r.prefix} is outside this node's allowlist and will not be advertised`,
    ),
  ];
  return { ok: true, ruleSet, hash, serial, unchanged: false, warnings };
}

/** Judges the text of a local rules file (serial 0). */
export function acceptRulesFile(text: string, file: string, ctx: AcceptContext): Acceptance {
  const parsed = parse(text, { file });
  if (!parsed.ok) {
    const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
    return {
      ok: false,
      code: 'RULESET_SYNTAX',
      reason: `${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map(formatDiagnostic).join('\n')}`,
    };
  }
  return check(parsed.ruleSet, 0, ctx, { label: file, locations: parsed.locations });
}

/** Judges a signed rule set from the controller: signature, meaning, replay, then the live checks. */
export function acceptSignedRuleSet(
  value: unknown,
  trustedKeys: ReadonlyMap<string, KeyObject>,
  ctx: AcceptContext,
): Acceptance {
  const verified = verifySignedRuleSet(value, trustedKeys);
  if (!verified.ok) return verified;
  const { serial, hash } = verified.envelope;
  const current = ctx.current;
  if (current && current.hash !== hash && serial <= current.serial) {
    return {
      ok: false,
      code: 'RULESET_REPLAYED',
      reason: `serial ${serial} is not newer than the rule set in force (serial ${current.serial})`,
    };
  }
  return check(verified.ruleSet, serial, ctx, { label: `controller rule set (serial ${serial})` });
}
