import type { NodeStatus } from '@rhi/contracts';
import type { AgentSnapshot } from '../loop/ports.js';
import { type NodeIdentity, toNodeStatus } from './messages.js';
import { StatusEncoder } from './status-encoder.js';

/**
 * Numbers the statuses the agent hands out, on NATS and on `GET /status` alike, from one counter: every
 * status a reader gets has a higher `seq` than the ones before it, wherever it got them.
 */
export class NodeStatusStamper {
  private seq = 0;
  private readonly encoder = new StatusEncoder();

  constructor(
    readonly identity: NodeIdentity,
    private readonly now: () => number = Date.now,
  ) {}

  /** The status of `snapshot`, with the next sequence number and the time now. */
  next(snapshot: AgentSnapshot): NodeStatus {
    return toNodeStatus(this.identity, snapshot, this.seq++, this.now());
  }

  /** The same as {@link next}, as its JSON text, written at the cost of what changed since the last. */
  nextJson(snapshot: AgentSnapshot): { readonly seq: number; readonly json: string } {
    const seq = this.seq++;
    return { seq, json: this.encoder.encode(this.identity, snapshot, seq, this.now()) };
  }
}
