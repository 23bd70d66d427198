import type { Rule } from './ast.js';
import type { RuleLocation, SourceItem } from './parser.js';

/** The comment offsets of an item that has no comment. */
export const NO_COMMENT = -1;
const COMMENT = -1;
const INVALID_RULE = -2;
/** Numbers stored per item: line, end line, rule index (or COMMENT / INVALID_RULE), column, comment start and end. */
const STRIDE = 6;

/** Items per chunk of numbers: 16 KB chunks. */
const CHUNK_ITEMS = 682;

/**
 * Where the rules and comments of a file are, kept as numbers while parsing. The objects of
 * `ParseResult.locations` and `ParseResult.items` are built from it on first access: most callers never
 * read them, and two small objects per rule that outlive the parse were a large part of its garbage
 * collection time. The numbers go into small typed arrays, filled one after the other: outside V8's heap,
 * they are never copied by a garbage collection, and being small they reuse memory the allocator already
 * has (one typed array for the whole file, 240 KB for 10,000 lines, was taken fresh from the operating
 * system on every parse, and its page faults alone cost about 1 ms on the development VM).
 */
export class SourceIndex {
  private readonly chunks: Int32Array[] = [];
  private chunk = new Int32Array(0);
  /** Numbers stored so far (STRIDE per item). */
  private length = 0;
  private rules = 0;
  private readonly innerComments = new Map<number, readonly string[]>();

  constructor(private readonly text: string) {}

  /** A whole-line comment from offset `start` to `end`. */
  addComment(line: number, start: number, end: number): void {
    this.add(line, line, COMMENT, 0, start, end);
  }

  /**
   * The next rule of the rule set, from `line`/`column` to `endLine`, with an optional trailing comment
   * from offset `commentStart` to `commentEnd` ({@link NO_COMMENT} when there is none) and the comments
   * from inside it.
   */
  addRule(
    line: number,
    column: number,
    endLine: number,
    commentStart: number,
    commentEnd: number,
    innerComments: readonly string[] | undefined,
  ): void {
    if (innerComments) this.innerComments.set(this.length, innerComments);
    this.add(line, endLine, this.rules++, column, commentStart, commentEnd);
  }

  /** A rule with errors (it is not in the rule set). */
  addInvalidRule(line: number, endLine: number): void {
    this.add(line, endLine, INVALID_RULE, 0, NO_COMMENT, NO_COMMENT);
  }

  private add(line: number, endLine: number, ref: number, column: number, start: number, end: number): void {
    let chunk = this.chunk;
    if (this.length % (CHUNK_ITEMS * STRIDE) === 0) {
      chunk = new Int32Array(CHUNK_ITEMS * STRIDE);
      this.chunks.push(chunk);
      this.chunk = chunk;
    }
    const at = this.length % (CHUNK_ITEMS * STRIDE);
    chunk[at] = line;
    chunk[at + 1] = endLine;
    chunk[at + 2] = ref;
    chunk[at + 3] = column;
    chunk[at + 4] = start;
    chunk[at + 5] = end;
    this.length += STRIDE;
  }

  /** The `field`-th number of the item that starts at `at`. */
  private get(at: number, field: number): number {
    return this.chunks[Math.floor(at / (CHUNK_ITEMS * STRIDE))]?.[(at % (CHUNK_ITEMS * STRIDE)) + field] ?? 0;
  }

  locations(): RuleLocation[] {
    const locations: RuleLocation[] = [];
    for (let at = 0; at < this.length; at += STRIDE) {
      if (this.get(at, 2) >= 0) locations.push({ line: this.get(at, 0), column: this.get(at, 3) });
    }
    return locations;
  }

  items(rules: readonly Rule[]): SourceItem[] {
    const items: SourceItem[] = [];
    for (let at = 0; at < this.length; at += STRIDE) {
      const line = this.get(at, 0);
      const endLine = this.get(at, 1);
      const ref = this.get(at, 2);
      const start = this.get(at, 4);
      const end = this.get(at, 5);
      const rule = rules[ref];
      if (ref === COMMENT) {
        items.push({ kind: 'comment', text: this.text.slice(start, end).trimEnd(), line, endLine });
      } else if (!rule) {
        items.push({ kind: 'rule', line, endLine });
      } else {
        const innerComments = this.innerComments.get(at);
        items.push({
          kind: 'rule',
          rule,
          line,
          endLine,
          ...(start === NO_COMMENT ? {} : { comment: this.text.slice(start, end).trimEnd() }),
          ...(innerComments ? { innerComments } : {}),
        });
      }
    }
    return items;
  }
}
