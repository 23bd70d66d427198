/** One entry of the event timeline (a route transition, an alert opening or closing), as stored. */
export interface TimelineEntry {
  /** The stream sequence: a stable id across replicas. */
  readonly seq: number;
  /** When it was stored (ISO). */
  readonly time: string;
  readonly subject: string;
  readonly event: unknown;
}

/** A timeline query: all given conditions hold for each entry returned, oldest first, at most `limit`. */
export interface TimelineQuery {
  readonly node?: string;
  /** A route id (`table%prefix`). */
  readonly vip?: string;
  readonly since?: number;
  readonly until?: number;
  readonly limit: number;
}

/** The event timeline (JetStream). */
export interface Timeline {
  query(q: TimelineQuery): Promise<{ entries: TimelineEntry[]; truncated: boolean }>;
}

/** Whether the controller can reach NATS now, and why not. */
export interface NatsHealth {
  readonly up: boolean;
  readonly reason?: string;
}
