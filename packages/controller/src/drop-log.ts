/**
 * Rate-limits the log of dropped messages: the first drop of a kind is told at once, then at most one line
 * per `everyMs` with how many were dropped meanwhile. Pure (times given).
 */
export class DropLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly everyMs: number) {}

  /** Whether to log this drop now, and how many of its kind were not logged since the last line. */
  drop(kind: string, now: number): { log: boolean; suppressed: number } {
    const seen = this.last.get(kind);
    if (seen && now - seen.at < this.everyMs) {
      seen.suppressed++;
      return { log: false, suppressed: 0 };
    }
    this.last.set(kind, { at: now, suppressed: 0 });
    return { log: true, suppressed: seen?.suppressed ?? 0 };
  }
}
