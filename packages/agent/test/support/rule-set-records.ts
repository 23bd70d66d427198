import type { RuleSetAssignment, RuleSetRecord } from '@rhi/contracts';
import { signRuleSet } from '@rhi/contracts';
import { parse } from '@rhi/rules-dsl';

/** A stored rule set as the controller writes it under `set.<serial>`: `source` signed with `privateKeyPem`. */
export function ruleSetRecord(
  source: string,
  serial: number,
  signer: { readonly privateKeyPem: string; readonly keyId: string },
): RuleSetRecord {
  const signed = JSON.parse(
    JSON.stringify(signRuleSet(parse(source).ruleSet, { ...signer, serial })),
  ) as RuleSetRecord['signed'];
  return {
    schema: 'rhi.v1.ruleset.record',
    serial,
    hash: signed.hash,
    author: 'ops',
    message: `serial ${serial}`,
    createdAt: '2026-12-03T07:00:00.000Z',
    target: { kind: 'all' },
    rules: source.split('\n').filter(Boolean).length,
    routes: source.split('\n').filter(Boolean).length,
    bytes: Buffer.byteLength(source),
    keyId: signer.keyId,
    copyOf: null,
    source,
    signed,
  };
}

/** The assignment of `target` (a record, or a serial and hash) to `node`, as the controller writes it. */
export function assignmentOf(
  node: string,
  target: { readonly serial: number; readonly hash: string },
  over: Partial<RuleSetAssignment> = {},
): RuleSetAssignment {
  return {
    schema: 'rhi.v1.assignment',
    node,
    serial: target.serial,
    hash: target.hash,
    rollout: null,
    assignedAt: '2026-12-03T07:00:00.000Z',
    ...over,
  };
}
