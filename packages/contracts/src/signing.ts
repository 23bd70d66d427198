import type { KeyObject } from 'node:crypto';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { RuleSet } from '@rhi/rules-dsl';
import { ruleSetHash, validateRuleSet } from '@rhi/rules-dsl';
import type { SignedRuleSet } from './schemas.js';
import { SignedRuleSetSchema } from './schemas.js';

/** Why a signed rule set was refused. */
export type RuleSetRejection =
  | 'RULESET_MALFORMED'
  | 'RULESET_INVALID'
  | 'RULESET_HASH_MISMATCH'
  | 'RULESET_UNTRUSTED_KEY'
  | 'RULESET_BAD_SIGNATURE';

/** The outcome of {@link verifySignedRuleSet}: the verified envelope, or a coded reason. */
export type VerifyResult =
  | { readonly ok: true; readonly envelope: SignedRuleSet; readonly ruleSet: RuleSet }
  | { readonly ok: false; readonly code: RuleSetRejection; readonly reason: string };

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
 * produce), its hash, and its signature by one of the trusted keys. Never throws.
 */
export function verifySignedRuleSet(
  value: unknown,
  trustedKeys: ReadonlyMap<string, KeyObject>,
): VerifyResult {
  const shape = SignedRuleSetSchema.safeParse(value);
  if (!shape.success) {
    const first = shape.error.issues[0];
    const reason = first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'malformed';
    return { ok: false, code: 'RULESET_MALFORMED', reason };
  }
  const envelope = shape.data;
  const valid = validateRuleSet(envelope.ruleSet);
  if (!valid.ok) return { ok: false, code: 'RULESET_INVALID', reason: valid.issues.join('; ') };
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
