import { z } from 'zod';
import { ContractInvalidTokenError, TOKEN, WIRE_VERSION } from './subjects.js';

const nodeName = z.string().regex(TOKEN, 'a node name is 1-64 letters, digits, - or _');
const isoTime = z.iso.datetime();
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
const serial = z.number().int().min(1);
/** A time in the rollout record: milliseconds since the epoch, on the controller's clock. */
const ms = z.number().int().min(0);
const duration = z.number().int().min(0);
/** Who did something: an API token's name, a replica's id, or `controller` for the controller's own actions. */
const actor = z.string().min(1).max(128);
const text = z.string().max(1024);

/**
 * A label selector in canonical form: `key=value` pairs joined by `,`, keys sorted, each key once, keys and
 * values NATS tokens (e.g. `role=edge,site=par1`). It matches a node whose labels have every pair.
 */
export const LABEL_SELECTOR =
  /^[A-Za-z0-9_-]{1,64}=[A-Za-z0-9_-]{1,64}(?:,[A-Za-z0-9_-]{1,64}=[A-Za-z0-9_-]{1,64})*$/;

/** Which nodes a rule set is for: every node, or those a label selector (canonical) matches. */
export const RuleSetTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('all') }),
  z.strictObject({
    kind: z.literal('selector'),
    selector: z.string().regex(LABEL_SELECTOR, 'a canonical label selector, e.g. role=edge,site=par1'),
  }),
]);
export type RuleSetTarget = z.infer<typeof RuleSetTargetSchema>;

/** A stored signed rule set, by its serial (monotonic per fleet) and its hash. */
export const RuleSetRefSchema = z.strictObject({ serial, hash: sha256Hex });
export type RuleSetRef = z.infer<typeof RuleSetRefSchema>;

/**
 * The rule set assigned to one node, kept in the rule-set bucket under `assign.<node>` so that it reaches a
 * node that was away: the agent reads it, fetches the record `set.<serial>` it names, and answers with a
 * {@link RuleSetAck} for this serial. Written with the effect's id as its idempotency key (see
 * {@link rolloutEffectId}): a replica that writes it again after a takeover writes the same value.
 */
export const RuleSetAssignmentSchema = z.strictObject({
  schema: z.literal(`${WIRE_VERSION}.assignment`),
  node: nodeName,
  serial,
  hash: sha256Hex,
  /** The rollout that assigned it, or null for a direct assignment. */
  rollout: z.string().regex(TOKEN).nullable(),
  assignedAt: isoTime,
});
export type RuleSetAssignment = z.infer<typeof RuleSetAssignmentSchema>;

/**
 * An agent's answer to an assignment: it runs the serial (`applied`), or it refused it (`rejected`, with
 * the agent's rejection code, e.g. `RULESET_UNKNOWN_PROXIES`, and reason). A rejection is never counted as
 * applied; the last good rule set stays in force on that node.
 */
export const RuleSetAckSchema = z
  .strictObject({
    schema: z.literal(`${WIRE_VERSION}.ruleset.ack`),
    node: nodeName,
    serial,
    hash: sha256Hex,
    result: z.enum(['applied', 'rejected']),
    code: z.string().max(64).optional(),
    reason: text.optional(),
    time: isoTime,
  })
  .refine((a) => a.result === 'applied' || a.reason !== undefined, {
    message: 'a rejection says why',
    path: ['reason'],
  });
export type RuleSetAck = z.infer<typeof RuleSetAckSchema>;

/** Default soak of a rollout step: how long its nodes run the new rule set, healthy, before the next step. */
export const DEFAULT_SOAK_MS = 120_000;
/** Default time within which every node of a step must ack its assignment. */
export const DEFAULT_ACK_TIMEOUT_MS = 120_000;
/** Default progress deadline: how long a rollout may go without progress (on unless set to null). */
export const DEFAULT_PROGRESS_DEADLINE_MS = 600_000;

