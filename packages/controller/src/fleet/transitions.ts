/** Route transitions per node in a sliding window: what makes a node flapping. Pure (times given). */
export class TransitionWindow {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly windowMs: number) {}

  add(node: string, at: number): void {
    const list = this.times.get(node) ?? [];
    list.push(at);
    this.times.set(node, list);
  }

  /** Per node, the transitions within the window ending at `now` (nodes with none are left out). */
  counts(now: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [node, list] of this.times) {
      const kept = list.filter((t) => t > now - this.windowMs);
      if (kept.length === 0) this.times.delete(node);
      else {
        this.times.set(node, kept);
        out.set(node, kept.length);
      }
    }
    return out;
  }
}
