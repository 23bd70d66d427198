import { describe, expect, it } from 'vitest';
import { fixture, splits } from '../test/support/fixtures.js';
import { EventLineReader, ReplyReader } from './reply-reader.js';

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

function readAll(chunks: readonly Uint8Array[]): { replies: string[]; rest: string | null } {
  const reader = new ReplyReader();
  const replies = chunks.flatMap((c) => reader.push(c));
  return { replies, rest: reader.end() };
}

describe('ReplyReader', () => {
  it('splits a two-command reply at every offset and byte by byte', () => {
    const raw = fixture('info-and-stat.txt');
    const [info, stat] = raw.split('\n\n');
    for (const chunks of splits(encode(raw))) {
      expect(readAll(chunks)).toEqual({ replies: [`${info}\n`, `${stat}\n`], rest: null });
    }
  });

  it('splits show version;show cli level', () => {
    expect(readAll([encode(fixture('version-and-level.txt'))])).toEqual({
      replies: [expect.stringMatching(/^2\.6\.\d+/), 'admin\n'],
      rest: null,
    });
  });

  it('returns an empty reply for each successful state change', () => {
    for (const chunks of splits(encode(`${fixture('errors/success.txt')}\n`))) {
      expect(readAll(chunks)).toEqual({ replies: ['', ''], rest: null });
    }
  });

  it('returns a reply HAProxy did not terminate from end()', () => {
    const raw = fixture('errors/bad-weight.txt');
    for (const chunks of splits(encode(raw))) expect(readAll(chunks)).toEqual({ replies: [], rest: raw });
  });

  it('reassembles UTF-8 split inside a character', () => {
    const raw = 'Name: é€😀\n\n';
    for (const chunks of splits(encode(raw))) {
      expect(readAll(chunks)).toEqual({ replies: ['Name: é€😀\n'], rest: null });
    }
  });
});

describe('ReplyReader.pushPieces', () => {
  // About 320 kB: the show stat capture's rows repeated, then a short second reply.
  const stat = fixture('show-stat.txt').trimEnd();
  const [header, ...rows] = stat.split('\n');
  const big = `${[header, ...Array.from({ length: 40 }, (_, i) => rows.map((r) => `p${i}_${r}`)).flat()].join('\n')}\n`;
  const raw = encode(`${big}\nadmin\n\n`);

  it.each([
    ['one chunk', [raw]],
    [
      '16 kB chunks',
      Array.from({ length: Math.ceil(raw.length / 16384) }, (_, i) =>
        raw.subarray(i * 16384, (i + 1) * 16384),
      ),
    ],
    [
      'chunks cut inside lines',
      [raw.subarray(0, 100_001), raw.subarray(100_001, 300_007), raw.subarray(300_007)],
    ],
  ])('cuts a large reply into line-aligned pieces of about 64 kB (%s)', (_, chunks) => {
    const reader = new ReplyReader();
    const replies = chunks.flatMap((c) => reader.pushPieces(c));
    expect(reader.end()).toBeNull();
    expect(replies.map((pieces) => pieces.join(''))).toEqual([big, 'admin\n']);
    const pieces = replies[0]!;
    expect(pieces.length).toBeGreaterThan(3);
    for (const piece of pieces) {
      expect(piece.endsWith('\n')).toBe(true);
      expect(piece.length).toBeLessThanOrEqual(64 * 1024 + 16384);
    }
  });
});

describe('EventLineReader', () => {
  it('yields every event line of a captured ring at every offset', () => {
    const raw = fixture('show-events.txt');
    const expected = raw.split('\n').filter((l) => l !== '');
    expect(expected.length).toBeGreaterThan(5);
    for (const chunks of splits(encode(raw))) {
      const reader = new EventLineReader();
      expect([...chunks.flatMap((c) => reader.push(c)), reader.end()]).toEqual([...expected, null]);
    }
  });

  it('keeps the empty line that ends a command before the follow, when asked, at every offset', () => {
    const raw = `\n${fixture('show-events.txt')}`;
    const expected = raw.split('\n').slice(0, -1);
    expect(expected[0]).toBe('');
    for (const chunks of splits(encode(raw))) {
      const reader = new EventLineReader({ keepEmptyLines: true });
      expect([...chunks.flatMap((c) => reader.push(c)), reader.end()]).toEqual([...expected, null]);
    }
  });

  it('returns an unterminated last line from end()', () => {
    const reader = new EventLineReader();
    expect(reader.push(encode('a\nb'))).toEqual(['a']);
    expect(reader.end()).toBe('b');
  });
});
