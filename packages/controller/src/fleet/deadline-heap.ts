/** A min-heap of (deadline, name): what turns lost next. Pure. */
export class DeadlineHeap {
  private readonly keys: number[] = [];
  private readonly names: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(key: number, name: string): void {
    let i = this.keys.length;
    this.keys.push(key);
    this.names.push(name);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent]! <= key) break;
      this.keys[i] = this.keys[parent]!;
      this.names[i] = this.names[parent]!;
      i = parent;
    }
    this.keys[i] = key;
    this.names[i] = name;
  }

  /** The smallest deadline, or undefined when empty. */
  peek(): number | undefined {
    return this.keys[0];
  }

  /** Takes out the entry with the smallest deadline. */
  pop(): { key: number; name: string } | undefined {
    const n = this.keys.length;
    if (n === 0) return undefined;
    const top = { key: this.keys[0]!, name: this.names[0]! };
    const key = this.keys.pop()!;
    const name = this.names.pop()!;
    if (n > 1) {
      let i = 0;
      const last = n - 1;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const r = l + 1;
        const c = r < last && this.keys[r]! < this.keys[l]! ? r : l;
        if (this.keys[c]! >= key) break;
        this.keys[i] = this.keys[c]!;
        this.names[i] = this.names[c]!;
        i = c;
      }
      this.keys[i] = key;
      this.names[i] = name;
    }
    return top;
  }
}
