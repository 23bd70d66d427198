import type { ZodType } from 'zod';

/** What a node publishes with a time and a seq (a status, a heartbeat, a health report). */
export interface Published {
  readonly node: string;
  readonly time: string;
  readonly seq: number;
}

/** Why a node's message was dropped. */
export type StatusRejection = 'schema' | 'subject' | 'stale';

/** A message dropped: why, with a line for the log. */
export interface Rejected {
  readonly ok: false;
  readonly reason: StatusRejection;
  readonly detail: string;
}

/** A message judged: the value to keep, or why it is dropped. */
export type Verdict<T> = { readonly ok: true; readonly value: T } | Rejected;

/** One kind of node message: its schema, its subject per node, and what the log calls it. */
export interface MessageKind<T extends Pick<Published, 'node'>> {
  readonly schema: ZodType<T>;
  readonly subject: (node: string) => string;
  readonly noun: string;
}

/**
 * Whether `a` was published after `b` by the same node: its time, then its seq. The seq restarts with the
 * agent; its clock does not go back, so a restarted agent's first message still wins over its last one.
 */
export function isNewer(a: Pick<Published, 'time' | 'seq'>, b: Pick<Published, 'time' | 'seq'>): boolean {
  const ta = Date.parse(a.time);
  const tb = Date.parse(b.time);
  return ta !== tb ? ta > tb : a.seq > b.seq;
}

/** The verdict on a message that is not newer than the one kept. */
export function stale(
  subject: string,
  got: Pick<Published, 'time' | 'seq'>,
  kept: Pick<Published, 'time' | 'seq'>,
): Rejected {
  return {
    ok: false,
    reason: 'stale',
    detail: `${subject}: seq ${got.seq} at ${got.time} is not newer than seq ${kept.seq} at ${kept.time}`,
  };
}

/**
 * Judges one message of a node's subject: it must pass the kind's schema, come from the node its subject
 * names, and be newer than the one kept for that node. Pure.
 */
export function judgePublished<T extends Published>(
  kind: MessageKind<T>,
  subject: string,
  payload: unknown,
  kept: T | undefined,
): Verdict<T> {
  const verdict = judgeFromNode(kind, subject, payload);
  if (verdict.ok && kept && !isNewer(verdict.value, kept)) return stale(subject, verdict.value, kept);
  return verdict;
}

/** Judges one message of a node's subject on its schema and its sender only (no order to check). Pure. */
export function judgeFromNode<T extends Pick<Published, 'node'>>(
  kind: MessageKind<T>,
  subject: string,
  payload: unknown,
): Verdict<T> {
  const parsed = kind.schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? issue.path.join('.') : '(message)';
    return { ok: false, reason: 'schema', detail: `${subject}: ${path}: ${issue?.message ?? 'invalid'}` };
  }
  const value = parsed.data;
  if (kind.subject(value.node) !== subject)
    return {
      ok: false,
      reason: 'subject',
      detail: `${subject}: the ${kind.noun} is from node '${value.node}', not from the node the subject names`,
    };
  return { ok: true, value };
}

/** The node a node subject names: its last token. */
export const nodeOf = (subject: string): string => subject.slice(subject.lastIndexOf('.') + 1);

const decoder = new TextDecoder();

/** A message's bytes as JSON; bytes that are not JSON come back as a string saying so, which no schema takes. */
export function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data));
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
}
