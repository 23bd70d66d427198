/**
 * Splits the byte stream of one non-interactive CLI connection into command replies. Each reply ends
 * with an empty line; a reply that is only that empty line (a successful state change) comes out as `''`.
 * Replies are returned without their terminating empty line; UTF-8 split across chunks is reassembled.
 */
export class ReplyReader {
  readonly #decoder = new TextDecoder('utf-8', { fatal: false });
  #parts: string[] = [];
  #pendingLength = 0;
  #endsWithNewline = false;

  /** Feeds a chunk; returns the replies it completed, in order. */
  push(chunk: Uint8Array): string[] {
    const text = this.#decoder.decode(chunk, { stream: true });
    const replies: string[] = [];
    let i = 0;
    while (i < text.length) {
      // An empty line: either a whole (empty) reply or the end of the pending one.
      if ((this.#pendingLength === 0 || this.#endsWithNewline) && text.charCodeAt(i) === 10) {
        replies.push(this.#take(''));
        i++;
        continue;
      }
      const end = text.indexOf('\n\n', i);
      if (end === -1) {
        this.#parts.push(text.slice(i));
        this.#pendingLength += text.length - i;
        this.#endsWithNewline = text.charCodeAt(text.length - 1) === 10;
        break;
      }
      replies.push(this.#take(text.slice(i, end + 1)));
      i = end + 2;
    }
    return replies;
  }

  /**
   * Call at EOF: returns the text of a last reply that had no terminating empty line (HAProxy answers
   * some errors that way), or `null` when everything was delivered.
   */
  end(): string | null {
    const rest = this.#take(this.#decoder.decode());
    return rest === '' ? null : rest;
  }

  #take(tail: string): string {
    const reply = this.#parts.length === 0 ? tail : this.#parts.join('') + tail;
    this.#parts = [];
    this.#pendingLength = 0;
    this.#endsWithNewline = false;
    return reply;
  }
}

/** Splits a `show events <ring> -w` stream into lines (without `\n`); empty lines are dropped. */
export class EventLineReader {
  readonly #decoder = new TextDecoder('utf-8', { fatal: false });
  #buffer = '';

  push(chunk: Uint8Array): string[] {
    this.#buffer += this.#decoder.decode(chunk, { stream: true });
    const lines = this.#buffer.split('\n');
    this.#buffer = lines.pop() ?? '';
    return lines.filter((l) => l !== '');
  }

  /** Call at EOF: the last line if it had no newline, else `null`. */
  end(): string | null {
    const rest = this.#buffer + this.#decoder.decode();
    this.#buffer = '';
    return rest === '' ? null : rest;
  }
}
