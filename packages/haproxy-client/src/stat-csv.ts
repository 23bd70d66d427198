import type { StatObjectType } from './commands.js';
import { HaproxyMalformedReplyError } from './errors.js';

/** One row of `show stat`: the fields every consumer needs, plus all raw values by column position. */
export interface StatRow {
  /** `pxname`: the frontend, backend or listen section. */
  readonly proxy: string;
  /** `svname`: `FRONTEND`, `BACKEND`, a server name or a listener name. */
  readonly name: string;
  readonly type: StatObjectType;
  /** `status` exactly as HAProxy prints it (`UP`, `UP 1/2`, `MAINT (via be/s2)`, `PAUSED`, ...). */
  readonly status: string;
  /** A server row of a `backup` server (`bck` is 1); false for every other row. */
  readonly backup: boolean;
  /** `scur`: current sessions (0 when the column is empty or absent). */
  readonly sessions: number;
  /** `iid`: the proxy's numeric id (NaN when the column is empty or absent). */
  readonly iid: number;
  /** Every value of the row, unquoted, indexed like `StatTable.columns` (split on first access). */
  readonly values: readonly string[];
}

/** A parsed `show stat` reply. Columns are read by name, so newer versions' extra columns do no harm. */
export interface StatTable {
  readonly columns: readonly string[];
  readonly columnIndex: ReadonlyMap<string, number>;
  readonly rows: readonly StatRow[];
}

const TYPES: readonly StatObjectType[] = ['frontend', 'backend', 'server', 'listener'];

/** The value of a named column in a row, or `undefined` when this HAProxy does not print that column. */
export function statValue(table: StatTable, row: StatRow, column: string): string | undefined {
  const i = table.columnIndex.get(column);
  return i === undefined ? undefined : row.values[i];
}

// Positions in the list of columns every row needs (`Layout.slots`).
const PROXY = 0;
const NAME = 1;
const STATUS = 2;
const TYPE = 3;
const BACKUP = 4;
const SESSIONS = 5;
const IID = 6;

/** Where the needed columns are: `slotOf[column]` is the slot of a needed column, -1 otherwise. */
interface Layout {
  readonly slots: readonly number[];
  readonly slotOf: Int32Array;
  readonly last: number;
}

/**
 * Parses `show stat` CSV (HAProxy 2.x): a `# ` header, every line ending with a comma, fields quoted
 * only when needed with `"` doubled. Takes the reply as one string or as the pieces of
 * `ReplyReader.pushPieces` (cut at line ends). Throws `HaproxyMalformedReplyError` naming the offending line.
 */
export function parseStat(input: string | readonly string[]): StatTable {
  if (typeof input !== 'string' && input.length !== 1) {
    // Records never span pieces, unless a quoted value holds a newline: then read the text whole.
    if (input.length === 0 || input.some((piece) => piece.includes('"'))) return parseStat(input.join(''));
  }
  const pieces = typeof input === 'string' ? [input] : input;
  const text = pieces[0]!;
  let pos = 0;
  while (pos < text.length && text.charCodeAt(pos) === 10) pos++;
  if (!text.startsWith('# ', pos))
    throw new HaproxyMalformedReplyError('show stat header', firstLine(text, pos));
  pos += 2;
  const header = readRecord(text, pos);
  const columns = header.fields;
  const columnIndex = new Map<string, number>();
  columns.forEach((c, i) => {
    if (!columnIndex.has(c)) columnIndex.set(c, i);
  });
  const slots = [
    required(columnIndex, 'pxname', text),
    required(columnIndex, 'svname', text),
    required(columnIndex, 'status', text),
    required(columnIndex, 'type', text),
    columnIndex.get('bck') ?? -1,
    columnIndex.get('scur') ?? -1,
    columnIndex.get('iid') ?? -1,
  ];
  const last = Math.max(...slots);
  const slotOf = new Int32Array(last + 1).fill(-1);
  slots.forEach((column, slot) => {
    if (column !== -1) slotOf[column] = slot;
  });
  const layout: Layout = { slots, slotOf, last };
  const rows: StatRow[] = [];
  readRows(text, header.next, layout, rows);
  for (let i = 1; i < pieces.length; i++) readRows(pieces[i]!, 0, layout, rows);
  return { columns, columnIndex, rows };
}

