/** Number of maps each kind of key is spread over. */
const CHUNKS = 64;

/**
 * The routes of one table seen so far in a parse, each with the offset in the file where it was listed:
 * the duplicate check. IPv4 prefixes (almost every route) are keyed by their address and length, so that
 * their text is never hashed; other prefixes by their canonical text.
 *
 * Keys are spread over many small tables instead of one large one: a map of ten thousand entries has a
 * backing store past V8's large-object size (128 KB), which is taken fresh from the operating system on
 * every parse, and its page faults cost more than the whole duplicate check (2.5 ms against 0.4 ms for
 * 10,000 routes on the development VM). The IPv4 tables are typed arrays (open addressing over triples
 * of address, length + 1 and offset; a length of 0 marks a free slot), outside V8's heap.
 */
export class RouteIndex {
  private readonly ipv4 = new Array<Int32Array | undefined>(CHUNKS);
  private readonly ipv4Counts = new Array<number>(CHUNKS).fill(0);
  private readonly other = new Array<Map<string, number> | undefined>(CHUNKS);

  constructor(
    /** The table's name: one string shared by the table's routes. */
    readonly name: string,
    /** Its index in the program's tables. */
    readonly index: number,
  ) {}

  /** The offset that listed the IPv4 prefix `address/length` first; records `offset` if none did. */
  claimIPv4(address: number, length: number, offset: number): number | undefined {
    const key = address | 0;
    const hash = Math.imul(key ^ (length << 24), 0x9e3779b1);
    const chunk = hash >>> 26;
    let table = this.ipv4[chunk];
    if (!table) {
      table = new Int32Array(3 * 64);
      this.ipv4[chunk] = table;
    }
    const mask = table.length / 3 - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = 3 * slot;
      if (table[at + 1] === 0) {
        table[at] = key;
        table[at + 1] = length + 1;
        table[at + 2] = offset;
        const count = (this.ipv4Counts[chunk] ?? 0) + 1;
        this.ipv4Counts[chunk] = count;
        if (2 * count > mask + 1) this.grow(chunk, table);
        return undefined;
      }
      if (table[at] === key && table[at + 1] === length + 1) return table[at + 2];
    }
  }

  private grow(chunk: number, table: Int32Array): void {
    const grown = new Int32Array(2 * table.length);
    const mask = grown.length / 3 - 1;
    for (let at = 0; at < table.length; at += 3) {
      const length = (table[at + 1] ?? 0) - 1;
      if (length < 0) continue;
      const key = table[at] ?? 0;
      let slot = Math.imul(key ^ (length << 24), 0x9e3779b1) & mask;
      while (grown[3 * slot + 1] !== 0) slot = (slot + 1) & mask;
      grown[3 * slot] = key;
      grown[3 * slot + 1] = length + 1;
      grown[3 * slot + 2] = table[at + 2] ?? 0;
    }
    this.ipv4[chunk] = grown;
  }
  /** The offset that listed the prefix (canonical text) first; records `offset` if none did. */
  claim(prefix: string, offset: number): number | undefined {
    let hash = 0;
    for (let i = 0; i < prefix.length; i++) hash = (hash * 31 + prefix.charCodeAt(i)) | 0;
    const chunk = hash & (CHUNKS - 1);
    let map = this.other[chunk];
    if (!map) {
      map = new Map();
      this.other[chunk] = map;
    }
    const previous = map.get(prefix);
    if (previous === undefined) map.set(prefix, offset);
    return previous;
  }
}
