import {
  RuleSetAckSchema,
  RuleSetAssignmentSchema,
  subjects,
  type RuleSetAck,
  type RuleSetAssignment,
} from '@rhi/contracts';
import type { AlertCondition } from '../fleet/alerts.js';
import { judgeFromNode, nodeOf, type MessageKind } from '../fleet/judge.js';

export type { NodeRuleSetState, RuleSetSync } from '@rhi/contracts';
import type { NodeRuleSetState, RuleSetSync } from '@rhi/contracts';

/** An ack judged: kept, or why it is dropped. */
export type AckVerdict =
  | { readonly ok: true; readonly ack: RuleSetAck }
  | { readonly ok: false; readonly reason: 'schema' | 'subject' | 'stale'; readonly detail: string };

const ackKind: MessageKind<RuleSetAck> = {
  schema: RuleSetAckSchema,
  subject: subjects.ruleSetAck,
  noun: 'ack',
};

/** The node's last ack when it rejects the rule set assigned to it. */
function rejectionOf(b: Book): RuleSetAck | undefined {
  const a = b.assigned;
  const last = b.last;
  return a && last && last.result === 'rejected' && last.serial === a.serial && last.hash === a.hash
    ? last
    : undefined;
}

interface Book {
  assigned?: RuleSetAssignment;
  /** The newest ack (the acks stream keeps one per node: a replica started later knows no more). */
  last?: RuleSetAck;
}

/**
 * Every node's assignment and rule-set acks, as read from the rule-set bucket and the acks stream, and
 * the CSDS-like state they give with the serial a node's status says it runs. No I/O.
 */
export class RuleSetStates {
  private readonly books = new Map<string, Book>();
  /** Nodes whose last ack rejects their assignment, kept as acks and assignments come. */
  private readonly rejecting = new Set<string>();

  private book(node: string): Book {
    let b = this.books.get(node);
    if (!b) this.books.set(node, (b = {}));
    return b;
  }

  /**
   * Takes one message of `rhi.v1.ack.<node>`: it must pass the schema, come from the node its subject
   * names, and not be older than the node's last ack.
   */
  ingestAck(subject: string, payload: unknown): AckVerdict {
    const verdict = judgeFromNode(ackKind, subject, payload);
    if (!verdict.ok) return verdict;
    const ack = verdict.value;
    const b = this.book(nodeOf(subject));
    if (b.last && Date.parse(ack.time) < Date.parse(b.last.time))
      return {
        ok: false,
        reason: 'stale',
        detail: `${subject}: ack of ${ack.time} is older than the one kept (${b.last.time})`,
      };
    b.last = ack;
    this.recheck(ack.node, b);
    return { ok: true, ack };
  }

  /** Takes a node's assignment as the bucket holds it (null: the key was deleted). */
  assign(node: string, assignment: RuleSetAssignment | null): void {
    const b = this.book(node);
    if (assignment) b.assigned = assignment;
    else delete b.assigned;
    this.recheck(node, b);
  }

  private recheck(node: string, b: Book): void {
    if (rejectionOf(b)) this.rejecting.add(node);
    else this.rejecting.delete(node);
  }

  /**
   * A `ruleSetRejected` alert condition per node that rejected its assignment: it holds until the node is
   * assigned another rule set or acks this one applied.
   */
  rejections(): AlertCondition[] {
    const out: AlertCondition[] = [];
    for (const node of this.rejecting) {
      const r = rejectionOf(this.books.get(node)!)!;
      out.push({
        kind: 'ruleSetRejected',
        subject: node,
        message: `${node} rejected its assigned rule set, serial ${r.serial}${r.code ? ` (${r.code})` : ''}: ${r.reason ?? 'rejected'}; it keeps its last good one`,
      });
    }
    return out;
  }

  /**
   * Takes the value of an `assign.<node>` key; returns why it is not an assignment of that node, or
   * null when it was taken.
   */
  assignFromBucket(node: string, value: unknown): string | null {
    const parsed = RuleSetAssignmentSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return `assign.${node}: ${issue?.path.join('.') || '(value)'}: ${issue?.message ?? 'invalid'}`;
    }
    if (parsed.data.node !== node) return `assign.${node}: the assignment is for node '${parsed.data.node}'`;
    this.assign(node, parsed.data);
    return null;
  }

  /** The node's last ack, if any. */
  lastAck(node: string): RuleSetAck | undefined {
    return this.books.get(node)?.last;
  }

  /** The state of `node`, given what its last status says it runs (null: no status). */
  stateOf(node: string, active: { readonly serial: number; readonly hash: string } | null): NodeRuleSetState {
    const b = this.books.get(node) ?? {};
    const a = b.assigned;
    const assigned = a ? { serial: a.serial, hash: a.hash, rollout: a.rollout } : null;
    const rejected = rejectionOf(b);
    const error = rejected
      ? {
          serial: rejected.serial,
          hash: rejected.hash,
          code: rejected.code ?? null,
          reason: rejected.reason ?? 'rejected',
          at: rejected.time,
        }
      : null;
    const sync: RuleSetSync = !a
      ? 'unassigned'
      : error
        ? 'error'
        : active && active.serial === a.serial && active.hash === a.hash
          ? 'synced'
          : 'pending';
    return {
      sync,
      assigned,
      active: active ? { serial: active.serial, hash: active.hash } : null,
      error,
    };
  }
}
