/** How patient the requests are. */
export interface StatusRequestOptions {
  /** How long a node must stay behind before it is asked: the streams are read apart, one may lag. */
  readonly graceMs: number;
  /** How long after asking a node it is asked again while it stays behind. */
  readonly retryMs: number;
}

/**
 * Which nodes to ask for their full status again: those whose heartbeats vouch, for longer than the grace,
 * for a status the view does not hold (one published before the status stream existed, or lost), each at
 * most once per `retryMs`. Pure (times given); one entry per node behind.
 */
export class StatusRequests {
  private readonly behindSince = new Map<string, number>();
  private readonly askedAt = new Map<string, number>();

  constructor(private readonly options: StatusRequestOptions) {}

  /** A heartbeat of `node` taken at `now`, `behind` or not: whether to ask the node now. */
  heartbeat(node: string, behind: boolean, now: number): boolean {
    if (!behind) {
      if (this.behindSince.size > 0) this.forget(node);
      return false;
    }
    const since = this.behindSince.get(node);
    if (since === undefined) {
      this.behindSince.set(node, now);
      return false;
    }
    if (now - since < this.options.graceMs) return false;
    const asked = this.askedAt.get(node);
    if (asked !== undefined && now - asked < this.options.retryMs) return false;
    this.askedAt.set(node, now);
    return true;
  }

  /** The node's status arrived: it is no longer behind. */
  status(node: string): void {
    this.forget(node);
  }

  /** Nodes behind now. */
  get size(): number {
    return this.behindSince.size;
  }

  private forget(node: string): void {
    this.behindSince.delete(node);
    this.askedAt.delete(node);
  }
}
