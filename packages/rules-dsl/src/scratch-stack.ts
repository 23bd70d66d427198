/**
 * A stack for gathering lists whose final size is not known in advance (the arguments of a term, the routes
 * of a rule), reused for every list of a parse or evaluation. Lists are copied out with {@link popFrom},
 * which sizes them exactly: an array grown by push() from empty keeps room for 16 elements, and the lists
 * are kept in the result. The storage is kept between lists, since truncating an array to length 0 would
 * free it and the next push would allocate again.
 */
export class ScratchStack<T> {
  private readonly items: T[] = [];
  /** The number of items on the stack; nested lists start at the current size and pop back to it. */
  size = 0;

  push(item: T): void {
    this.items[this.size++] = item;
  }

  /** Removes the top item and returns it. */
  pop(): T | undefined {
    return this.size > 0 ? this.items[--this.size] : undefined;
  }

  /** The item at `index` (below {@link size}). */
  at(index: number): T | undefined {
    return index < this.size ? this.items[index] : undefined;
  }

  /** Removes the items from `base` up and returns them as an exactly sized array. */
  popFrom(base: number): T[] {
    const { items } = this;
    const size = this.size;
    this.size = base;
    // Literals for the usual short lists: they are allocated inline, where slice() is a call into the runtime.
    switch (size - base) {
      case 0:
        return [];
      case 1:
        return [items[base] as T];
      case 2:
        return [items[base] as T, items[base + 1] as T];
      case 3:
        return [items[base] as T, items[base + 1] as T, items[base + 2] as T];
      default:
        return items.slice(base, size);
    }
  }

  /** Empties the stack (after an error left a list half read). */
  clear(): void {
    this.size = 0;
  }
}
