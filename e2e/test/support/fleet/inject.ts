import type { RuleSetRecord } from '@rhi/contracts';
import { encodeRuleSetRecord, jetstream, ruleSetKeys } from '@rhi/contracts';
import { buildRecord, lintUpload } from '@rhi/controller';
import { Kvm } from '@nats-io/kv';
import { connect, nkeyAuthenticator } from '@nats-io/transport-node';
import { throwIfCancelled } from '../docker.js';

/**
 * A rule-set record made as the controller makes the ones it stores under `set.<serial>`, but signed by
 * whatever key is given: what someone with write access to the rule-set bucket (and not the controller's
 * key) can make.
 */
export function forgedRecord(
  source: string,
  serial: number,
  signer: { readonly privateKeyPem: string; readonly keyId: string },
): RuleSetRecord {
  const lint = lintUpload(source, 'forged.cfg');
  if (!lint.ok) throw new Error(lint.message);
  const meta = {
    source,
    author: 'intruder',
    message: 'written straight into NATS',
    target: { kind: 'all' } as const,
  };
  return buildRecord(lint, meta, serial, signer, new Date());
}

/**
 * Writes `record` into the rule-set bucket and assigns it to `nodes`, straight through NATS (as the
 * controller's NATS user: the only one allowed to), bypassing the controller, its lint and its guard.
 */
export async function injectAssignment(
  server: string,
  nkeySeed: string,
  record: RuleSetRecord,
  nodes: readonly string[],
): Promise<void> {
  throwIfCancelled();
  const nc = await connect({
    servers: server,
    authenticator: nkeyAuthenticator(new TextEncoder().encode(nkeySeed.trim())),
  });
  try {
    const kv = await new Kvm(nc).open(jetstream.ruleSetBucket);
    await kv.put(ruleSetKeys.record(record.serial), encodeRuleSetRecord(record));
    for (const node of nodes)
      await kv.put(
        ruleSetKeys.assignment(node),
        JSON.stringify({
          schema: 'rhi.v1.assignment',
          node,
          serial: record.serial,
          hash: record.hash,
          rollout: null,
          assignedAt: new Date().toISOString(),
        }),
      );
  } finally {
    await nc.close();
  }
}
