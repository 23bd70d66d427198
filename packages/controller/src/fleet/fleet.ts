import { HeartbeatSchema, subjects, type Heartbeat, type NodeStatus } from '@rhi/contracts';
import { judgeStatus, sameContent, type StatusRejection } from './ingest.js';
import { judgePublished, nodeOf, parseJson, stale, type MessageKind } from './judge.js';
import { quickHeartbeat } from './quick-heartbeat.js';
import { sameJson } from './same-json.js';
import { ValuePool } from './value-pool.js';

/**
 * What the controller knows of one node: its newest status and when the node was last heard (the time its
 * newest status or heartbeat was stored), which its liveness is judged by. A new status makes a new record;
 * a heartbeat moves `receivedAt` of the record held on, in place (read-only to everyone else).
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
      /** The heartbeat's time, in epoch ms. */
      readonly ms: number;
    }
  | { readonly accepted: false; readonly reason: StatusRejection; readonly detail: string };

const heartbeatKind: MessageKind<Heartbeat> = {
  schema: HeartbeatSchema,
  subject: subjects.heartbeat,
  noun: 'heartbeat',
};

const HEARTBEAT_PREFIX = subjects.heartbeat('_').slice(0, -1);

/** One node's record (moved on in place by its heartbeats) and last heartbeat (its seq, time in ms, when stored). */
interface Slot {
  record: { readonly status: NodeStatus; receivedAt: number } | undefined;
  beat: { seq: number; ms: number; storedAt: number } | undefined;
}

/** Whether a message of time `ms` and `seq` is newer than `kept`, as `isNewer` judges it, with its time parsed already. */
function publishedAfter(
  ms: number,
  seq: number,
  kept: { readonly time: string; readonly seq: number },
): boolean {
  const keptMs = Date.parse(kept.time);
  return ms !== keptMs ? ms > keptMs : seq > kept.seq;
}

/** The last heartbeat as a message again, for the judge and the log: its time is the same instant. */
const beatOf = (node: string, beat: { readonly seq: number; readonly ms: number }): Heartbeat => ({
  schema: 'rhi.v1.heartbeat',
  node,
  time: new Date(beat.ms).toISOString(),
  seq: beat.seq,
});

/**
 * The newest status and heartbeat of every node, as the status and heartbeat streams bring them. No I/O:
 * the NATS side feeds it, the views read it.
 */
export class Fleet {
  /** Every node heard of, status or heartbeat first; one map, so that a heartbeat costs one lookup. */
  private readonly slots = new Map<string, Slot>();
  /** The nodes with a status, as many as `slots` holding a record. */
  private count = 0;
  private readonly pool = new ValuePool();

  /** Takes one message of `rhi.v1.status.<node>` stored at `now`. */
  ingest(subject: string, payload: unknown, now: number): IngestOutcome {
    const slot = this.slots.get(nodeOf(subject));
    const kept = slot?.record;
    const verdict = judgeStatus(subject, payload, kept?.status);
    if (!verdict.ok) return { accepted: false, reason: verdict.reason, detail: verdict.detail };
    const { node } = verdict.status;
    const heard = Math.max(now, kept?.receivedAt ?? -Infinity, slot?.beat?.storedAt ?? -Infinity);
    // A new record (the view compares it with the one before); heartbeats then move it on in place.
    const record = { status: this.shared(verdict.status, kept?.status), receivedAt: heard };
    if (slot) slot.record = record;
    else this.slots.set(node, { record, beat: undefined });
    if (!kept) this.count++;
    return { accepted: true, node, first: kept === undefined };
  }

  /**
   * Takes one message of `rhi.v1.heartbeat.<node>` stored at `now`: the node was heard then. `payload` is
   * the message's bytes (read fastest when they are what agents write: {@link quickHeartbeat}) or its
   * parsed JSON. Heartbeats are judged like statuses (schema, subject, newer than the last heartbeat); the
   * streams of statuses and heartbeats are read apart, so either may come first. Allocates nothing that
   * outlives the call but its outcome: the fleet's heartbeats come by the thousand a second, and what they
   * leave stays young.
   */
  heartbeat(subject: string, payload: unknown, now: number): HeartbeatOutcome {
    const node = nodeOf(subject);
    const slot = this.slots.get(node);
    const last = slot?.beat;
    const bytes = payload instanceof Uint8Array ? payload : undefined;
    const quick =
      bytes &&
      subject.length === HEARTBEAT_PREFIX.length + node.length &&
      subject.startsWith(HEARTBEAT_PREFIX)
        ? quickHeartbeat(bytes, node)
        : undefined;
    let seq: number;
    let ms: number;
    if (quick) {
      ({ seq, ms } = quick);
      if (last && !(ms !== last.ms ? ms > last.ms : seq > last.seq)) {
        const { reason, detail } = stale(subject, beatOf(node, quick), beatOf(node, last));
        return { accepted: false, reason, detail };
      }
    } else {
      const message = bytes ? parseJson(bytes) : payload;
      const verdict = judgePublished(heartbeatKind, subject, message, last && beatOf(node, last));
      if (!verdict.ok) return { accepted: false, reason: verdict.reason, detail: verdict.detail };
      seq = verdict.value.seq;
      ms = Date.parse(verdict.value.time);
    }
    if (!slot) {
      this.slots.set(node, { record: undefined, beat: { seq, ms, storedAt: now } });
      return { accepted: true, node, record: undefined, behind: true, ms };
    }
    if (last) {
      last.seq = seq;
      last.ms = ms;
      last.storedAt = now;
    } else slot.beat = { seq, ms, storedAt: now };
    const record = slot.record;
    if (!record) return { accepted: true, node, record, behind: true, ms };
    const { status } = record;
    const behind = status.seq !== seq && publishedAfter(ms, seq, status);
    if (record.receivedAt < now) record.receivedAt = now;
    return { accepted: true, node, record, behind, ms };
  }

  /**
   * A new status (judged: its own object) with its parts shared with the statuses kept; a repeat of the
   * kept one already is.
   */
  private shared(status: NodeStatus, kept: NodeStatus | undefined): NodeStatus {
    if (kept && sameContent(kept, status)) return status;
    const parts = status as unknown as Record<string, unknown>;
    const before = kept as unknown as Record<string, unknown> | undefined;
    for (const key in parts)
      if (key !== 'time' && key !== 'seq') parts[key] = this.sharePart(parts[key], before?.[key]);
    return status;
  }

  /**
   * A part of a new status, shared: the kept status's own part where equal (a status that changed
   * mostly did in one route: comparing is much cheaper than sharing anew), else the pool's.
   */
  private sharePart(part: unknown, kept: unknown): unknown {
    if (sameJson(part, kept)) return kept;
    if (!Array.isArray(part) || !Array.isArray(kept)) return this.pool.share(part);
    for (let i = 0; i < part.length; i++)
      part[i] = i < kept.length && sameJson(part[i], kept[i]) ? kept[i] : this.pool.share(part[i]);
    return this.pool.share(part);
  }

  get(node: string): NodeRecord | undefined {
    return this.slots.get(node)?.record;
  }

  /** Every node, by name. */
  all(): NodeRecord[] {
    const records: NodeRecord[] = [];
    for (const { record } of this.slots.values()) if (record) records.push(record);
    return records.sort((a, b) => a.status.node.localeCompare(b.status.node));
  }

  get size(): number {
    return this.count;
  }
}
