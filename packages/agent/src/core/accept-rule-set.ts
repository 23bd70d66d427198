import type { KeyObject } from 'node:crypto';
import type { RuleSetRejection } from '@rhi/contracts';
import { verifySignedRuleSet } from '@rhi/contracts';
import type { HealthState, RuleSet } from '@rhi/rules-dsl';
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
  RuleSetRejection | 'RULESET_REPLAYED' | 'RULESET_SYNTAX' | 'RULESET_UNKNOWN_PROXIES';

/** The verdict on a candidate rule set. A rejected one changes nothing: the last good one stays. */
export type Acceptance =
  | {
      readonly ok: true;
      readonly ruleSet: RuleSet;
      readonly hash: string;
      readonly serial: number;
      /** The candidate is the rule set already in force. */
      readonly unchanged: boolean;
      /** Worth telling, not worth refusing: routes outside the allowlist (never advertised). */
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly code: RejectionCode; readonly reason: string };

/** What acceptance checks a candidate against. */
export interface AcceptContext {
  readonly current: CurrentRuleSet | null;
  readonly allowlist: Allowlist;
  /** The last HAProxy reading: proxies a rule names must exist there. Null when HAProxy was never read. */
  readonly health: HealthState | null;
  /** Accept rule sets naming proxies the live HAProxy does not know (they count as down). */
  readonly allowUnknownProxies: boolean;
}

function check(ruleSet: RuleSet, serial: number, ctx: AcceptContext): Acceptance {
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
  const outside = ruleSet.rules.flatMap((r) => r.routes).filter((r) => !ctx.allowlist.allows(r.prefix));
  const warnings = outside.map(
    (r) => `${r.table}%${r.prefix} is outside this node's allowlist and will not be advertised`,
  );
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
  return check(parsed.ruleSet, 0, ctx);
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
  return check(verified.ruleSet, serial, ctx);
}
