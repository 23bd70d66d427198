import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BirdReplyReader, type BirdReaderEvent, type BirdReply } from '../../src/reply-reader.js';

export const repliesDir = join(import.meta.dirname, '..', 'fixtures', 'replies');

export function fixtureNames(): string[] {
  return readdirSync(repliesDir)
    .filter((f) => f.endsWith('.txt'))
    .map((f) => f.slice(0, -4))
    .sort();
}

export function fixtureBytes(name: string): Buffer {
  return readFileSync(join(repliesDir, `${name}.txt`));
}

export function readAll(bytes: Uint8Array | string): BirdReaderEvent[] {
  return new BirdReplyReader().push(bytes);
}

/** The single reply a fixture holds (async lines before it are skipped). */
export function fixtureReply(name: string): BirdReply {
  const replies = readAll(fixtureBytes(name)).flatMap((e) => (e.kind === 'reply' ? [e.reply] : []));
  if (replies.length !== 1 || !replies[0])
    throw new Error(`${name}: expected one reply, got ${replies.length}`);
  return replies[0];
}
