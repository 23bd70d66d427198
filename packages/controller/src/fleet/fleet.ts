import { HeartbeatSchema, subjects, type Heartbeat, type NodeStatus } from '@rhi/contracts';
import { judgeStatus, sameContent, type StatusRejection } from './ingest.js';
import { isNewer, judgePublished, nodeOf, stale, type MessageKind } from './judge.js';
import { quickHeartbeat } from './quick-heartbeat.js';
import { ValuePool } from './value-pool.js';

/**
 * What the controller knows of one node: its newest status and when the node was last heard (the time its
 * newest status or heartbeat was stored), which its liveness is judged by.
 */
export interface NodeRecord {
  readonly status: NodeStatus;
  readonly receivedAt: number;
}

/** The outcome of one status message. */
export type IngestOutcome =
  | { readonly accepted: true; readonly node: string; readonly first: boolean }
  | { readonly accepted: false; readonly reason: StatusRejection; readonly detail: string };

/**
 * The outcome of one heartbeat: the node's record it moved on (none before the node's first status), and
 * whether the node vouches for a status the fleet does not hold (`behind`: none, or an older one).
 */
export type HeartbeatOutcome =
  | {
      readonly accepted: true;
      readonly node: string;
      readonly record: NodeRecord | undefined;
      readonly behind: boolean;
    }
  | { readonly accepted: false; readonly reason: StatusRejection; readonly detail: string };

const heartbeatKind: MessageKind<Heartbeat> = {
  schema: HeartbeatSchema,
  subject: subjects.heartbeat,
  noun: 'heartbeat',
};

const HEARTBEAT_PREFIX = subjects.heartbeat('_').slice(0, -1);

/**
 * The newest status and heartbeat of every node, as the status and heartbeat streams bring them. No I/O:
 * the NATS side feeds it, the views read it.
 */
export class Fleet {
  private readonly records = new Map<string, NodeRecord>();
  private readonly pool = new ValuePool();
  /** Each node's last heartbeat, its time in epoch ms, and when it was stored. */
  private readonly beats = new Map<
    string,
    { readonly heartbeat: Heartbeat; readonly ms: number; readonly storedAt: number }
  >();

  /** Takes one message of `rhi.v1.status.<node>` stored at `now`. */
  ingest(subject: string, payload: unknown, now: number): IngestOutcome {
    const kept = this.records.get(nodeOf(subject));
    const verdict = judgeStatus(subject, payload, kept?.status);
    if (!verdict.ok) return { accepted: false, reason: verdict.reason, detail: verdict.detail };
    const { node } = verdict.status;
    const heard = Math.max(now, kept?.receivedAt ?? -Infinity, this.beats.get(node)?.storedAt ?? -Infinity);
    this.records.set(node, { status: this.shared(verdict.status, kept?.status), receivedAt: heard });
    return { accepted: true, node, first: kept === undefined };
  }

  /**
   * Takes one message of `rhi.v1.heartbeat.<node>` stored at `now`: the node was heard then. Heartbeats
   * are judged like statuses (schema, subject, newer than the last heartbeat); the streams of statuses and
   * heartbeats are read apart, so either may come first.
   */
  heartbeat(subject: string, payload: unknown, now: number): HeartbeatOutcome {
    const node = nodeOf(subject);
    const last = this.beats.get(node);
    const quick = quickHeartbeat(payload);
    let heartbeat: Heartbeat;
    let ms: number;
    if (quick && subject === HEARTBEAT_PREFIX + quick.heartbeat.node) {
      ({ heartbeat, ms } = quick);
      if (last && !(ms !== last.ms ? ms > last.ms : heartbeat.seq > last.heartbeat.seq)) {
        const { reason, detail } = stale(subject, heartbeat, last.heartbeat);
        return { accepted: false, reason, detail };
      }
    } else {
      const verdict = judgePublished(heartbeatKind, subject, payload, last?.heartbeat);
      if (!verdict.ok) return { accepted: false, reason: verdict.reason, detail: verdict.detail };
      heartbeat = verdict.value;
      ms = Date.parse(heartbeat.time);
    }
    this.beats.set(node, { heartbeat, ms, storedAt: now });
    const kept = this.records.get(node);
    const behind = !kept || (kept.status.seq !== heartbeat.seq && isNewer(heartbeat, kept.status));
    if (!kept || kept.receivedAt >= now) return { accepted: true, node, record: kept, behind };
    const record = { status: kept.status, receivedAt: now };
    this.records.set(node, record);
    return { accepted: true, node, record, behind };
  }

  /**
   * A new status (judged: its own object) with its parts shared with the statuses kept; a repeat of the
   * kept one already is.
   */
  private shared(status: NodeStatus, kept: NodeStatus | undefined): NodeStatus {
    if (kept && sameContent(kept, status)) return status;
    const parts = status as unknown as Record<string, unknown>;
    for (const key in parts) if (key !== 'time' && key !== 'seq') parts[key] = this.pool.share(parts[key]);
    return status;
  }

  get(node: string): NodeRecord | undefined {
    return this.records.get(node);
  }

  /** Every node, by name. */
  all(): NodeRecord[] {
    return [...this.records.values()].sort((a, b) => a.status.node.localeCompare(b.status.node));
  }

  get size(): number {
    return this.records.size;
  }
}
