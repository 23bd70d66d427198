import { readFile } from 'node:fs/promises';

/** One line of a BIRD log file. The time BIRD printed is dropped: tests count records, never compare times. */
export interface BirdLogRecord {
  /** BIRD's class: `INFO`, `TRACE` (debug output), `RMT`, `WARN`, `ERR`, `BUG`, ... */
  readonly class: string;
  readonly message: string;
}

const LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? <([A-Z]+)> (.*)$/;

/**
 * Parses what `log "<file>" all;` wrote (BIRD's default `timeformat log`). BIRD writes each line with one
 * write(2) before it answers the command that caused it; a last line without its newline is still being
 * written and is left out.
 */
export function parseBirdLog(text: string): BirdLogRecord[] {
  const lines = text.split('\n');
  lines.pop();
  return lines.map((line) => {
    const m = LINE.exec(line);
    if (!m) throw new Error(`not a BIRD log line: ${JSON.stringify(line)}`);
    return { class: m[1] ?? '', message: m[2] ?? '' };
  });
}

export async function readBirdLog(path: string): Promise<BirdLogRecord[]> {
  return parseBirdLog(await readFile(path, 'utf8'));
}
