import type { Rule } from './ast.js';
import type { RuleLocation, SourceItem } from './parser.js';

/** The comment offsets of an item that has no comment. */
export const NO_COMMENT = -1;
const COMMENT = -1;
const INVALID_RULE = -2;
/** Numbers stored per item: line, end line, rule index (or COMMENT / INVALID_RULE), column, comment start and end. */
const STRIDE = 6;

/**
 * Where the rules and comments of a file are, kept as numbers while parsing. The objects of
 * `ParseResult.locations` and `ParseResult.items` are built from it on first access: most callers never
 * read them, and two small objects per rule that outlive the parse were a large part of its garbage
 * collection time. The numbers go into one typed array sized for one item per line (an item never shares
 * its first line with another), so that it is allocated once instead of regrown.
 */
export class SourceIndex {
  private data: Int32Array;
  private length = 0;
  private rules = 0;
  private readonly innerComments = new Map<number, readonly string[]>();

  constructor(
    private readonly text: string,
    lineCount: number,
  ) {
    this.data = new Int32Array(lineCount * STRIDE);
  }

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
    if (this.length + STRIDE > this.data.length) {
      const grown = new Int32Array(Math.max(2 * this.data.length, 64 * STRIDE));
      grown.set(this.data);
      this.data = grown;
    }
    const data = this.data;
    const at = this.length;
    data[at] = line;
    data[at + 1] = endLine;
    data[at + 2] = ref;
    data[at + 3] = column;
    data[at + 4] = start;
    data[at + 5] = end;
    this.length += STRIDE;
  }

  locations(): RuleLocation[] {
    const locations: RuleLocation[] = [];
    for (let at = 0; at < this.length; at += STRIDE) {
      const [line = 0, , ref = 0, column = 0] = this.data.subarray(at, at + STRIDE);
      if (ref >= 0) locations.push({ line, column });
    }
    return locations;
  }

  items(rules: readonly Rule[]): SourceItem[] {
    const items: SourceItem[] = [];
    for (let at = 0; at < this.length; at += STRIDE) {
      const [line = 0, endLine = 0, ref = 0, , start = 0, end = 0] = this.data.subarray(at, at + STRIDE);
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