/** The first step: a count of nodes, a percentage of the targeted nodes, or the nodes a selector matches. */
export const CanarySchema = z.union([
  z.strictObject({ count: z.number().int().min(1) }),
  z.strictObject({ percent: z.number().min(0).max(100).positive() }),
  z.strictObject({ selector: z.string().regex(LABEL_SELECTOR) }),
]);
export type Canary = z.infer<typeof CanarySchema>;

/** The steps after the canary: batches of a size, or of a percentage of the targeted nodes (rounded up). */
export const BatchSchema = z.union([
  z.strictObject({ size: z.number().int().min(1) }),
  z.strictObject({ percent: z.number().min(0).max(100).positive() }),
]);
export type Batch = z.infer<typeof BatchSchema>;

/**
 * How a rollout proceeds. Nodes are taken in name order, so that every replica plans the same steps. Each
 * step is gated on: every node of it acked `applied` within `ackTimeoutMs` of its assignment, then `soakMs`
 * elapsed, then the fleet seen healthy after the soak. The progress deadline stops a rollout that makes no
 * progress (no ack, no gate passed) for that long while it waits for acks or for the health gate.
 */
export const RolloutStrategySchema = z.strictObject({
  /** Null: no canary, the first batch comes first. */
  canary: CanarySchema.nullable().default({ count: 1 }),
  batch: BatchSchema.default({ percent: 25 }),
  soakMs: duration.default(DEFAULT_SOAK_MS),
  ackTimeoutMs: duration.min(1).default(DEFAULT_ACK_TIMEOUT_MS),
  /** Null turns the progress deadline off. */
  progressDeadlineMs: duration.min(1).nullable().default(DEFAULT_PROGRESS_DEADLINE_MS),
});
export type RolloutStrategy = z.infer<typeof RolloutStrategySchema>;

/**
 * What a rollback assigns: the last good rule set's text (its `hash`), re-issued under a fresh `serial`
 * higher than the rollout's (agents refuse a lower serial for different rules: `RULESET_REPLAYED`); `of`
 * is the serial it is a copy of.
 */
export const RollbackTargetSchema = z.strictObject({ serial, hash: sha256Hex, of: serial });
export type RollbackTarget = z.infer<typeof RollbackTargetSchema>;

/** The states of a rollout. `completed`, `rolledBack`, `aborted` and `failed` end it. */
export const ROLLOUT_STATUSES = [
  'pending',
  'canary',
  'batch',
  'soaking',
  'paused',
  'completed',
  'rollingBack',
  'rolledBack',
  'aborted',
  'failed',
] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

/** Why a rollout stopped going forward (and rolled back). */
export const ROLLOUT_STOP_CAUSES = [
  /** A node of the rollout rejected the new rule set (NACK). */
  'rejected',
  /** A node of the current step did not ack within `ackTimeoutMs`. */
  'ackTimeout',
  /** A VIP lost advertisers, withdrawn by nodes that got the new rule set. */
  'vipLost',
  /** An alert opened on a node that got the new rule set. */
  'alert',
  /** No progress within `progressDeadlineMs`. */
  'progressDeadline',
  /** Stopped by hand: abort. */
  'abort',
  /** Stopped by hand: rollback to a given serial. */
  'rollback',
] as const;
export type RolloutStopCause = (typeof ROLLOUT_STOP_CAUSES)[number];

/** Why a rollout ended `failed`: its rollback could not be done, and needs a person. */
export const ROLLOUT_FAILURE_CAUSES = ['rollbackRejected', 'rollbackAckTimeout', 'noRollbackTarget'] as const;
export type RolloutFailureCause = (typeof ROLLOUT_FAILURE_CAUSES)[number];

/** The actions of a rollout's timeline. */
export const ROLLOUT_ACTIONS = [
  'created',
  'started',
  'stepAssigned',
  'stepApplied',
  'stepCompleted',
  'completed',
  'paused',
  'resumed',
  'nodeRejected',
  'stopped',
  'rollbackAssigned',
  'rolledBack',
  'failed',
  'aborted',
  'takeover',
  /** The rollout completed: the targeted nodes that were lost when it was planned are assigned its rule set. */
  'absentAssigned',
] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

