import { BirdProtocolError } from './errors.js';

/** One line of a reply. Continuation lines (led by a space) carry the code of the line before them. */
export interface BirdReplyLine {
  readonly code: number;
  readonly text: string;
}

/** A complete reply: every line in order, the last one being the final `DDDD ` line. */
export interface BirdReply {
  /** Code of the final line, e.g. 0 for `0000`, 3 for `0003 Reconfigured`, 8001 for an error. */
  readonly code: number;
  /** Text of the final line. */
  readonly text: string;
  readonly lines: readonly BirdReplyLine[];
}

/** What the reader emits: a complete reply, or an asynchronous `+` line (log echo, undo timer). */
export type BirdReaderEvent =
  { readonly kind: 'reply'; readonly reply: BirdReply } | { readonly kind: 'async'; readonly text: string };

const NEWLINE = 0x0a;
const CODE_LINE = /^(\d{4})([ -])(.*)$/s;

/**
 * Reassembles BIRD control-socket replies from arbitrary chunks.
 * Framing (nest/cli.c): `DDDD-text` continues, `DDDD text` ends the reply, ` text` continues with the
 * previous code, `+text` is asynchronous output that may arrive between or before replies.
 */
export class BirdReplyReader {
  private pending: Buffer = Buffer.alloc(0);
  private lines: BirdReplyLine[] = [];

  push(chunk: Uint8Array | string): BirdReaderEvent[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.pending = this.pending.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.pending, bytes]);
    const events: BirdReaderEvent[] = [];
    let start = 0;
    for (
      let nl = this.pending.indexOf(NEWLINE, start);
      nl !== -1;
      nl = this.pending.indexOf(NEWLINE, start)
    ) {
      const event = this.line(this.pending.toString('utf8', start, nl));
      if (event) events.push(event);
      start = nl + 1;
    }
    this.pending = this.pending.subarray(start);
    return events;
  }

  /** True when no partial line or partial reply is buffered. */
  get idle(): boolean {
    return this.pending.length === 0 && this.lines.length === 0;
  }

  private line(raw: string): BirdReaderEvent | undefined {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('+')) return { kind: 'async', text: line.slice(1) };
    if (line.startsWith(' ')) {
      const previous = this.lines.at(-1);
      if (!previous) throw new BirdProtocolError(line);
      this.lines.push({ code: previous.code, text: line.slice(1) });
      return undefined;
    }
    const match = CODE_LINE.exec(line);
    if (!match) throw new BirdProtocolError(line);
    const code = Number(match[1]);
    const text = match[3] ?? '';
    this.lines.push({ code, text });
    if (match[2] === '-') return undefined;
    const reply: BirdReply = { code, text, lines: this.lines };
    this.lines = [];
    return { kind: 'reply', reply };
  }
}
