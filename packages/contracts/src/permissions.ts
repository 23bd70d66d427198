import { ruleSetKeys } from './ruleset-record.js';
import {
  ContractInvalidTokenError,
  jetstream,
  kvDirectGetSubject,
  kvSubject,
  subjects,
  TOKEN,
} from './subjects.js';

/** A NATS user's permissions as nats-server takes them: subjects allowed to publish and subscribe. */
export interface NatsPermissions {
  readonly publish: { readonly allow: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[] };
  /** May answer the requests it receives (its replies go to the requester's inbox, whatever it is). */
  readonly allowResponses: boolean;
}

/**
 * The inbox prefix of a node's connection: its replies (direct gets) come to `<prefix>.>`, which only it
 * may subscribe to. Agents connect with it (`inboxPrefix`).
 */
export function agentInboxPrefix(node: string): string {
  if (!TOKEN.test(node)) throw new ContractInvalidTokenError('node', node);
  return `_INBOX_${node}`;
}

/**
 * What one node's agent may do on NATS, and nothing more: publish its own status, heartbeat, health
 * report, events and rule-set acks; read its own assignment and the stored rule sets by direct get;
 * hear commands for itself and for its labels, status resend requests and puts on its assignment key;
 * answer the commands it hears. It cannot write any KV key nor use a JetStream consumer.
 */
export function agentPermissions(node: string, labels: Readonly<Record<string, string>>): NatsPermissions {
  const bucket = jetstream.ruleSetBucket;
  return {
    publish: {
      allow: [
        subjects.status(node),
        subjects.heartbeat(node),
        subjects.health(node),
        subjects.event(node),
        subjects.ruleSetAck(node),
        kvDirectGetSubject(bucket, ruleSetKeys.assignment(node)),
        kvDirectGetSubject(bucket, 'set.*'),
      ],
    },
    subscribe: {
      allow: [
        subjects.nodeCommand(node),
        ...Object.entries(labels)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => subjects.labelCommand(k, v)),
        subjects.resend(node),
        kvSubject(bucket, ruleSetKeys.assignment(node)),
        `${agentInboxPrefix(node)}.>`,
      ],
    },
    allowResponses: true,
  };
}

/** What the controller may do: everything in its account (it owns the streams and buckets). */
export function controllerPermissions(): NatsPermissions {
  return { publish: { allow: ['>'] }, subscribe: { allow: ['>'] }, allowResponses: false };
}
