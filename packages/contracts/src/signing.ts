import type { KeyObject } from 'node:crypto';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { DiagnosticCode, ParseLimits, RuleSet } from '@rhi/rules-dsl';
import { DEFAULT_LIMITS, countDiagnostics, ruleSetHash, validateRuleSet } from '@rhi/rules-dsl';
import type { SignedRuleSet } from './schemas.js';
import { SignedRuleSetSchema } from './schemas.js';

/** Why a signed rule set was refused. */
export type RuleSetRejection =
  | 'RULESET_MALFORMED'
  | 'RULESET_INVALID'
  /** Its canonical text crosses a parse limit (the limits given, else rules-dsl's defaults). */
  | 'RULESET_OVER_LIMIT'
  | 'RULESET_HASH_MISMATCH'
  | 'RULESET_UNTRUSTED_KEY'
  | 'RULESET_BAD_SIGNATURE';

/** The outcome of {@link verifySignedRuleSet}: the verified envelope, or a coded reason. */
export type VerifyResult =
  | { readonly ok: true; readonly envelope: SignedRuleSet; readonly ruleSet: RuleSet }
  | {
      readonly ok: false;
      readonly code: Exclude<RuleSetRejection, 'RULESET_OVER_LIMIT'>;
      readonly reason: string;
    }
  | {
      readonly ok: false;
      readonly code: 'RULESET_OVER_LIMIT';
      readonly reason: string;
      /** The codes of the limits crossed, e.g. `RULE_SET_TOO_MANY_RULES`. */
      readonly limits: readonly DiagnosticCode[];
    };

/** The diagnostics that say a parse limit was crossed. */
const LIMIT_CODES: ReadonlySet<DiagnosticCode> = new Set([
  'RULE_SET_TOO_LARGE',
  'RULE_SET_TOO_MANY_RULES',
  'RULE_SET_TOO_MANY_ROUTES',
  'RULE_TOO_MANY_TERMS',
  'RULE_TOO_DEEP',
]);

/** The exact bytes an ed25519 signature covers. */
export function signingInput(e: Pick<SignedRuleSet, 'hash' | 'serial' | 'issuedAt'>): Buffer {
  return Buffer.from(`rhi.v1.ruleset\n${e.hash}\n${e.serial}\n${e.issuedAt}\n`, 'utf8');
}

/** Reads an ed25519 key from PEM text (public keys may also be given as their private key). */
export function publicKeyFrom(pem: string): KeyObject {
  return createPublicKey(pem);
}

/** Signs a rule set with an ed25519 private key (PEM). */
export function signRuleSet(
  ruleSet: RuleSet,
  options: { privateKeyPem: string; keyId: string; serial: number; issuedAt?: Date },
): SignedRuleSet {
  const base = {
    hash: ruleSetHash(ruleSet),
    serial: options.serial,
    issuedAt: (options.issuedAt ?? new Date()).toISOString(),
  };
  const signature = sign(null, signingInput(base), createPrivateKey(options.privateKeyPem)).toString(
    'base64',
  );
  return { schema: 'rhi.v1.ruleset', ruleSet, ...base, keyId: options.keyId, signature };
}

/**
 * Checks a signed rule set from the wire: its shape, its meaning (it must be a rule set the parser could
 * produce, within `limits`: rules-dsl's defaults for those not given), its hash, and its signature by one
 * of the trusted keys. Never throws.
 */
export function verifySignedRuleSet(
  value: unknown,
  trustedKeys: ReadonlyMap<string, KeyObject>,
  limits: Partial<ParseLimits> = {},
): VerifyResult {
  // Counted before the shape check, which would otherwise walk every rule of a runaway push.
  const rules = (value as { ruleSet?: { rules?: unknown } } | null | undefined)?.ruleSet?.rules;
  const maxRules = limits.maxRules ?? DEFAULT_LIMITS.maxRules;
  if (Array.isArray(rules) && rules.length > maxRules) {
    return {
      ok: false,
      code: 'RULESET_OVER_LIMIT',
      reason: `rules.${maxRules}: RULE_SET_TOO_MANY_RULES: ${rules.length} rules, more than ${maxRules} (the limit, maxRules)`,
      limits: ['RULE_SET_TOO_MANY_RULES'],
    };
  }
  const shape = SignedRuleSetSchema.safeParse(value);
  if (!shape.success) {
    const first = shape.error.issues[0];
    const reason = first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'malformed';
    return { ok: false, code: 'RULESET_MALFORMED', reason };
  }
  const envelope = shape.data;
  const valid = validateRuleSet(envelope.ruleSet, '<rule set>', limits);
  if (!valid.ok) {
    const { errors } = countDiagnostics(valid.diagnostics);
    // The true count: past the cap of listed diagnostics, the rest are only counted.
    const reason =
      errors > valid.issues.length
        ? `${errors} errors, the first ${valid.issues.length}: ${valid.issues.join('; ')}`
        : valid.issues.join('; ');
    const crossed = [...new Set(valid.diagnostics.map((d) => d.code).filter((c) => LIMIT_CODES.has(c)))];
    return crossed.length
      ? { ok: false, code: 'RULESET_OVER_LIMIT', reason, limits: crossed }
      : { ok: false, code: 'RULESET_INVALID', reason };
  }
  const hash = ruleSetHash(valid.ruleSet);
  if (hash !== envelope.hash) {
    return {
      ok: false,
      code: 'RULESET_HASH_MISMATCH',
      reason: `hash ${envelope.hash} does not match the rules (${hash})`,
    };
  }
  const key = trustedKeys.get(envelope.keyId);
  if (!key)
    return { ok: false, code: 'RULESET_UNTRUSTED_KEY', reason: `key '${envelope.keyId}' is not trusted` };
  let good = false;
  try {
    good = verify(null, signingInput(envelope), key, Buffer.from(envelope.signature, 'base64'));
  } catch (err) {
    return {
      ok: false,
      code: 'RULESET_BAD_SIGNATURE',
      reason: `signature check failed: ${(err as Error).message}`,
    };
  }
  if (!good)
    return {
      ok: false,
      code: 'RULESET_BAD_SIGNATURE',
      reason: `signature does not verify with key '${envelope.keyId}'`,
    };
  return { ok: true, envelope, ruleSet: valid.ruleSet };
}
