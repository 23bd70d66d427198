import type { NodeStatus } from '@rhi/contracts';
import { judgeStatus, type StatusRejection } from './ingest.js';

/** What the controller knows of one node: its newest status and when it arrived (the controller's clock). */
export interface NodeRecord {
  readonly status: NodeStatus;
  readonly receivedAt: number;
}

/** The outcome of one status message. */
export type IngestOutcome =
  | { readonly accepted: true; readonly node: string; readonly first: boolean }
  | { readonly accepted: false; readonly reason: StatusRejection; readonly detail: string };

/**
 * The newest status of every node, as the status messages and the status bucket bring them. No I/O: the
 * NATS side feeds it, the views read it.
 */
export class Fleet {
  private readonly records = new Map<string, NodeRecord>();

  /** Takes one message of `rhi.v1.status.<node>` (or a status bucket entry) received at `now`. */
  ingest(subject: string, payload: unknown, now: number): IngestOutcome {
    const verdict = judgeStatus(subject, payload, this.peekStatus(subject));
    if (!verdict.ok) return { accepted: false, reason: verdict.reason, detail: verdict.detail };
    const first = !this.records.has(verdict.status.node);
    this.records.set(verdict.status.node, { status: verdict.status, receivedAt: now });
    return { accepted: true, node: verdict.status.node, first };
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

  /** The status kept for the node a status subject names (the subject's last token). */
  private peekStatus(subject: string): NodeStatus | undefined {
    return this.records.get(subject.slice(subject.lastIndexOf('.') + 1))?.status;
  }
}
