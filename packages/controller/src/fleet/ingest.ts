import { NodeStatusSchema, subjects } from '@rhi/contracts';
import type { NodeStatus } from '@rhi/contracts';
import { isNewer, judgePublished, stale, type MessageKind, type StatusRejection } from './judge.js';
import { sameJson } from './same-json.js';

export { isNewer, type StatusRejection } from './judge.js';

/** A status message judged: the status to keep, or why it is dropped (with a line for the log). */
export type StatusVerdict =
  | { readonly ok: true; readonly status: NodeStatus }
  | { readonly ok: false; readonly reason: StatusRejection; readonly detail: string };

const statusKind: MessageKind<NodeStatus> = {
  schema: NodeStatusSchema,
  subject: subjects.status,
  noun: 'status',
};

/**
 * Judges one message of `rhi.v1.status.<node>`: it must pass the schema, come from the node its subject
 * names, and be newer than the status kept for that node. Pure.
 */
export function judgeStatus(subject: string, payload: unknown, kept: NodeStatus | undefined): StatusVerdict {
  const repeat = kept && judgeRepeat(subject, payload, kept);
  if (repeat) return repeat;
  const verdict = judgePublished(statusKind, subject, payload, kept);
  return verdict.ok ? { ok: true, status: verdict.value } : verdict;
}

const TIME_AND_SEQ = new Set(['time', 'seq']);
const { time: timeSchema, seq: seqSchema } = NodeStatusSchema.shape;

/**
 * A repeat: the kept status again with only its time and seq new (a refresh, a reconnect). Judged without
 * the whole schema (the rest equals what passed it), and kept as the same values but for time and seq,
 * which is what {@link sameContent} sees. Undefined when the payload is more than a repeat.
 */
function judgeRepeat(subject: string, payload: unknown, kept: NodeStatus): StatusVerdict | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  if (subjects.status(kept.node) !== subject || !sameJson(payload, kept, TIME_AND_SEQ)) return undefined;
  const { time, seq } = payload as { time?: unknown; seq?: unknown };
  const t = timeSchema.safeParse(time);
  const s = seqSchema.safeParse(seq);
  if (!t.success || !s.success) return undefined;
  const status: NodeStatus = { ...kept, time: t.data, seq: s.data };
  if (!isNewer(status, kept)) return stale(subject, status, kept);
  return { ok: true, status };
}

/**
 * Whether `after`, judged after `before`, says the same but for its time and seq: a repeat. O(1): a
 * repeat keeps the values of the status before it (see {@link judgeStatus}).
 */
export function sameContent(before: NodeStatus, after: NodeStatus): boolean {
  for (const key in after)
    if (key !== 'time' && key !== 'seq' && after[key as keyof NodeStatus] !== before[key as keyof NodeStatus])
      return false;
  return Object.keys(before).length === Object.keys(after).length;
}