/** The alerts a rollout raises. */
export const ROLLOUT_ALERTS = ['ruleSetRejected', 'rolloutStopped', 'rolloutFailed'] as const;

/**
 * Work a rollout transition asks for, kept in the rollout's outbox until the runner reports it done: an
 * assignment of a rule set to nodes (written to each node's `assign.<node>`), a timeline entry, an alert.
 * `seq` numbers the rollout's effects: {@link rolloutEffectId} makes it the idempotency key of the write
 * (`Nats-Msg-Id`), so that one redone after a takeover lands once.
 */
export const RolloutEffectSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('assign'),
    seq: z.number().int().min(1),
    /** When it was made: each assignment's `assignedAt`, so that the effect done again writes the same bytes. */
    at: ms,
    nodes: z.array(nodeName).min(1),
    serial,
    hash: sha256Hex,
    /** The step assigned, or null for the rollback and for the nodes left out (`absent`) at the end. */
    step: z.number().int().min(0).nullable(),
  }),
  z.strictObject({
    kind: z.literal('timeline'),
    seq: z.number().int().min(1),
    action: z.enum(ROLLOUT_ACTIONS),
    by: actor,
    at: ms,
    reason: text.optional(),
    step: z.number().int().min(0).optional(),
    nodes: z.array(nodeName).optional(),
    serial: serial.optional(),
  }),
  z.strictObject({
    kind: z.literal('alert'),
    seq: z.number().int().min(1),
    alert: z.enum(ROLLOUT_ALERTS),
    /** Who raised it: the replica driving the rollout then. */
    by: actor,
    at: ms,
    message: text,
    node: nodeName.optional(),
  }),
]);
export type RolloutEffect = z.infer<typeof RolloutEffectSchema>;

/**
 * Keys of the rollout bucket (`jetstream.rolloutBucket`). `rollout.<id>` holds the record (gzip'd JSON,
 * see `encodeRolloutRecord`), only ever written over the revision read; `active` names the one rollout
 * under way (taken by `create`, so two replicas cannot start two), deleted when it ends.
 */
export const rolloutKeys = {
  active: 'active',
  record: (id: string) => {
    if (!TOKEN.test(id)) throw new ContractInvalidTokenError('rollout', id);
    return `rollout.${id}`;
  },
} as const;

/** The idempotency key of a rollout's effect: the rollout's id and the effect's `seq`. */
export function rolloutEffectId(rollout: string, seq: number): string {
  return `${rollout}:${seq}`;
}

/** At most this many node names are listed in a timeline entry; `nodeCount` says how many there were. */
export const ROLLOUT_EVENT_MAX_NODES = 100;

/**
 * One entry of a rollout's timeline on `subjects.rolloutEvents`: an action (`timeline` effect) or an alert
 * the rollout raised (`alert` effect), with who did it. Published with the `Nats-Msg-Id`
 * {@link rolloutEffectId}, so that a replica that takes over and does the effect again adds nothing.
 */
export const RolloutTimelineEventSchema = z.strictObject({
  schema: z.literal(`${WIRE_VERSION}.rollout.event`),
  rollout: z.string().regex(TOKEN),
  /** The effect's `seq` in its rollout. */
  seq: z.number().int().min(1),
  kind: z.enum(['timeline', 'alert']),
  /** The action, for a `timeline` entry. */
  action: z.enum(ROLLOUT_ACTIONS).optional(),
  /** The alert, for an `alert` entry. */
  alert: z.enum(ROLLOUT_ALERTS).optional(),
  by: actor,
  time: isoTime,
  reason: text.optional(),
  step: z.number().int().min(0).optional(),
  /** The nodes concerned, at most {@link ROLLOUT_EVENT_MAX_NODES}. */
  nodes: z.array(nodeName).max(ROLLOUT_EVENT_MAX_NODES).optional(),
  nodeCount: z.number().int().min(0).optional(),
  serial: serial.optional(),
});
export type RolloutTimelineEvent = z.infer<typeof RolloutTimelineEventSchema>;

const nodeRejection = z.strictObject({
  node: nodeName,
  at: ms,
  reason: text,
  code: z.string().max(64).optional(),
});

