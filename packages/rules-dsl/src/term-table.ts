import type { ProxyTerm } from './ast.js';

/** The terms of one proxy name met in a parse: the plain term and those with a threshold. */
export interface ProxyEntry {
  /** Its index in the list the table was given. */
  readonly index: number;
  readonly side: ProxyTerm['side'];
  readonly name: string;
  plain?: ProxyTerm;
  /** Terms with a threshold, in the order met (a name has few). */
  thresholds?: ProxyTerm[];
}

/**
 * The proxy names of a parse, found by their text in the source: a file names the same few proxies over
 * and over, and a term is immutable, so each distinct term is made once and shared. A name is looked up
 * by a hash the scanner computes as it reads it, then compared in place, which spares a string per
 * occurrence (a Map would need the name cut out first). Open addressing over a typed array of hashes and
 * a plain array of entries, grown at three quarters full.
 */
export class TermTable {
  private hashes = new Int32Array(256);
  private entries: (ProxyEntry | undefined)[] = new Array<ProxyEntry | undefined>(256).fill(undefined);
  private count = 0;

  constructor(
    /** Where new entries are added, in the order met. */
    private readonly list: ProxyEntry[],
  ) {}

  /** The hash of an empty name; {@link step} adds a character code. */
  static readonly seed = 0x811c9dc5 | 0;
  static step(hash: number, code: number): number {
    return Math.imul(hash ^ code, 0x01000193);
  }

  /** The key of a hashed name on one side; never 0, which marks a free slot. */
  private static key(side: ProxyTerm['side'], nameHash: number): number {
    return (nameHash ^ (side === 'backend' ? 0x5bd1e995 : 0x1b873593)) | 1;
  }

  /**
   * The entry of the name at `text[start, end)` (whose hash is `nameHash`) on `side`, made on first
   * sight.
   */
  entry(text: string, start: number, end: number, nameHash: number, side: ProxyTerm['side']): ProxyEntry {
    const key = TermTable.key(side, nameHash);
    const mask = this.hashes.length - 1;
    let slot = key & mask;
    for (; this.hashes[slot] !== 0; slot = (slot + 1) & mask) {
      if (this.hashes[slot] !== key) continue;
      const entry = this.entries[slot] as ProxyEntry;
      if (entry.side === side && entry.name.length === end - start && text.startsWith(entry.name, start)) {
        return entry;
      }
    }
    const entry: ProxyEntry = { index: this.list.length, side, name: text.slice(start, end) };
    this.list.push(entry);
    this.hashes[slot] = key;
    this.entries[slot] = entry;
    if (4 * ++this.count > 3 * this.hashes.length) this.grow();
    return entry;
  }

  private grow(): void {
    const { hashes, entries } = this;
    this.hashes = new Int32Array(hashes.length * 2);
    this.entries = new Array<ProxyEntry | undefined>(hashes.length * 2).fill(undefined);
    const mask = this.hashes.length - 1;
    for (let i = 0; i < hashes.length; i++) {
      const key = hashes[i] as number;
      if (key === 0) continue;
      let slot = key & mask;
      while (this.hashes[slot] !== 0) slot = (slot + 1) & mask;
      this.hashes[slot] = key;
      this.entries[slot] = entries[i];
    }
  }
}
