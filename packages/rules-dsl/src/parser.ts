import type { RouteAttributes, Rule, RuleSet } from './ast.js';
import { DEFAULT_TABLE } from './ast.js';
import type { Diagnostic, DiagnosticCode } from './diagnostics.js';
import { formatExpr } from './format.js';
import { IPv4Scanner, IPv6Scanner, parsePrefix } from './ip.js';
import type { ParseLimits } from './limits.js';
import { limitsOf } from './limits.js';
import { PROXY_NAME, nearest, tableNameProblem } from './names.js';
import { RouteIndex } from './route-index.js';
import {
  OP_ALL,
  OP_ANY,
  OP_ATLEAST,
  OP_FALSE,
  OP_NOT,
  OP_PROXY,
  OP_TRUE,
  RuleProgram,
  attachProgram,
} from './rule-program.js';
import { ScratchStack } from './scratch-stack.js';
import { NO_COMMENT, SourceIndex } from './source-index.js';
import { TermTable } from './term-table.js';

/** Options of {@link parse}: a file name and any of the {@link ParseLimits} (the rest are the defaults). */
export interface ParseOptions extends Partial<ParseLimits> {
  /** File name used in diagnostics (default `<input>`). */
  readonly file?: string;
}

/** Where a rule of the rule set came from: 1-based line and column of its first character. */
export interface RuleLocation {
  readonly line: number;
  readonly column: number;
}

/** A piece of the source file, in order: a rule (valid or not) or a whole-line comment. */
export type SourceItem =
  | {
      readonly kind: 'rule';
      /** Absent when the rule has errors. */
      readonly rule?: Rule;
      readonly line: number;
      readonly endLine: number;
      /** A comment at the end of the rule's last line. */
      readonly comment?: string;
      /** Comments inside a rule continued over lines, in order. */
      readonly innerComments?: readonly string[];
    }
  | { readonly kind: 'comment'; readonly text: string; readonly line: number; readonly endLine: number };

/** What {@link parse} returns. It never throws: every problem is a diagnostic. */
export interface ParseResult {
  /**
   * The valid rules, in file order. When `ok` is false, rules with errors are left out. The parser keeps
   * them in a compact form that `evaluate` reads directly; `ruleSet.rules` is built from it on first read
   * (an enumerable own getter: spreads, JSON and deep equality see plain data).
   */
  readonly ruleSet: RuleSet;
  /** `locations[i]` is where `ruleSet.rules[i]` starts. Built on first access. */
  readonly locations: readonly RuleLocation[];
  /**
   * In file order: at most `maxDiagnostics` errors and as many warnings, then, when more were found, a
   * `RULE_TOO_MANY_DIAGNOSTICS` warning that counts the rest (see `countDiagnostics`).
   */
  readonly diagnostics: readonly Diagnostic[];
  /** True when there is no error (warnings allowed). */
  readonly ok: boolean;
  /** The file's rules and comments in order, for comment-preserving formatting. Built on first access. */
  readonly items: readonly SourceItem[];
}

const AGGREGATORS = ['all', 'any', 'not', 'atleast', 'true', 'false'] as const;
const ATTRIBUTES = ['med', 'local-pref', 'community', 'large-community'] as const;
const U32 = 0xffffffff;
/**
 * Arguments of a list compared pairwise for repeats (at most about 2,000 comparisons); a longer list gets
 * a map of hashes. A map for every list over 16 arguments made 10,000 rules of 37 terms allocate 40 MB.
 */
const PAIRWISE = 64;

class Abort {}

const SPACE = 1;
const IDENT_START = 2;
const IDENT = 4;
const DIGIT = 8;
const TARGET_END = 16;
const NAME_END = 32;
const ATTRIBUTE_NAME = 64;
const PROXY_CHAR = 128;
const ADDRESS_CHAR = 256;
const ADDRESS_MARK = 512;
const CLASSES = new Uint16Array(128);
const mark = (chars: string, bit: number) => {
  for (const c of chars) CLASSES[c.charCodeAt(0)] = (CLASSES[c.charCodeAt(0)] ?? 0) | bit;
};
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
mark(' \t\r\f\v', SPACE);
mark(`${LETTERS}_`, IDENT_START);
mark(`${LETTERS}0123456789_-`, IDENT);
mark('0123456789', DIGIT);
mark(' \t\r\f\v\n,=#()', TARGET_END);
mark(' \t\r\f\v\n,()#<>=', NAME_END);
mark(`${LETTERS}-`, ATTRIBUTE_NAME);
mark(`${LETTERS}0123456789_.:-`, PROXY_CHAR);
mark('0123456789abcdefABCDEF:./', ADDRESS_CHAR);
mark('.:', ADDRESS_MARK);
/** Character class bits of a UTF-16 code unit (NaN, past the end, has none). */
const cls = (code: number): number => (code < 128 ? (CLASSES[code] ?? 0) : 0);
const isSpace = (code: number) => (cls(code) & SPACE) !== 0;
const isIdentStart = (code: number) => (cls(code) & IDENT_START) !== 0;
const isIdent = (code: number) => (cls(code) & IDENT) !== 0;
const isDigit = (code: number) => (cls(code) & DIGIT) !== 0;

/** Whether `text[start, end)` looks like an address: hex digits, '.', ':' and '/' only, with a '.' or ':'. */
function looksLikeAddress(text: string, start: number, end: number): boolean {
  let mark = false;
  for (let i = start; i < end; i++) {
    const bits = cls(text.charCodeAt(i));
    if (!(bits & ADDRESS_CHAR)) return false;
    if (bits & ADDRESS_MARK) mark = true;
  }
  return mark;
}

const NON_ASCII = /[\u0080-\uffff]/;