/** One step of a rollout: its nodes, and how far it is. */
export const RolloutStepSchema = z.strictObject({
  kind: z.enum(['canary', 'batch']),
  nodes: z.array(nodeName).min(1),
  /** When its assignment was made (null: not yet). */
  assignedAt: ms.nullable(),
  /** When every node must have acked (moved on by the time spent paused). */
  ackDueAt: ms.nullable(),
  /** The nodes that acked `applied` for the rollout's serial (never one that rejected it). */
  applied: z.array(nodeName),
  /** When the soak ends (set once every node applied; moved on by the time spent paused). */
  soakUntil: ms.nullable(),
  completedAt: ms.nullable(),
});
export type RolloutStep = z.infer<typeof RolloutStepSchema>;

/**
 * A staged rollout of one rule set to a target, as stored in JetStream (one entry per rollout): a plain
 * value from which any controller replica continues it. `revision` grows by one with every change; a
 * replica writes the entry only over the revision it read (compare-and-set), so two replicas never both
 * move it. The work a change asks for waits in `outbox` until the runner reports it done, so that a
 * replica killed between the write and the work leaves it to the next one. Times are milliseconds since
 * the epoch on the controller's clock.
 */
export const RolloutRecordSchema = z
  .strictObject({
    schema: z.literal(`${WIRE_VERSION}.rollout`),
    id: z.string().regex(TOKEN),
    revision: z.number().int().min(0),
    createdAt: ms,
    createdBy: actor,
    message: text.optional(),
    updatedAt: ms,
    /** The replica driving it (the last to take it over), if any. */
    owner: actor.nullable(),
    target: RuleSetTargetSchema,
    /** The rule set rolled out. */
    ruleSet: RuleSetRefSchema,
    /** What a rollback assigns; null when there is no last good rule set (a rollback then fails). */
    rollbackTo: RollbackTargetSchema.nullable(),
    strategy: RolloutStrategySchema,
    status: z.enum(ROLLOUT_STATUSES),
    /** The current step (the last one once finished). */
    step: z.number().int().min(0),
    steps: z.array(RolloutStepSchema).min(1),
    /**
     * Targeted nodes lost when the rollout was planned: in no step. Once it completes they are assigned its
     * rule set (no gate: the rest of the fleet proved it), so that each converges when it comes back.
     */
    absent: z.array(nodeName).default([]),
    /** The last progress (start, an ack, a gate passed, a resume), for the progress deadline. */
    lastProgressAt: ms.nullable(),
    /** The last time the runner saw the fleet healthy with respect to this rollout. */
    healthyAt: ms.nullable(),
    paused: z
      .strictObject({
        from: z.enum(['canary', 'batch', 'soaking']),
        at: ms,
        by: actor,
        reason: text.optional(),
      })
      .nullable(),
    /** Nodes that rejected the rule set rolled out. */
    rejected: z.array(nodeRejection),
    stop: z
      .strictObject({
        cause: z.enum(ROLLOUT_STOP_CAUSES),
        at: ms,
        by: actor,
        reason: text,
        nodes: z.array(nodeName),
        vip: z.string().optional(),
      })
      .nullable(),
    rollback: z
      .strictObject({
        serial,
        hash: sha256Hex,
        of: serial,
        /** Every node that was assigned the rule set rolled out. */
        nodes: z.array(nodeName).min(1),
        assignedAt: ms,
        ackDueAt: ms,
        applied: z.array(nodeName),
        rejected: z.array(nodeRejection),
      })
      .nullable(),
    failure: z
      .strictObject({
        cause: z.enum(ROLLOUT_FAILURE_CAUSES),
        at: ms,
        reason: text,
        nodes: z.array(nodeName),
      })
      .nullable(),
    /** The `seq` of the last effect made. */
    effectSeq: z.number().int().min(0),
    /** Effects made and not yet reported done, oldest first. */
    outbox: z.array(RolloutEffectSchema),
  })
  .refine((r) => r.step < r.steps.length, { message: 'step is past the last step', path: ['step'] });
export type RolloutRecord = z.infer<typeof RolloutRecordSchema>;