function readRows(text: string, from: number, layout: Layout, rows: StatRow[]): void {
  const head: (string | undefined)[] = new Array<string | undefined>(layout.slots.length);
  let pos = from;
  let nextQuote = text.indexOf('"', pos);
  while (pos < text.length) {
    if (text.charCodeAt(pos) === 10) {
      pos++;
      continue;
    }
    let end = text.indexOf('\n', pos);
    if (end === -1) end = text.length;
    const start = pos;
    // Fast path: a line without quotes is only cut at the columns the row needs; the rest waits.
    let complete: boolean;
    let line: string | null = null;
    let values: string[] | null = null;
    if (nextQuote !== -1 && nextQuote < pos) nextQuote = text.indexOf('"', pos);
    head.fill(undefined);
    if (nextQuote === -1 || nextQuote > end) {
      line = text.slice(pos, end);
      complete = cutColumns(line, layout, head);
      pos = end + 1;
    } else {
      const record = readQuotedRecord(text, pos);
      values = record.fields;
      complete = values.length > layout.last;
      layout.slots.forEach((column, slot) => (head[slot] = values![column]));
      pos = record.next;
    }
    const typeText = head[TYPE];
    const type = typeText === undefined || typeText === '' ? undefined : TYPES[Number(typeText)];
    if (!complete || type === undefined) {
      throw new HaproxyMalformedReplyError('show stat row', firstLine(text, start));
    }
    rows.push(
      new LazyRow(
        head[PROXY]!,
        head[NAME]!,
        type,
        head[STATUS]!,
        type === 'server' && head[BACKUP] === '1',
        Number(head[SESSIONS] ?? 0) || 0,
        head[IID] === undefined || head[IID] === '' ? NaN : Number(head[IID]),
        line,
        values,
      ),
    );
  }
}

class LazyRow implements StatRow {
  #line: string | null;
  #values: string[] | null;

  constructor(
    readonly proxy: string,
    readonly name: string,
    readonly type: StatObjectType,
    readonly status: string,
    readonly backup: boolean,
    readonly sessions: number,
    readonly iid: number,
    line: string | null,
    values: string[] | null,
  ) {
    this.#line = line;
    this.#values = values;
  }

  get values(): readonly string[] {
    if (this.#values === null) {
      const line = this.#line ?? '';
      this.#values = line.split(',');
      if (line.endsWith(',')) this.#values.pop();
      this.#line = null;
    }
    return this.#values;
  }
}

/**
 * Puts the needed values of a line without quotes into `head` (by slot), reading no further than the
 * last needed column; false when the line has fewer fields.
 */
function cutColumns(line: string, layout: Layout, head: (string | undefined)[]): boolean {
  const { slotOf, last } = layout;
  let from = 0;
  for (let i = 0; i <= last; i++) {
    let comma = line.indexOf(',', from);
    if (comma === -1) {
      if (i < last || from >= line.length) return false;
      comma = line.length;
    }
    const slot = slotOf[i]!;
    if (slot !== -1) head[slot] = line.slice(from, comma);
    from = comma + 1;
  }
  return true;
}

function required(index: ReadonlyMap<string, number>, column: string, text: string): number {
  const i = index.get(column);
  if (i === undefined)
    throw new HaproxyMalformedReplyError(`show stat header (no ${column} column)`, firstLine(text, 0));
  return i;
}

function firstLine(text: string, from: number): string {
  const end = text.indexOf('\n', from);
  return text.slice(from, end === -1 ? undefined : end);
}

/** Reads one CSV record starting at `pos`; the trailing comma HAProxy prints is not a field. */
function readRecord(text: string, pos: number): { fields: string[]; next: number } {
  let end = text.indexOf('\n', pos);
  if (end === -1) end = text.length;
  const line = text.slice(pos, end);
  if (!line.includes('"')) {
    const fields = line.split(',');
    if (line.endsWith(',')) fields.pop();
    return { fields, next: end + 1 };
  }
  return readQuotedRecord(text, pos);
}

function readQuotedRecord(text: string, pos: number): { fields: string[]; next: number } {
  const fields: string[] = [];
  let i = pos;
  for (;;) {
    let value = '';
    if (text.charCodeAt(i) === 34) {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1)
          throw new HaproxyMalformedReplyError('show stat field (unterminated quote)', firstLine(text, pos));
        value += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 34) {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      const c = text.charCodeAt(i);
      if (i < text.length && c !== 44 && c !== 10) {
        throw new HaproxyMalformedReplyError(
          'show stat field (text after closing quote)',
          firstLine(text, pos),
        );
      }
    } else {
      let j = i;
      while (j < text.length && text.charCodeAt(j) !== 44 && text.charCodeAt(j) !== 10) j++;
      value = text.slice(i, j);
      i = j;
    }
    const c = text.charCodeAt(i);
    if (c === 44) {
      i++;
      if (i >= text.length || text.charCodeAt(i) === 10) {
        fields.push(value);
        return { fields, next: i + 1 };
      }
      fields.push(value);
      continue;
    }
    fields.push(value);
    return { fields, next: i + 1 };
  }
}
