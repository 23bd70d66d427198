/**
 * Shares equal parts between the statuses the controller keeps: every string, and every object or array
 * whose content another kept status already has, is replaced by that one's. A fleet's statuses say the
 * same things thousands of times (explanation trees, labels, rule sets, reasons): about half the memory
 * of 10,000 nodes' routes goes (bench/results.json). An object's key is made of its children's ids once
 * they are shared, so a status costs time in proportion to its size, not its depth. The values must not be
 * changed afterwards (the view never does). Bounded: past `limit` entries it starts again (values shared
 * before stay so).
 */
export class ValuePool {
  private strings = new Map<string, string>();
  private values = new Map<string, object>();
  private ids = new Map<object, number>();
  /** Property names as they stand in a key (quoted): few, and asked for every time. */
  private readonly names = new Map<string, string>();

  constructor(private readonly limit = 200_000) {}

  /** `value` with its parts shared; objects and arrays are changed in place (their children). */
  share<T>(value: T): T {
    if (this.strings.size + this.values.size > this.limit) {
      this.strings = new Map();
      this.values = new Map();
      this.ids = new Map();
    }
    return this.shareValue(value) as T;
  }

  private shareValue(value: unknown): unknown {
    if (typeof value === 'string') {
      const kept = this.strings.get(value);
      if (kept !== undefined) return kept;
      this.strings.set(value, value);
      return value;
    }
    if (value === null || typeof value !== 'object') return value;
    if (this.ids.has(value)) return value;
    let key: string;
    if (Array.isArray(value)) {
      key = '[';
      for (let i = 0; i < value.length; i++) key += `${this.keyOf((value[i] = this.shareValue(value[i])))},`;
    } else {
      const record = value as Record<string, unknown>;
      key = '{';
      for (const k in record)
        key += `${this.nameOf(k)}:${this.keyOf((record[k] = this.shareValue(record[k])))},`;
    }
    const kept = this.values.get(key);
    if (kept !== undefined) return kept;
    this.values.set(key, value);
    this.ids.set(value, this.ids.size);
    return value;
  }

  private nameOf(name: string): string {
    let quoted = this.names.get(name);
    if (quoted === undefined) {
      quoted = JSON.stringify(name);
      if (this.names.size < 10_000) this.names.set(name, quoted);
    }
    return quoted;
  }

  /** A shared value's part of its parent's key. */
  private keyOf(shared: unknown): string {
    if (typeof shared === 'string') return JSON.stringify(shared);
    if (shared === null || typeof shared !== 'object') return String(shared);
    return `#${this.ids.get(shared)}`;
  }
}