/** The length of `text` in UTF-8 (a lone surrogate counts 3 bytes, as its replacement character has). */
function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Whether `text` is over `maxBytes` in UTF-8, found without encoding it (and at once when it is far over). */
function overBytes(text: string, maxBytes: number): boolean {
  // Every UTF-16 code unit is at least one byte, and at most three.
  if (text.length > maxBytes) return true;
  return text.length * 3 > maxBytes && utf8Length(text) > maxBytes;
}

class Parser {
  private pos = 0;
  private failed = false;
  /** Errors found so far (listed or not). */
  errors = 0;
  private listedErrors = 0;
  private listedWarnings = 0;
  private omittedErrors = 0;
  private omittedWarnings = 0;
  /** Where the first diagnostic left out of the list points. */
  private firstOmitted = -1;
  /** Rules (statements) begun, routes (networks) read in all of them, terms read in the current one. */
  private ruleCount = 0;
  private routeCount = 0;
  private termCount = 0;
  /** Set when a rule-set limit is crossed: nothing more is read. */
  private stopped = false;
  /** The last scan of nextRuleAt(): from where, to the offset of the line it looked at, and its answer. */
  private scanFrom = -1;
  private scanTo = -1;
  private scanResult = -1;
  private readonly lineStarts: Int32Array;
  /** Index in lineStarts of the line last found by lineOf(). */
  private lastLine = 0;
  readonly diagnostics: Diagnostic[] = [];
  readonly program = new RuleProgram();
  readonly source: SourceIndex;
  /** The offset of each '(' of the current rule still open, innermost last. */
  private readonly opens = new ScratchStack<number>();
  /** Where the code of each argument read so far starts and ends (two numbers per argument). */
  private readonly argCode = new ScratchStack<number>();
  /** The tables met so far (the first few also in a list, searched in place of cutting the name out). */
  private readonly tables = new Map<string, RouteIndex>();
  private readonly firstTables: RouteIndex[] = [];
  private readonly terms = new TermTable(this.program.entries);
  private readonly scanner = new IPv4Scanner();
  private readonly scanner6 = new IPv6Scanner();
  /** Reused by hostPrefix(). */
  private readonly pieces = ['', '/32'];
  /** Whether the threshold last read by threshold() is a percentage. */
  private percent = false;
  /** Communities of the `with` clause being read (flat: two or three numbers each). */
  private readonly communities = new ScratchStack<number>();
  private readonly largeCommunities = new ScratchStack<number>();
  /** Comments inside the current statement, by offset (ws() may pass the same one twice after a backtrack). */
  private readonly inner = new Map<number, string>();

