import type { Expr, ProxyTerm, Route, RouteAttributes, Rule, RuleSet } from './ast.js';
import { DEFAULT_TABLE } from './ast.js';
import type { Diagnostic, DiagnosticCode } from './diagnostics.js';
import { formatExpr } from './format.js';
import { parsePrefix } from './ip.js';
import { PROXY_NAME, nearest, tableNameProblem } from './names.js';
import { ScratchStack } from './scratch-stack.js';
import { NO_COMMENT, SourceIndex } from './source-index.js';

/** Options of {@link parse}. */
export interface ParseOptions {
  /** File name used in diagnostics (default `<input>`). */
  readonly file?: string;
  /** Deepest nesting of aggregators accepted (default 32). */
  readonly maxDepth?: number;
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
  /** The valid rules, in file order. When `ok` is false, rules with errors are left out. */
  readonly ruleSet: RuleSet;
  /** `locations[i]` is where `ruleSet.rules[i]` starts. Built on first access. */
  readonly locations: readonly RuleLocation[];
  readonly diagnostics: readonly Diagnostic[];
  /** True when there is no error (warnings allowed). */
  readonly ok: boolean;
  /** The file's rules and comments in order, for comment-preserving formatting. Built on first access. */
  readonly items: readonly SourceItem[];
}

const AGGREGATORS = ['all', 'any', 'not', 'atleast', 'true', 'false'] as const;
const ATTRIBUTES = ['med', 'local-pref', 'community', 'large-community'] as const;
const U32 = 0xffffffff;

class Abort {}

const looksLikeAddress = (text: string) => /[.:]/.test(text) && /^[0-9A-Fa-f:./]+$/.test(text);

const proxyKey = (t: ProxyTerm) =>
  `${t.side}:${t.name}>=${t.threshold?.value ?? ''}${t.threshold?.kind ?? ''}`;

const sameProxy = (a: ProxyTerm, b: ProxyTerm) =>
  a.side === b.side &&
  a.name === b.name &&
  a.threshold?.kind === b.threshold?.kind &&
  a.threshold?.value === b.threshold?.value;

const termKey = (t: Expr) => (t.type === 'proxy' ? proxyKey(t) : formatExpr(t));

/**
 * Whether `arg` repeats one of the arguments read so far (`list` from `base` up). Short lists (the usual
 * case) are compared pairwise without allocating; long ones get a set of keys, so that a huge list stays
 * linear.
 */
function repeats(list: ScratchStack<Expr>, base: number, arg: Expr, keys: Set<string> | undefined): boolean {
  if (keys) {
    const key = termKey(arg);
    if (keys.has(key)) return true;
    keys.add(key);
    return false;
  }
  let text: string | undefined;
  for (let i = base; i < list.size; i++) {
    const other = list.at(i);
    if (
      arg.type === 'proxy'
        ? other?.type === 'proxy' && sameProxy(arg, other)
        : other?.type === arg.type && (text ??= formatExpr(arg)) === formatExpr(other)
    ) {
      return true;
    }
  }
  return false;
}

const SPACE = 1;
const IDENT_START = 2;
const IDENT = 4;
const DIGIT = 8;
const TARGET_END = 16;
const NAME_END = 32;
const ATTRIBUTE_NAME = 64;
const CLASSES = new Uint8Array(128);
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
/** Character class bits of a UTF-16 code unit (NaN, past the end, has none). */
const cls = (code: number): number => (code < 128 ? (CLASSES[code] ?? 0) : 0);
const isSpace = (code: number) => (cls(code) & SPACE) !== 0;
const isIdentStart = (code: number) => (cls(code) & IDENT_START) !== 0;
const isIdent = (code: number) => (cls(code) & IDENT) !== 0;
const isDigit = (code: number) => (cls(code) & DIGIT) !== 0;

