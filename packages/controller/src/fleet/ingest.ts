import { NodeStatusSchema, subjects } from '@rhi/contracts';
import type { NodeStatus } from '@rhi/contracts';
import { sameJson } from './same-json.js';

/** What a node publishes with a time and a seq (a status, a health report). */
export interface Published {
  readonly time: string;
  readonly seq: number;
}

/** Why a status message was dropped. */
export type StatusRejection = 'schema' | 'subject' | 'stale';

/** A status message judged: the status to keep, or why it is dropped (with a line for the log). */
export type StatusVerdict =
  | { readonly ok: true; readonly status: NodeStatus }
  | { readonly ok: false; readonly reason: StatusRejection; readonly detail: string };

/**
 * Whether `a` was published after `b` by the same node: its time, then its seq. The seq restarts with the
 * agent; its clock does not go back, so a restarted agent's first status still wins over its last one.
 */
export function isNewer(a: Published, b: Published): boolean {
  const ta = Date.parse(a.time);
  const tb = Date.parse(b.time);
  return ta !== tb ? ta > tb : a.seq > b.seq;
}

/**
 * Judges one message of `rhi.v1.status.<node>`: it must pass the schema, come from the node its subject
 * names, and be newer than the status kept for that node. Pure.
 */
export function judgeStatus(subject: string, payload: unknown, kept: NodeStatus | undefined): StatusVerdict {
  const heartbeat = kept && judgeHeartbeat(subject, payload, kept);
  if (heartbeat) return heartbeat;
  const parsed = NodeStatusSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? issue.path.join('.') : '(message)';
    return { ok: false, reason: 'schema', detail: `${subject}: ${path}: ${issue?.message ?? 'invalid'}` };
  }
  const status = parsed.data;
  if (subjects.status(status.node) !== subject)
    return {
      ok: false,
      reason: 'subject',
      detail: `${subject}: the status is from node '${status.node}', not from the node the subject names`,
    };
  if (kept && !isNewer(status, kept))
    return {
      ok: false,
      reason: 'stale',
      detail: `${subject}: seq ${status.seq} at ${status.time} is not newer than seq ${kept.seq} at ${kept.time}`,
    };
  return { ok: true, status };
}

const TIME_AND_SEQ = new Set(['time', 'seq']);
const { time: timeSchema, seq: seqSchema } = NodeStatusSchema.shape;

/**
 * A heartbeat: the kept status again with only its time and seq new. Judged without the whole schema (the
 * rest equals what passed it), and kept as the same values but for time and seq, which is what
 * {@link sameContent} sees. Undefined when the payload is more than a heartbeat.
 */
function judgeHeartbeat(subject: string, payload: unknown, kept: NodeStatus): StatusVerdict | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  if (subjects.status(kept.node) !== subject || !sameJson(payload, kept, TIME_AND_SEQ)) return undefined;
  const { time, seq } = payload as { time?: unknown; seq?: unknown };
  const t = timeSchema.safeParse(time);
  const s = seqSchema.safeParse(seq);
  if (!t.success || !s.success) return undefined;
  const status: NodeStatus = { ...kept, time: t.data, seq: s.data };
  if (!isNewer(status, kept))
    return {
      ok: false,
      reason: 'stale',
      detail: `${subject}: seq ${status.seq} at ${status.time} is not newer than seq ${kept.seq} at ${kept.time}`,
    };
  return { ok: true, status };
}

/**
 * Whether `after`, judged after `before`, says the same but for its time and seq: a heartbeat. O(1): a
 * heartbeat keeps the values of the status before it (see {@link judgeStatus}).
 */
export function sameContent(before: NodeStatus, after: NodeStatus): boolean {
  for (const key in after)
    if (key !== 'time' && key !== 'seq' && after[key as keyof NodeStatus] !== before[key as keyof NodeStatus])
      return false;
  return Object.keys(before).length === Object.keys(after).length;
}