  private readonly maxDepth: number;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly limits: ParseLimits,
  ) {
    this.maxDepth = limits.maxDepth;
    // Counted first, so that the line starts go into one array of the right size.
    let lines = 1;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', nl + 1)) lines++;
    this.lineStarts = new Int32Array(lines);
    lines = 1;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', nl + 1))
      this.lineStarts[lines++] = nl + 1;
    this.source = new SourceIndex(text);
  }

  run(): void {
    // A UTF-8 byte order mark, as some Windows editors write one.
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1;
    for (;;) {
      this.skipBlankLines();
      if (this.pos >= this.text.length) break;
      if (this.ruleCount === this.limits.maxRules) {
        this.stop(
          'RULE_SET_TOO_MANY_RULES',
          `more than ${this.limits.maxRules} rules (the limit, maxRules): this is rule ${this.ruleCount + 1}; the rest of the file is not read`,
          this.pos,
        );
        break;
      }
      this.ruleCount++;
      this.statement();
      if (this.stopped) break;
    }
    this.noteOmitted();
  }

  /** Refuses a text over `maxBytes` without reading it: one diagnostic, on its first line. */
  refuseTooLarge(): void {
    this.stop(
      'RULE_SET_TOO_LARGE',
      `the rule set is larger than ${this.limits.maxBytes} bytes (the limit, maxBytes); none of it is read`,
      0,
    );
  }

  /** Ends a list that had to leave diagnostics out with a warning that counts them. */
  private noteOmitted(): void {
    const errors = this.omittedErrors;
    const warnings = this.omittedWarnings;
    if (!errors && !warnings) return;
    const count = (n: number, word: string) => `${n} more ${word}${n === 1 ? '' : 's'}`;
    const what = [errors ? count(errors, 'error') : '', warnings ? count(warnings, 'warning') : '']
      .filter(Boolean)
      .join(' and ');
    const line = this.lineOf(this.firstOmitted);
    const max = this.limits.maxDiagnostics;
    this.diagnostics.push({
      ...this.at(this.firstOmitted, line),
      severity: 'warning',
      code: 'RULE_TOO_MANY_DIAGNOSTICS',
      message: `${what} from here on are not listed; at most ${max} errors and ${max} warnings are (the limit, maxDiagnostics)`,
      length: 1,
      omitted: { errors, warnings },
    });
  }

  private lineOf(offset: number): number {
    // Offsets mostly come in file order, on the line last found or the next one: try those before searching.
    const starts = this.lineStarts;
    const last = this.lastLine;
    if ((starts[last] ?? 0) <= offset) {
      if (!((starts[last + 1] ?? Infinity) <= offset)) return last + 1;
      if (!((starts[last + 2] ?? Infinity) <= offset)) {
        this.lastLine = last + 1;
        return last + 2;
      }
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    this.lastLine = lo;
    return lo + 1;
  }

  private lineText(line: number): string {
    const start = this.lineStarts[line - 1] ?? 0;
    const next = this.lineStarts[line];
    let end = next === undefined ? this.text.length : next - 1;
    if (end > start && this.text.charCodeAt(end - 1) === 13) end--;
    return this.text.slice(start, end);
  }

  /** The place of a diagnostic at `offset`, on `line`. */
  private at(offset: number, line: number): Pick<Diagnostic, 'file' | 'line' | 'column' | 'lineText'> {
    const lineText = this.lineText(line);
    return {
      file: this.file,
      line,
      // A line's text leaves out a final '\r': an offset past it points just after the visible text.
      column: Math.min(offset - (this.lineStarts[line - 1] ?? 0) + 1, lineText.length + 1),
      lineText,
    };
  }

  /** Whether a diagnostic of this severity would still be listed (past maxDiagnostics it is only counted). */
  private listed(severity: 'error' | 'warning'): boolean {
    const max = this.limits.maxDiagnostics;
    return (severity === 'error' ? this.listedErrors : this.listedWarnings) < max;
  }

  /** Records a diagnostic; past maxDiagnostics it is only counted, unless it must be `always` listed. */
  private report(
    severity: 'error' | 'warning',
    code: DiagnosticCode,
    message: string,
    offset: number,
    length = 1,
    always = false,
  ) {
    if (severity === 'error') {
      this.failed = true;
      this.errors++;
    }
    if (!always && !this.listed(severity)) {
      if (severity === 'error') this.omittedErrors++;
      else this.omittedWarnings++;
      if (this.firstOmitted < 0) this.firstOmitted = offset;
      return;
    }
    if (severity === 'error') this.listedErrors++;
    else this.listedWarnings++;
    const { file, line, column, lineText } = this.at(offset, this.lineOf(offset));
    this.diagnostics.push({
      severity,
      code,
      message,
      file,
      line,
      column,
      length: Math.max(1, length),
      lineText,
    });
  }

  private error(code: DiagnosticCode, message: string, offset: number, length = 1): void {
    this.report('error', code, message, offset, length);
  }

  /** A rule-set limit crossed: the parser reads no further, and says why even past maxDiagnostics. */
  private stop(code: DiagnosticCode, message: string, offset: number, length = 1): void {
    this.stopped = true;
    this.report('error', code, message, offset, length, true);
  }

  private fatal(code: DiagnosticCode, message: string, offset: number, length = 1): never {
    this.error(code, message, offset, length);
    throw new Abort();
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private code(): number {
    return this.text.charCodeAt(this.pos);
  }

  /** Skips spaces and tabs (not newlines). */
  private skipSpaces(): void {
    const { text } = this;
    let pos = this.pos;
    while (isSpace(text.charCodeAt(pos))) pos++;
    this.pos = pos;
  }

  private describeHere(): string {
    const c = this.peek();
    if (c === undefined) return 'the end of the file';
    if (c === '\n') return 'the end of the line';
    return `'${c}'`;
  }

  private skipBlankLines(): void {
    for (;;) {
      this.skipSpaces();
      const c = this.peek();
      if (c === '\n') {
        this.pos++;
      } else if (c === '#') {
        const start = this.pos;
        this.skipComment();
        this.source.addComment(this.lineOf(start), start, this.pos);
      } else {
        return;
      }
    }
  }

  private skipComment(): void {
    const nl = this.text.indexOf('\n', this.pos);
    this.pos = nl < 0 ? this.text.length : nl;
  }

  /**
   * Where the new rule begins when the line that starts at `from` (after blank and comment lines) begins
   * one; -1 when it does not.
   */
  private nextRuleAt(from: number): number {
    // Asked at every line start inside a rule, so the answer of the last scan is kept: any line start it
    // skipped (blank and comment lines) has the same answer. Scanning again from each of them made a
    // rule holding many comment lines quadratic (40,000 of them took 20 s).
    if (from >= this.scanFrom && from <= this.scanTo) return this.scanResult;
    let i = from;
    let result = -1;
    for (;;) {
      while (i < this.text.length && (isSpace(this.text.charCodeAt(i)) || this.text[i] === '\n')) i++;
      if (i >= this.text.length) break;
      if (this.text[i] !== '#') {
        const nl = this.text.indexOf('\n', i);
        const line = this.text.slice(i, nl < 0 ? this.text.length : nl);
        const hash = line.indexOf('#');
        if (/(^|[^<>=])=($|[^=])/.test(hash < 0 ? line : line.slice(0, hash))) result = i;
        break;
      }
      const nl = this.text.indexOf('\n', i);
      if (nl < 0) {
        i = this.text.length;
        break;
      }
      i = nl;
    }
    this.scanFrom = from;
    this.scanTo = i;
    this.scanResult = result;
    return result;
  }

  /** Whether the rule ends here with a '(' open: at the end of the file, or where a new rule begins. */
  private endsOpen(): boolean {
    if (this.opens.size === 0) return false;
    const c = this.peek();
    return c === undefined || (c === '\n' && this.nextRuleAt(this.pos + 1) >= 0);
  }

  /**
   * Reports the innermost '(' still open where its rule ends. The place the parser stopped is on a later
   * line, or even past the last one, and says nothing about which '(' lacks its ')'.
   */
  private unclosed(): never {
    const { opens } = this;
    const inner = opens.at(opens.size - 1) ?? this.pos;
    const outer = opens.at(0) ?? inner;
    const others = opens.size - 1;
    const around =
      others === 0
        ? ''
        : others === 1
          ? `, nor is '(' at ${this.place(outer)}`
          : `, nor are the ${others} around it, from ${this.place(outer)}`;
    const next = this.peek() === '\n' ? this.nextRuleAt(this.pos + 1) : -1;
    const why = next < 0 ? '' : ` (line ${this.lineOf(next)} starts a new rule)`;
    this.fatal('RULE_SYNTAX', `'(' at ${this.place(inner)} is never closed${around}${why}`, inner);
  }

  /** `line:column` of an offset, as diagnostics give it. */
  private place(offset: number): string {
    const line = this.lineOf(offset);
    return `${line}:${offset - (this.lineStarts[line - 1] ?? 0) + 1}`;
  }

  /** Skips spaces; inside parentheses also newlines and comments, unless the next line starts a new rule. */
  private ws(): void {
    for (;;) {
      this.skipSpaces();
      if (this.opens.size === 0) return;
      const c = this.peek();
      if (c === '#') {
        const s = this.pos;
        this.skipComment();
        this.inner.set(s, this.text.slice(s, this.pos).trimEnd());
      } else if (c === '\n' && this.nextRuleAt(this.pos + 1) < 0) {
        this.pos++;
      } else {
        return;
      }
    }
  }

  private statement(): void {
    const start = this.pos;
    this.failed = false;
    this.termCount = 0;
    if (this.inner.size) this.inner.clear();
    // An error may have left a half-read list, and parentheses still open, on the stacks.
    this.argCode.clear();
    this.opens.clear();
    this.program.begin();
    let read = false;
    let commentStart = NO_COMMENT;
    let commentEnd = NO_COMMENT;
    try {
      this.rule();
      read = true;
      this.skipSpaces();
      const c = this.peek();
      if (c === '#') {
        commentStart = this.pos;
        this.skipComment();
        commentEnd = this.pos;
      } else if (c !== undefined && c !== '\n') {
        this.fatal('RULE_SYNTAX', `unexpected ${this.describeHere()} after the rule`, this.pos);
      }
    } catch (e) {
      if (!(e instanceof Abort)) throw e;
      this.recover();
    }
    const line = this.lineOf(start);
    const endLine = this.lineOf(Math.max(start, this.pos - 1));
    if (read && !this.failed) {
      this.program.commit();
      const innerComments = this.inner.size
        ? [...this.inner.entries()].sort(([a], [b]) => a - b).map(([, text]) => text)
        : undefined;
      const column = start - (this.lineStarts[line - 1] ?? 0) + 1;
      this.source.addRule(line, column, endLine, commentStart, commentEnd, innerComments);
    } else {
      this.source.addInvalidRule(line, endLine);
    }
  }

  /** After an error: skip the rest of the statement (continuation lines included). */
  private recover(): void {
    let depth = this.opens.size;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '#') this.skipComment();
      else if (c === '\n') {
        if (depth <= 0 || this.nextRuleAt(this.pos + 1) >= 0) return;
        this.pos++;
      } else {
        if (c === '(') depth++;
        else if (c === ')') depth--;
        this.pos++;
      }
    }
  }

  /** Reads a rule into the program's pending code (see rule-program.ts for its layout). */
  private rule(): void {
    const { program } = this;
    program.emit(0);
    program.patch(0, this.targets());
    this.ws();
    if (this.peek() !== '=') {
      this.fatal('RULE_SYNTAX', `expected '=' after the networks, found ${this.describeHere()}`, this.pos);
    }
    this.pos++;
    this.ws();
    const exprAt = program.length;
    program.emit(0);
    this.expr(0);
    program.patch(exprAt, program.length - exprAt - 1);
    this.ws();
    let attributes = -1;
    if (this.text.startsWith('with', this.pos) && !isIdent(this.text.charCodeAt(this.pos + 4))) {
      this.pos += 4;
      attributes = program.attributes.length;
      program.attributes.push(this.attributes());
    }
    program.emit(attributes);
  }

  /** Reads the networks of a rule; returns how many were valid (and written to the pending code). */
  private targets(): number {
    let routes = 0;
    for (;;) {
      this.ws();
      const start = this.pos;
      const { text } = this;
      let end = start;
      while (end < text.length && !(cls(text.charCodeAt(end)) & TARGET_END)) end++;
      this.pos = end;
      if (end === start) {
        this.fatal(
          'RULE_SYNTAX',
          `expected a network (address or CIDR), found ${this.describeHere()}`,
          this.pos,
        );
      }
      if (++this.routeCount > this.limits.maxRoutes) {
        this.stop(
          'RULE_SET_TOO_MANY_ROUTES',
          `more than ${this.limits.maxRoutes} routes (the limit, maxRoutes); the rest of the file is not read`,
          start,
          end - start,
        );
        throw new Abort();
      }
      if (this.target(start, this.pos)) routes++;
      this.ws();
      if (this.peek() !== ',') return routes;
      this.pos++;
    }
  }

  /**
   * Reads the route written at `text[start, end)` (`[<table>%]<network>` or `<network>%<table>`) into the
   * pending code; false (with an error) if it is not valid.
   */
  private target(start: number, end: number): boolean {
    const { text } = this;
    let percent = -1;
    for (let i = start; i < end; i++) {
      if (text.charCodeAt(i) !== 37) continue;
      if (percent >= 0) {
        const word = text.slice(start, end);
        this.error(
          'RULE_SYNTAX',
          `'${word}' has more than one '%': write <table>%<network>`,
          start,
          word.length,
        );
        return false;
      }
      percent = i;
    }
    let table: RouteIndex | undefined;
    let networkStart = start;
    let networkEnd = end;
    if (percent < 0) {
      table = this.table(DEFAULT_TABLE, 0, DEFAULT_TABLE.length);
    } else {
      // The network is the side that looks like an address (table names hold no '.' or ':').
      const suffixForm = looksLikeAddress(text, start, percent) && !looksLikeAddress(text, percent + 1, end);
      networkStart = suffixForm ? start : percent + 1;
      networkEnd = suffixForm ? percent : end;
      table = suffixForm ? this.table(text, percent + 1, end) : this.table(text, start, percent);
    }
    if (!table) return false;
    const scanner = this.scanner;
    let prefix: string;
    let family: 'ipv4' | 'ipv6';
    let length: number;
    // Almost every network is a canonical IPv4 address or prefix: read in place, its text is already
    // canonical, and its duplicate check is keyed by the address (no string cut out, built or hashed).
    const fast = scanner.scan(text, networkStart, networkEnd);
    if (fast) {
      prefix = scanner.masked
        ? text.slice(networkStart, networkEnd)
        : this.hostPrefix(networkStart, networkEnd);
      family = 'ipv4';
      length = scanner.length;
    } else if (this.scanner6.scan(text, networkStart, networkEnd)) {
      // Likewise a canonical IPv6 address or prefix (its duplicate check is keyed by its text).
      const network = text.slice(networkStart, networkEnd);
      prefix = this.scanner6.masked ? network : [network, '/128'].join('');
      family = 'ipv6';
      length = this.scanner6.length;
    } else {
      const parsed = parsePrefix(text.slice(networkStart, networkEnd));
      if (!parsed.ok) {
        this.error(parsed.code, parsed.message, networkStart + parsed.offset, parsed.length);
        return false;
      }
      prefix = parsed.prefix;
      family = parsed.family;
      length = parsed.length;
    }
    if (length === 0) {
      this.report(
        'warning',
        'RULE_DEFAULT_ROUTE',
        `${prefix} is a default route`,
        networkStart,
        networkEnd - networkStart,
      );
    }
    // A canonical IPv4 prefix from the full parser is keyed by its address too, so both paths agree.
    const previous =
      fast || (family === 'ipv4' && scanner.scan(prefix, 0, prefix.length))
        ? table.claimIPv4(scanner.address, scanner.length, start)
        : table.claim(prefix, start);
    if (previous !== undefined) {
      const line = this.lineOf(start);
      const previousLine = this.lineOf(previous);
      this.error(
        'RULE_DUPLICATE_ROUTE',
        previousLine === line
          ? `${prefix} in table ${table.name} is listed twice on this line`
          : `${prefix} in table ${table.name} is already controlled by the rule at line ${previousLine}`,
        start,
        end - start,
      );
      return false;
    }
    const { program } = this;
    program.emit(table.index);
    program.emit(program.prefixes.length);
    program.emit(family === 'ipv4' ? 0 : 1);
    program.prefixes.push(prefix);
    return true;
  }

  /**
   * The table named by `source[start, end)`, or undefined (with an error) for a bad name. Names met
   * before are found in place; a file names few tables, so only the first few are compared this way.
   */
  private table(source: string, start: number, end: number): RouteIndex | undefined {
    const { firstTables } = this;
    for (let i = 0; i < firstTables.length; i++) {
      const known = firstTables[i] as RouteIndex;
      if (known.name.length === end - start && source.startsWith(known.name, start)) return known;
    }
    const name = source.slice(start, end);
    let table = this.tables.get(name);
    if (table) return table;
    const problem = name === DEFAULT_TABLE ? undefined : tableNameProblem(name);
    if (problem) {
      this.error('RULE_BAD_TABLE', problem, start, name.length);
      return undefined;
    }
    table = new RouteIndex(name, this.program.tables.length);
    this.program.tables.push(name);
    this.tables.set(name, table);
    if (firstTables.length < 8) firstTables.push(table);
    return table;
  }

  /**
   * `<address>/32` for the address at `text[start, end)`, as one flat string: `address + '/32'` would be
   * a string of two pieces, which format() and ruleSetHash() then read half again as slowly.
   */
  private hostPrefix(start: number, end: number): string {
    const pieces = this.pieces;
    pieces[0] = this.text.slice(start, end);
    return pieces.join('');
  }

  /** Reads an expression into the pending code, in postfix order. */
  private expr(level: number): void {
    const start = this.pos;
    if (level > this.maxDepth) {
      this.fatal('RULE_TOO_DEEP', `expressions are nested deeper than ${this.maxDepth} levels`, start);
    }
    if (++this.termCount > this.limits.maxTermsPerRule) {
      this.fatal(
        'RULE_TOO_MANY_TERMS',
        `more than ${this.limits.maxTermsPerRule} terms in one rule, aggregators included (the limit, maxTermsPerRule)`,
        start,
      );
    }
    if (!isIdentStart(this.code())) {
      if (this.endsOpen()) this.unclosed();
      this.fatal(
        'RULE_SYNTAX',
        `expected an aggregator such as all(...) or a term such as b:<backend>, found ${this.describeHere()}`,
        start,
      );
    }
    while (isIdent(this.code())) this.pos++;
    const word = this.word(start, this.pos);
    const afterWord = this.pos;
    this.ws();
    if (this.peek() === ':') {
      this.proxy(word, start);
      return;
    }
    const open = this.peek() === '(';
    if (!(AGGREGATORS as readonly string[]).includes(word)) {
      const guess = nearest(word, AGGREGATORS);
      const hint = /^[a-z]$/i.test(word) ? `; proxy terms are written b:<backend> or f:<frontend>` : '';
      this.fatal(
        'RULE_UNKNOWN_AGGREGATOR',
        `unknown aggregator '${word}'${guess ? `; did you mean '${guess}'?` : `; expected one of ${AGGREGATORS.join(', ')}`}${hint}`,
        start,
        word.length,
      );
    }
    if (word === 'true' || word === 'false') {
      if (open) {
        this.opens.push(this.pos);
        this.pos++;
        this.ws();
        if (this.peek() !== ')') {
          if (this.endsOpen()) this.unclosed();
          this.fatal('RULE_ARITY', `${word}() takes no arguments`, this.pos);
        }
        this.pos++;
        this.opens.pop();
      } else {
        this.pos = afterWord;
      }
      this.report(
        'warning',
        'RULE_CONSTANT',
        `'${word}' is constant; it is meant for debugging`,
        start,
        word.length,
      );
      this.program.emit(word === 'true' ? OP_TRUE : OP_FALSE);
      return;
    }
    if (!open) {
      if (this.endsOpen()) this.unclosed();
      this.fatal('RULE_SYNTAX', `expected '(' after '${word}', found ${this.describeHere()}`, this.pos);
    }
    const openAt = this.pos;
    this.opens.push(openAt);
    this.pos++;
    this.ws();
    let n: number | undefined;
    let nText = '';
    let nAt = this.pos;
    if (word === 'atleast' && this.peek() !== ')') {
      if (this.endsOpen()) this.unclosed();
      nAt = this.pos;
      while (isDigit(this.code())) this.pos++;
      const digits = this.text.slice(nAt, this.pos);
      if (digits === '' || isIdent(this.code()) || this.peek() === ':') {
        this.fatal(
          'RULE_BAD_QUORUM',
          `atleast() takes a count first, e.g. atleast(2, b:be_a, b:be_b, b:be_c)`,
          nAt,
        );
      }
      n = Number(digits);
      nText = digits;
      this.ws();
      if (this.peek() === ')')
        this.fatal('RULE_EMPTY_ARGS', `atleast(${digits}) has no terms to count`, this.pos);
      if (this.peek() !== ',') {
        if (this.endsOpen()) this.unclosed();
        this.fatal('RULE_SYNTAX', `expected ',' after the count, found ${this.describeHere()}`, this.pos);
      }
      this.pos++;
      this.ws();
    }
    const args = this.args(level, word, openAt);
    this.opens.pop();
    const { program } = this;
    if (word === 'not') {
      if (args !== 1)
        this.fatal('RULE_ARITY', `not() takes exactly one term, found ${args}`, start, this.pos - start);
      program.emit(OP_NOT);
      return;
    }
    if (word === 'atleast') {
      const count = n ?? 0;
      const valid = Number.isSafeInteger(count) && count >= 1 && count <= args;
      if (!valid) {
        this.error(
          'RULE_BAD_QUORUM',
          `atleast(${nText}, ...) needs a count from 1 to its ${args} term${args === 1 ? '' : 's'}`,
          nAt,
          nText.length,
        );
      }
      program.emit(OP_ATLEAST);
      program.emit(args);
      program.emitNumber(count);
      return;
    }
    program.emit(word === 'all' ? OP_ALL : OP_ANY);
    program.emit(args);
  }

  /**
   * The text from `start` to `end`: one of the constant words when it is an aggregator (most words are),
   * so that the hot path does not allocate a string per word.
   */
  private word(start: number, end: number): string {
    return this.known(AGGREGATORS, start, end) ?? this.text.slice(start, end);
  }

  /** The word of `words` that the text from `start` to `end` is, if any; found without cutting it out. */
  private known<const W extends string>(words: readonly W[], start: number, end: number): W | undefined {
    for (const word of words) {
      if (word.length === end - start && this.text.startsWith(word, start)) return word;
    }
    return undefined;
  }

  /** Reads the arguments of an aggregator into the pending code; returns how many there were. */
  private args(level: number, word: string, openAt: number): number {
    const ranges = this.argCode;
    const base = ranges.size;
    const { program } = this;
    let hashes: Map<number, number> | undefined;
    if (this.peek() === ')') {
      if (word !== 'not')
        this.fatal('RULE_EMPTY_ARGS', `${word}() needs at least one term`, openAt, this.pos - openAt + 1);
      this.fatal('RULE_ARITY', `not() takes exactly one term, found 0`, openAt, this.pos - openAt + 1);
    }
    for (;;) {
      const at = this.pos;
      const codeAt = program.length;
      this.expr(level + 1);
      const codeEnd = program.length;
      if (!hashes && ranges.size - base > 2 * PAIRWISE) {
        hashes = new Map<number, number>();
        for (let i = base; i < ranges.size; i += 2) {
          const hash = this.codeHash(ranges.at(i) ?? 0, ranges.at(i + 1) ?? 0);
          if (!hashes.has(hash)) hashes.set(hash, i);
        }
      }
      if (this.repeats(base, codeAt, codeEnd, hashes)) {
        // Past maxDiagnostics the warning is only counted: its term is not printed.
        this.report(
          'warning',
          'RULE_REPEATED_TERM',
          this.listed('warning')
            ? `'${formatExpr(program.pendingExpr(codeAt, codeEnd))}' appears twice in ${word}()`
            : '',
          at,
          this.pos - at,
        );
      }
      ranges.push(codeAt);
      ranges.push(codeEnd);
      this.ws();
      const c = this.peek();
      if (c === ')') {
        this.pos++;
        const count = (ranges.size - base) / 2;
        ranges.size = base;
        return count;
      }
      if (c !== ',') {
        if (this.endsOpen()) this.unclosed();
        this.fatal(
          'RULE_SYNTAX',
          `expected ',' or ')' in ${word}(...), found ${this.describeHere()}`,
          this.pos,
        );
      }
      this.pos++;
      this.ws();
    }
  }

  /**
   * Whether the argument whose code is `[start, end)` repeats one read before in the same list (code
   * ranges from `base` up on the argument stack). Equal code is the same term: proxy terms are numbered
   * by name and threshold. Lists of up to {@link PAIRWISE} arguments (all real ones) are compared pairwise
   * without allocating; longer ones also keep, by a hash of each argument's code, where the first argument
   * with that hash is on the stack, so that a huge list stays linear (and allocates no key per argument).
   */
  private repeats(
    base: number,
    start: number,
    end: number,
    hashes: Map<number, number> | undefined,
  ): boolean {
    const ranges = this.argCode;
    if (hashes) {
      const hash = this.codeHash(start, end);
      const first = hashes.get(hash);
      if (first === undefined) {
        // Where this argument goes on the stack next.
        hashes.set(hash, ranges.size);
        return false;
      }
      if (this.sameCode(first, start, end)) return true;
      // Two different arguments with one hash: compare with every one, as for a short list.
    }
    for (let i = base; i < ranges.size; i += 2) if (this.sameCode(i, start, end)) return true;
    return false;
  }

  /** Whether the argument at `index` of the argument stack has the code `[start, end)`. */
  private sameCode(index: number, start: number, end: number): boolean {
    const { program } = this;
    const from = this.argCode.at(index) ?? 0;
    if ((this.argCode.at(index + 1) ?? 0) - from !== end - start) return false;
    let k = 0;
    while (k < end - start && program.at(from + k) === program.at(start + k)) k++;
    return k === end - start;
  }

  private codeHash(start: number, end: number): number {
    let hash = TermTable.seed;
    for (let i = start; i < end; i++) hash = TermTable.step(hash, this.program.at(i));
    return hash;
  }

  /** Reads a proxy term (after its kind, `b` or `f`) into the pending code. */
  private proxy(kind: string, start: number): void {
    if (kind !== 'b' && kind !== 'f') {
      this.fatal(
        'RULE_UNKNOWN_PROXY_KIND',
        `unknown proxy kind '${kind}:'; expected 'b:' (backend) or 'f:' (frontend)`,
        start,
        kind.length + 1,
      );
    }
    const { text } = this;
    this.pos++;
    this.skipSpaces();
    const nameAt = this.pos;
    // The name is hashed and checked as it is read, so that a name met before is found without cutting
    // it out of the text.
    let hash = TermTable.seed;
    let valid = true;
    let nameEnd = nameAt;
    for (; nameEnd < text.length; nameEnd++) {
      const code = text.charCodeAt(nameEnd);
      const bits = cls(code);
      if (bits & NAME_END) break;
      if (!(bits & PROXY_CHAR)) valid = false;
      hash = TermTable.step(hash, code);
    }
    this.pos = nameEnd;
    const side = kind === 'b' ? 'backend' : 'frontend';
    if (nameEnd === nameAt)
      this.fatal('RULE_BAD_PROXY_NAME', `expected a ${side} name after '${kind}:'`, nameAt);
    if (!valid) {
      const name = text.slice(nameAt, nameEnd);
      const bad = [...name].find((c) => !PROXY_NAME.test(c)) ?? '';
      this.fatal(
        'RULE_BAD_PROXY_NAME',
        `${side} name '${name}' has '${bad}'; HAProxy names hold only letters, digits, '-', '_', '.' and ':'`,
        nameAt,
        name.length,
      );
    }
    this.skipSpaces();
    const c = this.code();
    const threshold = c === 62 || c === 60 || c === 61 ? this.threshold(side, nameAt, nameEnd) : undefined;
    const { program } = this;
    program.emit(OP_PROXY);
    program.emit(this.terms.entry(text, nameAt, nameEnd, hash, side).index);
    if (threshold === undefined) program.emit(0);
    else program.emitThreshold(threshold, this.percent);
  }

  /** Reads `>=N` or `>=N%` after the backend name at `text[nameAt, nameEnd)`: returns N, sets {@link percent}. */
  private threshold(side: 'backend' | 'frontend', nameAt: number, nameEnd: number): number {
    const opAt = this.pos;
    const name = () => this.text.slice(nameAt, nameEnd);
    if (!this.text.startsWith('>=', this.pos)) {
      const op = this.text.slice(this.pos, this.pos + (this.text[this.pos + 1] === '=' ? 2 : 1));
      this.fatal(
        'RULE_BAD_THRESHOLD',
        `unsupported comparison '${op}'; capacity thresholds are written b:<backend>>=N or >=N%`,
        opAt,
        op.length,
      );
    }
    if (side === 'frontend') {
      this.fatal(
        'RULE_BAD_THRESHOLD',
        `capacity thresholds apply to backends only (f:${name()} is a frontend)`,
        opAt,
        2,
      );
    }
    this.pos += 2;
    this.skipSpaces();
    const numAt = this.pos;
    while (isDigit(this.code())) this.pos++;
    const digitCount = this.pos - numAt;
    const percent = this.peek() === '%';
    if (percent) this.pos++;
    if (digitCount === 0 || (digitCount > 1 && this.text.charCodeAt(numAt) === 48)) {
      this.fatal(
        'RULE_BAD_THRESHOLD',
        `expected a whole number after '>=', e.g. b:${name()}>=2 or b:${name()}>=50%`,
        numAt,
      );
    }
    let value = 0;
    if (digitCount <= 7) {
      for (let i = numAt; i < numAt + digitCount; i++) value = value * 10 + this.text.charCodeAt(i) - 48;
    } else {
      value = Number(this.text.slice(numAt, numAt + digitCount));
    }
    if (percent && (value < 1 || value > 100)) {
      const digits = this.text.slice(numAt, numAt + digitCount);
      this.error(
        'RULE_BAD_THRESHOLD',
        `a percentage threshold must be from 1% to 100%, found ${digits}%`,
        numAt,
        digits.length + 1,
      );
    } else if (!percent && (value < 1 || value > 1_000_000)) {
      const digits = this.text.slice(numAt, numAt + digitCount);
      this.error(
        'RULE_BAD_THRESHOLD',
        `a server-count threshold must be from 1 to 1000000, found ${digits}`,
        numAt,
        digits.length,
      );
    }
    this.percent = percent;
    return value;
  }

  private number(max: number, what: string): number {
    const at = this.pos;
    while (isDigit(this.code())) this.pos++;
    if (this.pos === at)
      this.fatal('RULE_BAD_ATTRIBUTE', `expected a number for ${what}, found ${this.describeHere()}`, at);
    // Short numbers (all valid ones) are read in place; the text is cut out only for longer ones and errors.
    let value = 0;
    if (this.pos - at <= 10) {
      for (let i = at; i < this.pos; i++) value = value * 10 + this.text.charCodeAt(i) - 48;
    } else {
      value = Number(this.text.slice(at, this.pos));
    }
    const leadingZero = this.pos - at > 1 && this.text.charCodeAt(at) === 48;
    if (value > max || leadingZero) {
      const digits = this.text.slice(at, this.pos);
      this.error(
        'RULE_BAD_ATTRIBUTE',
        `${what} must be a whole number from 0 to ${max}, found ${digits}`,
        at,
        digits.length,
      );
    }
    return value;
  }

  /** The next number of a community (`a:b`, `a:b:c`): after the first, a ':' comes before it. */
  private part(first: boolean, max: number, what: string): number {
    if (!first) {
      if (this.peek() !== ':')
        this.fatal('RULE_BAD_ATTRIBUTE', `expected ':' in ${what}, found ${this.describeHere()}`, this.pos);
      this.pos++;
    }
    return this.number(max, what);
  }

  private attributes(): RouteAttributes {
    let med: number | undefined;
    let localPref: number | undefined;
    // Communities go on reused stacks, flat (two or three numbers each), and are copied out at the end.
    const communities = this.communities;
    const largeCommunities = this.largeCommunities;
    communities.clear();
    largeCommunities.clear();
    for (;;) {
      this.ws();
      const at = this.pos;
      while (cls(this.code()) & ATTRIBUTE_NAME) this.pos++;
      const name = this.known(ATTRIBUTES, at, this.pos);
      if (name === undefined) {
        const word = this.text.slice(at, this.pos);
        const guess = nearest(word, ATTRIBUTES);
        this.fatal(
          'RULE_BAD_ATTRIBUTE',
          word === ''
            ? `expected a route attribute (${ATTRIBUTES.join(', ')}), found ${this.describeHere()}`
            : `unknown route attribute '${word}'${guess ? `; did you mean '${guess}'?` : `; expected one of ${ATTRIBUTES.join(', ')}`}`,
          at,
          word.length,
        );
      }
      this.skipSpaces();
      const valueAt = this.pos;
      if (name === 'med' || name === 'local-pref') {
        if ((name === 'med' ? med : localPref) !== undefined)
          this.error('RULE_BAD_ATTRIBUTE', `${name} is given twice`, at, name.length);
        const value = this.number(U32, name);
        if (name === 'med') med = value;
        else localPref = value;
      } else if (name === 'community') {
        const a = this.part(true, 0xffff, name);
        const b = this.part(false, 0xffff, name);
        for (let i = 0; i < communities.size; i += 2) {
          if (communities.at(i) === a && communities.at(i + 1) === b) {
            this.error(
              'RULE_BAD_ATTRIBUTE',
              `community ${a}:${b} is given twice`,
              valueAt,
              this.pos - valueAt,
            );
            break;
          }
        }
        communities.push(a);
        communities.push(b);
      } else {
        const a = this.part(true, U32, name);
        const b = this.part(false, U32, name);
        const c = this.part(false, U32, name);
        for (let i = 0; i < largeCommunities.size; i += 3) {
          if (
            largeCommunities.at(i) === a &&
            largeCommunities.at(i + 1) === b &&
            largeCommunities.at(i + 2) === c
          ) {
            this.error(
              'RULE_BAD_ATTRIBUTE',
              `large-community ${a}:${b}:${c} is given twice`,
              valueAt,
              this.pos - valueAt,
            );
            break;
          }
        }
        largeCommunities.push(a);
        largeCommunities.push(b);
        largeCommunities.push(c);
      }
      this.skipSpaces();
      if (this.peek() !== ',') break;
      this.pos++;
    }
    // Properties in the order of the canonical text; lists at their exact size (see ScratchStack).
    const attributes: { -readonly [K in keyof RouteAttributes]: RouteAttributes[K] } = {};
    if (med !== undefined) attributes.med = med;
    if (localPref !== undefined) attributes.localPref = localPref;
    if (communities.size) {
      const list = new Array<[number, number]>(communities.size / 2);
      for (let i = 0; i < list.length; i++)
        list[i] = [communities.at(2 * i) ?? 0, communities.at(2 * i + 1) ?? 0];
      attributes.communities = list;
    }
    if (largeCommunities.size) {
      const list = new Array<[number, number, number]>(largeCommunities.size / 3);
      for (let i = 0; i < list.length; i++) {
        list[i] = [
          largeCommunities.at(3 * i) ?? 0,
          largeCommunities.at(3 * i + 1) ?? 0,
          largeCommunities.at(3 * i + 2) ?? 0,
        ];
      }
      attributes.largeCommunities = list;
    }
    return attributes;
  }
}

