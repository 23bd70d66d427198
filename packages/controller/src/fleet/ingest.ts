import { NodeStatusSchema, subjects } from '@rhi/contracts';
import type { NodeStatus } from '@rhi/contracts';

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
export function isNewer(a: NodeStatus, b: NodeStatus): boolean {
  const ta = Date.parse(a.time);
  const tb = Date.parse(b.time);
  return ta !== tb ? ta > tb : a.seq > b.seq;
}

/**
 * Judges one message of `rhi.v1.status.<node>`: it must pass the schema, come from the node its subject
 * names, and be newer than the status kept for that node. Pure.
 */
export function judgeStatus(subject: string, payload: unknown, kept: NodeStatus | undefined): StatusVerdict {
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
