/** Version prefix of every subject, stream, bucket and schema name. */
export const WIRE_VERSION = 'rhi.v1';

/** A NATS subject token: no dots, wildcards or whitespace. Node names and label keys/values must be tokens. */
export const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** Thrown by subject builders when a name cannot be a subject token. */
export class ContractInvalidTokenError extends Error {
  readonly code = 'CONTRACT_INVALID_TOKEN';
  constructor(
    readonly what: string,
    readonly value: string,
  ) {
    super(`${what} '${value}' cannot be a NATS subject token: use 1-64 letters, digits, '-' or '_'`);
    this.name = 'ContractInvalidTokenError';
  }
}

function token(what: string, value: string): string {
  if (!TOKEN.test(value)) throw new ContractInvalidTokenError(what, value);
  return value;
}

/**
 * Subject names. Agents publish status and events and listen for commands; the controller does the
 * opposite. Commands are request/reply: the reply is an {@link Ack}.
 */
export const subjects = {
  /** An agent's full status (`NodeStatus`), when it changes, on (re)connect and every `STATUS_REFRESH_MS`. */
  status: (node: string) => `${WIRE_VERSION}.status.${token('node', node)}`,
  /** Every node's status (controller subscription). */
  allStatus: `${WIRE_VERSION}.status.*`,
  /** An agent's `Heartbeat`, every heartbeat interval: alive, and its last status still holds. */
  heartbeat: (node: string) => `${WIRE_VERSION}.heartbeat.${token('node', node)}`,
  /** Every node's heartbeat (controller subscription). */
  allHeartbeats: `${WIRE_VERSION}.heartbeat.*`,
  /**
   * Asks a node to publish its full status again (no payload): a controller sends it when the node's
   * heartbeats vouch for a status it does not hold (published before the status stream existed, or lost).
   * The agent answers at most once a second.
   */
  resend: (node: string) => `${WIRE_VERSION}.resend.${token('node', node)}`,
  /** An agent's compact HAProxy health (`HealthReport`), when it changes. */
  health: (node: string) => `${WIRE_VERSION}.health.${token('node', node)}`,
  /** Every node's health report (controller subscription). */
  allHealth: `${WIRE_VERSION}.health.*`,
  /** One transition event (route announced/withdrawn, rule set applied/rejected, ...). */
  event: (node: string) => `${WIRE_VERSION}.events.${token('node', node)}`,
  allEvents: `${WIRE_VERSION}.events.>`,
  /**
   * Every node's events, and only theirs: one token after `events`, so the controller's own
   * `rhi.v1.events.controller.alerts` is left out (what the controller counts route transitions from).
   */
  allNodeEvents: `${WIRE_VERSION}.events.*`,
  /**
   * The controller's alert openings and closings (`AlertEvent`), in the events stream beside the agents'
   * events. Two tokens after `events`, so it never matches a node's `rhi.v1.events.<node>`.
   */
  alertEvents: `${WIRE_VERSION}.events.controller.alerts`,
  /**
   * The rollouts' timeline (`RolloutTimelineEvent`): every action of every rollout with who did it, published
   * once by the replica driving the rollout. Two tokens after `events`, like the alerts.
   */
  rolloutEvents: `${WIRE_VERSION}.events.controller.rollouts`,
  /** Operators' actions on nodes through the controller (`OperatorAction`): drains and undrains. */
  operatorActions: `${WIRE_VERSION}.events.controller.actions`,
  /**
   * An agent's `RuleSetAck` for the serial assigned to it (`assign.<node>` in the rule-set bucket),
   * kept one per node in the acks stream so that a controller replica taking over a rollout reads them.
   */
  ruleSetAck: (node: string) => `${WIRE_VERSION}.ack.${token('node', node)}`,
  /** Every node's rule-set ack (the acks stream's subjects). */
  allRuleSetAcks: `${WIRE_VERSION}.ack.*`,
  /** Commands addressed to one node. */
  nodeCommand: (node: string) => `${WIRE_VERSION}.cmd.node.${token('node', node)}`,
  /** Commands addressed to every node carrying a label, e.g. `site=par1`. */
  labelCommand: (key: string, value: string) =>
    `${WIRE_VERSION}.cmd.label.${token('label key', key)}.${token('label value', value)}`,
} as const;

/** JetStream names: the event history stream and the key-value buckets. */
export const jetstream = {
  /** Stream over `rhi.v1.events.>`: the fleet's transition history. */
  eventsStream: 'RHI_V1_EVENTS',
  /**
   * Stream over `rhi.v1.status.*` keeping one message per subject: the latest status of every node, as
   * the agents publish it (they need no JetStream permission). A cold controller starts from it.
   */
  statusStream: 'RHI_V1_STATUS',
  /** Stream over `rhi.v1.heartbeat.*` keeping one message per subject: when each node was last heard. */
  heartbeatStream: 'RHI_V1_HEARTBEAT',
  /** Stream over `rhi.v1.health.*` keeping one message per subject: the latest health report per node. */
  healthStream: 'RHI_V1_HEALTH',
  /**
   * KV bucket with a bucket-wide TTL: the controller replicas' lease (key `holder`). The replica holding it
   * does the once-only work, e.g. publishing alerts to the timeline.
   */
  leaseBucket: 'rhi_v1_controller_lease',
  /** KV bucket: the alerts the lease holder published as open (key `open.<base64url of kind:subject>`). */
  alertBucket: 'rhi_v1_alerts',
  /**
   * KV bucket: stored rule sets by serial and the assignment of each node (keys: `ruleSetKeys`). An agent
   * reads its assignment and the record it names by direct get, and hears of a new assignment by
   * subscribing to the key's subject ({@link kvSubject}); it needs no JetStream consumer.
   */
  ruleSetBucket: 'rhi_v1_rulesets',
  /** Stream over `rhi.v1.ack.*` keeping one message per subject: each node's last rule-set ack. */
  ackStream: 'RHI_V1_ACKS',
  /** KV bucket: the rollouts (keys: `rolloutKeys`), each a `RolloutRecord` written by compare-and-set. */
  rolloutBucket: 'rhi_v1_rollouts',
  /**
   * KV bucket with a bucket-wide TTL: each controller replica writes `replica.<id>` every few seconds to
   * learn whether JetStream still takes writes (a cluster that lost its quorum does not).
   */
  probeBucket: 'rhi_v1_controller_probe',
} as const;

/** The subject a KV bucket stores `key` under: a put is published there (a core subscriber hears it). */
export function kvSubject(bucket: string, key: string): string {
  return `$KV.${bucket}.${key}`;
}

/** The subject to ask for the newest value of `key` by direct get (the bucket allows direct gets). */
export function kvDirectGetSubject(bucket: string, key: string): string {
  return `$JS.API.DIRECT.GET.KV_${bucket}.${kvSubject(bucket, key)}`;
}