class Parser {
  private pos = 0;
  private depth = 0;
  private failed = false;
  private readonly lineStarts: number[] = [0];
  /** Index in lineStarts of the line last found by lineOf(). */
  private lastLine = 0;
  readonly diagnostics: Diagnostic[] = [];
  readonly rules: Rule[] = [];
  readonly source: SourceIndex;
  /** The arguments and routes being read. */
  private readonly argStack = new ScratchStack<Expr>();
  private readonly routeStack = new ScratchStack<Route>();
  /** Per table: its name (one string shared by its routes) and the line of each prefix seen so far. */
  private readonly seen = new Map<string, { readonly name: string; readonly lines: Map<string, number> }>();
  /** Plain proxy terms are immutable: one object per backend or frontend, shared by the rules naming it. */
  private readonly backends = new Map<string, ProxyTerm>();
  private readonly frontends = new Map<string, ProxyTerm>();
  /** Backend terms with a threshold, likewise, by name and then by `value * 2 + (percent ? 1 : 0)`. */
  private readonly thresholds = new Map<string, Map<number, ProxyTerm>>();
  /** Comments inside the current statement, by offset (ws() may pass the same one twice after a backtrack). */
  private readonly inner = new Map<number, string>();

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly maxDepth: number,
  ) {
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', nl + 1)) this.lineStarts.push(nl + 1);
    this.source = new SourceIndex(text, this.lineStarts.length);
  }

  run(): void {
    // A UTF-8 byte order mark, as some Windows editors write one.
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1;
    for (;;) {
      this.skipBlankLines();
      if (this.pos >= this.text.length) return;
      this.statement();
    }
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
    return this.text.slice(start, next === undefined ? this.text.length : next - 1).replace(/\r$/, '');
  }

  private report(
    severity: 'error' | 'warning',
    code: DiagnosticCode,
    message: string,
    offset: number,
    length = 1,
  ) {
    const line = this.lineOf(offset);
    const lineText = this.lineText(line);
    this.diagnostics.push({
      severity,
      code,
      message,
      file: this.file,
      line,
      // A line's text leaves out a final '\r': an offset past it points just after the visible text.
      column: Math.min(offset - (this.lineStarts[line - 1] ?? 0) + 1, lineText.length + 1),
      length: Math.max(1, length),
      lineText,
    });
    if (severity === 'error') this.failed = true;
  }

  private error(code: DiagnosticCode, message: string, offset: number, length = 1): void {
    this.report('error', code, message, offset, length);
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

  private describeHere(): string {
    const c = this.peek();
    if (c === undefined) return 'the end of the file';
    if (c === '\n') return 'the end of the line';
    return `'${c}'`;
  }

  private skipBlankLines(): void {
    for (;;) {
      while (isSpace(this.code())) this.pos++;
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

  /** Whether the line that starts at `from` (after blank and comment lines) begins a new rule. */
  private nextLineStartsRule(from: number): boolean {
    let i = from;
    for (;;) {
      while (i < this.text.length && (isSpace(this.text.charCodeAt(i)) || this.text[i] === '\n')) i++;
      if (i >= this.text.length) return false;
      if (this.text[i] !== '#') break;
      const nl = this.text.indexOf('\n', i);
      if (nl < 0) return false;
      i = nl;
    }
    const nl = this.text.indexOf('\n', i);
    const line = this.text.slice(i, nl < 0 ? this.text.length : nl);
    const hash = line.indexOf('#');
    return /(^|[^<>=])=($|[^=])/.test(hash < 0 ? line : line.slice(0, hash));
  }

  /** Skips spaces; inside parentheses also newlines and comments, unless the next line starts a new rule. */
  private ws(): void {
    for (;;) {
      while (isSpace(this.code())) this.pos++;
      if (this.depth === 0) return;
      const c = this.peek();
      if (c === '#') {
        const s = this.pos;
        this.skipComment();
        this.inner.set(s, this.text.slice(s, this.pos).trimEnd());
      } else if (c === '\n' && !this.nextLineStartsRule(this.pos + 1)) {
        this.pos++;
      } else {
        return;
      }
    }
  }

  private statement(): void {
    const start = this.pos;
    this.failed = false;
    if (this.inner.size) this.inner.clear();
    // An error may have left a half-read list on the stacks.
    this.argStack.clear();
    this.routeStack.clear();
    let rule: Rule | undefined;
    let commentStart = NO_COMMENT;
    let commentEnd = NO_COMMENT;
    try {
      rule = this.rule();
      while (isSpace(this.code())) this.pos++;
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
    if (rule && !this.failed) {
      this.rules.push(rule);
      const innerComments = this.inner.size
        ? [...this.inner.entries()].sort(([a], [b]) => a - b).map(([, text]) => text)
        : undefined;
      const column = start - (this.lineStarts[line - 1] ?? 0) + 1;
      this.source.addRule(line, column, endLine, commentStart, commentEnd, innerComments);
    } else {
      this.source.addInvalidRule(line, endLine);
    }
    this.depth = 0;
  }

  /** After an error: skip the rest of the statement (continuation lines included). */
  private recover(): void {
    let depth = this.depth;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '#') this.skipComment();
      else if (c === '\n') {
        if (depth <= 0 || this.nextLineStartsRule(this.pos + 1)) return;
        this.pos++;
      } else {
        if (c === '(') depth++;
        else if (c === ')') depth--;
        this.pos++;
      }
    }
  }

  private rule(): Rule | undefined {
    const routes = this.targets();
    this.ws();
    if (this.peek() !== '=') {
      this.fatal('RULE_SYNTAX', `expected '=' after the networks, found ${this.describeHere()}`, this.pos);
    }
    this.pos++;
    this.ws();
    const expr = this.expr(0);
    this.ws();
    let attributes: RouteAttributes | undefined;
    if (this.text.startsWith('with', this.pos) && !isIdent(this.text.charCodeAt(this.pos + 4))) {
      this.pos += 4;
      attributes = this.attributes();
    }
    return attributes ? { routes, expr, attributes } : { routes, expr };
  }

  private targets(): Route[] {
    const routes = this.routeStack;
    for (;;) {
      this.ws();
      const start = this.pos;
      while (this.pos < this.text.length && !(cls(this.code()) & TARGET_END)) this.pos++;
      const word = this.text.slice(start, this.pos);
      if (word === '') {
        this.fatal(
          'RULE_SYNTAX',
          `expected a network (address or CIDR), found ${this.describeHere()}`,
          this.pos,
        );
      }
      const route = this.target(word, start);
      if (route) routes.push(route);
      this.ws();
      if (this.peek() !== ',') return routes.popFrom(0);
      this.pos++;
    }
  }

  private target(word: string, start: number): Route | undefined {
    const percent = word.indexOf('%');
    if (percent >= 0 && word.includes('%', percent + 1)) {
      this.error(
        'RULE_SYNTAX',
        `'${word}' has more than one '%': write <table>%<network>`,
        start,
        word.length,
      );
      return undefined;
    }
    let table = DEFAULT_TABLE;
    let network = word;
    let networkOffset = start;
    if (percent >= 0) {
      const left = word.slice(0, percent);
      const right = word.slice(percent + 1);
      // The network is the side that looks like an address (table names hold no '.' or ':').
      const suffixForm = looksLikeAddress(left) && !looksLikeAddress(right);
      table = suffixForm ? right : left;
      network = suffixForm ? left : right;
      const tableOffset = suffixForm ? start + left.length + 1 : start;
      networkOffset = suffixForm ? start : start + left.length + 1;
      // A table in `seen` has passed the check already.
      const problem = this.seen.has(table) ? undefined : tableNameProblem(table);
      if (problem) {
        this.error('RULE_BAD_TABLE', problem, tableOffset, table.length);
        return undefined;
      }
    }
    const parsed = parsePrefix(network);
    if (!parsed.ok) {
      this.error(parsed.code, parsed.message, networkOffset + parsed.offset, parsed.length);
      return undefined;
    }
    if (parsed.length === 0) {
      this.report(
        'warning',
        'RULE_DEFAULT_ROUTE',
        `${parsed.prefix} is a default route`,
        networkOffset,
        network.length,
      );
    }
    let inTable = this.seen.get(table);
    if (!inTable) {
      inTable = { name: table, lines: new Map() };
      this.seen.set(table, inTable);
    }
    const line = this.lineOf(start);
    const previous = inTable.lines.get(parsed.prefix);
    if (previous !== undefined) {
      this.error(
        'RULE_DUPLICATE_ROUTE',
        previous === line
          ? `${parsed.prefix} in table ${table} is listed twice on this line`
          : `${parsed.prefix} in table ${table} is already controlled by the rule at line ${previous}`,
        start,
        word.length,
      );
      return undefined;
    }
    inTable.lines.set(parsed.prefix, line);
    return { table: inTable.name, prefix: parsed.prefix, family: parsed.family };
  }

  private expr(level: number): Expr {
    const start = this.pos;
    if (level > this.maxDepth) {
      this.fatal('RULE_TOO_DEEP', `expressions are nested deeper than ${this.maxDepth} levels`, start);
    }
    if (!isIdentStart(this.code())) {
      const c = this.peek();
      const missing = this.depth > 0 && (c === undefined || c === '\n') ? " (is a ')' missing?)" : '';
      this.fatal(
        'RULE_SYNTAX',
        `expected an aggregator such as all(...) or a term such as b:<backend>, found ${this.describeHere()}${missing}`,
        start,
      );
    }
    while (isIdent(this.code())) this.pos++;
    const word = this.word(start, this.pos);
    const afterWord = this.pos;
    this.ws();
    if (this.peek() === ':') return this.proxy(word, start);
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
        this.pos++;
        this.depth++;
        this.ws();
        if (this.peek() !== ')') this.fatal('RULE_ARITY', `${word}() takes no arguments`, this.pos);
        this.pos++;
        this.depth--;
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
      return { type: 'const', value: word === 'true' };
    }
    if (!open)
      this.fatal('RULE_SYNTAX', `expected '(' after '${word}', found ${this.describeHere()}`, this.pos);
    const openAt = this.pos;
    this.pos++;
    this.depth++;
    this.ws();
    let n: number | undefined;
    let nText = '';
    let nAt = this.pos;
    if (word === 'atleast' && this.peek() !== ')') {
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
      if (this.peek() !== ',')
        this.fatal('RULE_SYNTAX', `expected ',' after the count, found ${this.describeHere()}`, this.pos);
      this.pos++;
      this.ws();
    }
    const args = this.args(level, word, openAt);
    this.depth--;
    if (word === 'not') {
      const [arg] = args;
      if (args.length !== 1 || !arg)
        this.fatal(
          'RULE_ARITY',
          `not() takes exactly one term, found ${args.length}`,
          start,
          this.pos - start,
        );
      return { type: 'not', arg };
    }
    if (word === 'atleast') {
      const count = n ?? 0;
      if (!Number.isSafeInteger(count) || count < 1 || count > args.length) {
        this.error(
          'RULE_BAD_QUORUM',
          `atleast(${nText}, ...) needs a count from 1 to its ${args.length} term${args.length === 1 ? '' : 's'}`,
          nAt,
          nText.length,
        );
      }
      return { type: 'atleast', n: count, args };
    }
    return { type: word === 'all' ? 'all' : 'any', args };
  }

  /**
   * The text from `start` to `end`: one of the constant words when it is an aggregator (most words are),
   * so that the hot path does not allocate a string per word.
   */
  private word(start: number, end: number): string {
    for (const known of AGGREGATORS) {
      if (known.length === end - start && this.text.startsWith(known, start)) return known;
    }
    return this.text.slice(start, end);
  }

  private args(level: number, word: string, openAt: number): Expr[] {
    const stack = this.argStack;
    const base = stack.size;
    let keys: Set<string> | undefined;
    if (this.peek() === ')') {
      if (word !== 'not')
        this.fatal('RULE_EMPTY_ARGS', `${word}() needs at least one term`, openAt, this.pos - openAt + 1);
      this.fatal('RULE_ARITY', `not() takes exactly one term, found 0`, openAt, this.pos - openAt + 1);
    }
    for (;;) {
      const at = this.pos;
      const arg = this.expr(level + 1);
      if (!keys && stack.size - base > 16) {
        keys = new Set<string>();
        for (let i = base; i < stack.size; i++) keys.add(termKey(stack.at(i) as Expr));
      }
      if (repeats(stack, base, arg, keys)) {
        this.report(
          'warning',
          'RULE_REPEATED_TERM',
          `'${formatExpr(arg)}' appears twice in ${word}()`,
          at,
          this.pos - at,
        );
      }
      stack.push(arg);
      this.ws();
      const c = this.peek();
      if (c === ')') {
        this.pos++;
        return stack.popFrom(base);
      }
      if (c !== ',') {
        this.fatal(
          'RULE_SYNTAX',
          c === undefined || c === '\n'
            ? `missing ')' to close '${word}(' at ${this.lineOf(openAt) === this.lineOf(this.pos) ? '' : `line ${this.lineOf(openAt)}, `}column ${openAt - (this.lineStarts[this.lineOf(openAt) - 1] ?? 0) + 1}`
            : `expected ',' or ')' in ${word}(...), found ${this.describeHere()}`,
          this.pos,
        );
      }
      this.pos++;
      this.ws();
    }
  }

  private proxy(kind: string, start: number): Expr {
    if (kind !== 'b' && kind !== 'f') {
      this.fatal(
        'RULE_UNKNOWN_PROXY_KIND',
        `unknown proxy kind '${kind}:'; expected 'b:' (backend) or 'f:' (frontend)`,
        start,
        kind.length + 1,
      );
    }
    this.pos++;
    while (isSpace(this.code())) this.pos++;
    const nameAt = this.pos;
    while (this.pos < this.text.length && !(cls(this.code()) & NAME_END)) this.pos++;
    const name = this.text.slice(nameAt, this.pos);
    const side = kind === 'b' ? 'backend' : 'frontend';
    if (name === '') this.fatal('RULE_BAD_PROXY_NAME', `expected a ${side} name after '${kind}:'`, nameAt);
    const known = side === 'backend' ? this.backends : this.frontends;
    let term = known.get(name);
    // A name met before in a plain term has passed the check.
    if (!term && !PROXY_NAME.test(name)) {
      const bad = [...name].find((c) => !PROXY_NAME.test(c)) ?? '';
      this.fatal(
        'RULE_BAD_PROXY_NAME',
        `${side} name '${name}' has '${bad}'; HAProxy names hold only letters, digits, '-', '_', '.' and ':'`,
        nameAt,
        name.length,
      );
    }
    while (isSpace(this.code())) this.pos++;
    if (this.peek() === '>' || this.peek() === '<' || this.peek() === '=') {
      return this.threshold(side, name);
    }
    if (!term) {
      term = { type: 'proxy', side, name };
      known.set(name, term);
    }
    return term;
  }

  private threshold(side: 'backend' | 'frontend', name: string): Expr {
    const opAt = this.pos;
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
        `capacity thresholds apply to backends only (f:${name} is a frontend)`,
        opAt,
        2,
      );
    }
    this.pos += 2;
    while (isSpace(this.code())) this.pos++;
    const numAt = this.pos;
    while (isDigit(this.code())) this.pos++;
    const digits = this.text.slice(numAt, this.pos);
    const percent = this.peek() === '%';
    if (percent) this.pos++;
    if (digits === '' || /^0[0-9]/.test(digits)) {
      this.fatal(
        'RULE_BAD_THRESHOLD',
        `expected a whole number after '>=', e.g. b:${name}>=2 or b:${name}>=50%`,
        numAt,
      );
    }
    const value = Number(digits);
    if (percent && (value < 1 || value > 100)) {
      this.error(
        'RULE_BAD_THRESHOLD',
        `a percentage threshold must be from 1% to 100%, found ${digits}%`,
        numAt,
        digits.length + 1,
      );
    } else if (!percent && (value < 1 || value > 1_000_000)) {
      this.error(
        'RULE_BAD_THRESHOLD',
        `a server-count threshold must be from 1 to 1000000, found ${digits}`,
        numAt,
        digits.length,
      );
    }
    let byValue = this.thresholds.get(name);
    if (!byValue) {
      byValue = new Map();
      this.thresholds.set(name, byValue);
    }
    const key = value * 2 + (percent ? 1 : 0);
    let term = byValue.get(key);
    if (!term) {
      term = { type: 'proxy', side, name, threshold: { kind: percent ? 'percent' : 'count', value } };
      byValue.set(key, term);
    }
    return term;
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
    const communities: [number, number][] = [];
    const largeCommunities: [number, number, number][] = [];
    for (;;) {
      this.ws();
      const at = this.pos;
      while (cls(this.code()) & ATTRIBUTE_NAME) this.pos++;
      const name = this.text.slice(at, this.pos);
      if (!(ATTRIBUTES as readonly string[]).includes(name)) {
        const guess = nearest(name, ATTRIBUTES);
        this.fatal(
          'RULE_BAD_ATTRIBUTE',
          name === ''
            ? `expected a route attribute (${ATTRIBUTES.join(', ')}), found ${this.describeHere()}`
            : `unknown route attribute '${name}'${guess ? `; did you mean '${guess}'?` : `; expected one of ${ATTRIBUTES.join(', ')}`}`,
          at,
          name.length,
        );
      }
      while (isSpace(this.code())) this.pos++;
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
        if (communities.some(([x, y]) => x === a && y === b)) {
          this.error('RULE_BAD_ATTRIBUTE', `community ${a}:${b} is given twice`, valueAt, this.pos - valueAt);
        }
        communities.push([a, b]);
      } else {
        const a = this.part(true, U32, name);
        const b = this.part(false, U32, name);
        const c = this.part(false, U32, name);
        if (largeCommunities.some(([x, y, z]) => x === a && y === b && z === c)) {
          this.error(
            'RULE_BAD_ATTRIBUTE',
            `large-community ${a}:${b}:${c} is given twice`,
            valueAt,
            this.pos - valueAt,
          );
        }
        largeCommunities.push([a, b, c]);
      }
      while (isSpace(this.code())) this.pos++;
      if (this.peek() !== ',') break;
      this.pos++;
    }
    // Properties in the order of the canonical text; slice() sizes the lists exactly (see ScratchStack).
    const attributes: { -readonly [K in keyof RouteAttributes]: RouteAttributes[K] } = {};
    if (med !== undefined) attributes.med = med;
    if (localPref !== undefined) attributes.localPref = localPref;
    if (communities.length) attributes.communities = communities.slice();
    if (largeCommunities.length) attributes.largeCommunities = largeCommunities.slice();
    return attributes;
  }
}

/**
 * Parses a rules file (a superset of HAProxy Enterprise's hapee-rhi.cfg). Never throws: all problems of
 * the file are reported at once as diagnostics, and the valid rules are still returned.
 */
export function parse(text: string, options: ParseOptions = {}): ParseResult {
  const parser = new Parser(text, options.file ?? '<input>', options.maxDepth ?? 32);
  parser.run();
  const { diagnostics, rules, source } = parser;
  let locations: readonly RuleLocation[] | undefined;
  let items: readonly SourceItem[] | undefined;
  // locations and items are built on first access; as enumerable own getters they still show in a spread,
  // JSON.stringify, structuredClone or deep equality like plain properties.
  return {
    ruleSet: { version: 1, rules },
    get locations() {
      return (locations ??= source.locations());
    },
    diagnostics,
    ok: !diagnostics.some((d) => d.severity === 'error'),
    get items() {
      return (items ??= source.items(rules));
    },
  };
}