/**
 * Parses a rules file (a superset of HAProxy Enterprise's hapee-rhi.cfg). Never throws: all problems of
 * the file are reported at once as diagnostics, and the valid rules are still returned. A text over the
 * {@link ParseLimits} (by default `DEFAULT_LIMITS`) is refused with a diagnostic: over `maxBytes`
 * it is not read at all, and the parser stops where it crosses `maxRules` or `maxRoutes`.
 */
export function parse(text: string, options: ParseOptions = {}): ParseResult {
  const limits = limitsOf(options);
  const file = options.file ?? '<input>';
  let parser: Parser;
  if (overBytes(text, limits.maxBytes)) {
    // Only the first line is looked at, for the diagnostic to quote.
    const nl = text.indexOf('\n');
    parser = new Parser(nl < 0 ? text : text.slice(0, nl), file, limits);
    parser.refuseTooLarge();
  } else {
    parser = new Parser(text, file, limits);
    parser.run();
  }
  const { diagnostics, program, source } = parser;
  let rules: readonly Rule[] | undefined;
  let locations: readonly RuleLocation[] | undefined;
  let items: readonly SourceItem[] | undefined;
  // The rules, locations and items are built on first access (the rules from the compact program, which
  // is all evaluate needs); as enumerable own getters they still show in a spread, JSON.stringify,
  // structuredClone or deep equality like plain properties.
  const ruleSet: RuleSet = {
    version: 1,
    get rules() {
      return (rules ??= program.rules());
    },
  };
  attachProgram(ruleSet, program);
  return {
    ruleSet,
    get locations() {
      return (locations ??= source.locations());
    },
    diagnostics,
    ok: parser.errors === 0,
    get items() {
      return (items ??= source.items(ruleSet.rules));
    },
  };
}
