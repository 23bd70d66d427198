import type {
  Ack,
  Command,
  OperatorAction,
  RolloutRecord,
  RolloutTimelineEvent,
  RuleSetAssignment,
  RuleSetRecord,
  RuleSetRef,
  RuleSetSummary,
} from '@rhi/contracts';

/** One entry of the event timeline (a route transition, an alert opening or closing), as stored. */
export interface TimelineEntry {
  /** The stream sequence: a stable id across replicas. */
  readonly seq: number;
  /** When it was stored (ISO). */
  readonly time: string;
  readonly subject: string;
  readonly event: unknown;
}

/** A timeline query: all given conditions hold for each entry returned, oldest first, at most `limit`. */
export interface TimelineQuery {
  readonly node?: string;
  /** A route id (`table%prefix`). */
  readonly vip?: string;
  readonly since?: number;
  readonly until?: number;
  readonly limit: number;
}

/** The event timeline (JetStream). */
export interface Timeline {
  query(q: TimelineQuery): Promise<{ entries: TimelineEntry[]; truncated: boolean }>;
}

/** Whether the controller can reach NATS now, and why not. */
export interface NatsHealth {
  readonly up: boolean;
  readonly reason?: string;
  /** Why it is down, for the API's error: the connection, or JetStream without its quorum. */
  readonly code?: 'NATS_UNAVAILABLE' | 'NATS_QUORUM_LOST';
}

/** The stored rule sets (JetStream): serials only go up, and a stored serial never changes. */
export interface RuleSetStore {
  /** The newest serial stored, or null while none is. */
  head(): Promise<RuleSetRef | null>;
  /** One serial's record, or null when there is none. */
  get(serial: number): Promise<RuleSetRecord | null>;
  /** Summaries, newest first: at most `limit`, with serials below `before` when given. */
  summaries(q: { readonly limit: number; readonly before?: number }): Promise<RuleSetSummary[]>;
  /**
   * Stores a new record at the next free serial, at least `floor`; `make` builds (and signs) it for the
   * serial it is given, and may be called again with a higher one when another replica took that serial.
   */
  add(make: (serial: number) => RuleSetRecord, floor?: number): Promise<RuleSetRecord>;
}

/** A rollout as stored, with the revision to write it over. */
export interface StoredRollout {
  readonly record: RolloutRecord;
  readonly revision: number;
}

/** The rollouts (JetStream KV, see `JetStreamRolloutStore`): one under way at a time, records by CAS. */
export interface RolloutStorePort {
  /** The rollout under way, if any. */
  active(): Promise<string | null>;
  /** Stores a new rollout and claims `active` for it (`ROLLOUT_ACTIVE` while another is under way). */
  create(record: RolloutRecord): Promise<StoredRollout>;
  get(id: string): Promise<StoredRollout | null>;
  /** Throws an error with code `ROLLOUT_CONFLICT` when the record moved since `revision`. */
  update(record: RolloutRecord, revision: number): Promise<StoredRollout>;
  /** Makes an ended rollout the one under way again (`ROLLOUT_ACTIVE` while another is). */
  claim(id: string): Promise<void>;
  /** Gives up `id`'s claim on `active` (nothing when another holds it). */
  release(id: string): Promise<void>;
  /** Every rollout's id, in name order. */
  ids(): Promise<string[]>;
}

/** Where the runner does a rollout's effects. Each may be done again (after a failure, by another replica). */
export interface RolloutEffectsPort {
  /** Writes each node's `assign.<node>`. */
  assign(assignments: readonly RuleSetAssignment[]): Promise<void>;
  /** Publishes one timeline entry, de-duplicated by its rollout and seq. */
  publish(event: RolloutTimelineEvent): Promise<void>;
}

/** Commands to nodes (request/reply on `rhi.v1.cmd.node.<node>`) and the timeline of operators' actions. */
export interface NodeCommandsPort {
  /** Sends `command` to `node`: its ack, or null when none came within the timeout. */
  send(node: string, command: Command): Promise<Ack | null>;
  /** Publishes an operator's action into the timeline. */
  record(action: OperatorAction): Promise<void>;
}
