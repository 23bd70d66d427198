import { describe, expect, it } from 'vitest';
import { fixtureBytes, fixtureNames, readAll } from '../test/support/fixtures.js';
import { BirdProtocolError } from './errors.js';
import { BirdReplyReader, type BirdReaderEvent } from './reply-reader.js';

function byteByByte(bytes: Buffer): BirdReaderEvent[] {
  const reader = new BirdReplyReader();
  const events: BirdReaderEvent[] = [];
  for (let i = 0; i < bytes.length; i++) events.push(...reader.push(bytes.subarray(i, i + 1)));
  expect(reader.idle).toBe(true);
  return events;
}

describe('BirdReplyReader over BIRD 2.0.12 transcripts', () => {
  const names = fixtureNames();

  it('has the captured fixtures', () => {
    expect(names.length).toBeGreaterThan(30);
  });

  it.each(names)('%s: ends with exactly one reply whose final line is the last line', (name) => {
    const events = readAll(fixtureBytes(name));
    const replies = events.filter((e) => e.kind === 'reply');
    if (name === 'async-lines') {
      expect(replies).toHaveLength(0);
      expect(events.length).toBeGreaterThan(0);
      return;
    }
    expect(replies).toHaveLength(1);
    expect(events.at(-1)?.kind).toBe('reply');
    const reply = replies[0]?.kind === 'reply' ? replies[0].reply : undefined;
    expect(reply?.lines.at(-1)).toEqual({ code: reply?.code, text: reply?.text });
    const lineCount = fixtureBytes(name)
      .toString()
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('+')).length;
    expect(reply?.lines).toHaveLength(lineCount);
  });

  it.each(names)('%s: byte by byte gives the same events', (name) => {
    const bytes = fixtureBytes(name);
    expect(byteByByte(bytes)).toEqual(readAll(bytes));
  });

  it.each(names)('%s: split at every offset gives the same events', (name) => {
    const bytes = fixtureBytes(name);
    const whole = readAll(bytes);
    for (let i = 0; i <= bytes.length; i++) {
      const reader = new BirdReplyReader();
      expect([...reader.push(bytes.subarray(0, i)), ...reader.push(bytes.subarray(i))]).toEqual(whole);
    }
  });

  it('reads the whole capture as one stream, replies in order', () => {
    const stream = Buffer.concat(names.map(fixtureBytes));
    const codes = byteByByte(stream).flatMap((e) => (e.kind === 'reply' ? [e.reply.code] : []));
    expect(codes).toHaveLength(names.length - 1);
  });
});

describe('BirdReplyReader framing', () => {
  it('gives continuation lines the code of the line before them', () => {
    const [event] = readAll(fixtureBytes('show-route-all'));
    const reply = event?.kind === 'reply' ? event.reply : undefined;
    expect(reply?.lines.slice(0, 4)).toEqual([
      { code: 1007, text: 'Table master4:' },
      {
        code: 1007,
        text: expect.stringMatching(/^198\.18\.10\.1\/32 +unicast \[vol1 [\d:.]+\] \* \(200\)$/),
      },
      { code: 1007, text: '\tdev lo' },
      { code: 1008, text: '\tType: static univ' },
    ]);
    expect(reply?.code).toBe(0);
    expect(reply?.text).toBe('');
  });

  it('emits async lines that arrive before a reply, in order', () => {
    const events = readAll(fixtureBytes('configure-after-queue'));
    expect(events.map((e) => (e.kind === 'async' ? e.text : e.reply.code))).toEqual([
      'Queueing new configuration',
      'Reconfiguring to queued configuration',
      'Reconfiguring',
      'Reconfigured',
      3,
    ]);
  });

  it('ends a reply at a final line with any code, not only 0000', () => {
    const events = readAll(
      '0002-Reading configuration from a.conf\n0020 Configuration OK\n0013 Daemon is up and running\n',
    );
    expect(events.map((e) => (e.kind === 'reply' ? [e.reply.code, e.reply.lines.length] : e.text))).toEqual([
      [20, 2],
      [13, 1],
    ]);
  });

  it('keeps a multi-byte character split across chunks intact', () => {
    const bytes = Buffer.from(
      '1011-Router ID is 198.18.0.1\n Hostname is nœud-é\n0013 Daemon is up and running\n',
    );
    const cut = bytes.indexOf(Buffer.from('œ')) + 1;
    const reader = new BirdReplyReader();
    const events = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))];
    expect(events[0]?.kind === 'reply' && events[0].reply.lines[1]?.text).toBe('Hostname is nœud-é');
  });

  it('holds a partial line until its newline arrives', () => {
    const reader = new BirdReplyReader();
    expect(reader.push('0000')).toEqual([]);
    expect(reader.idle).toBe(false);
    expect(reader.push(' \n')).toEqual([
      { kind: 'reply', reply: { code: 0, text: '', lines: [{ code: 0, text: '' }] } },
    ]);
  });

  it.each([
    ['a continuation line with no reply open', ' orphan\n'],
    ['a line without a code', 'hello\n'],
    ['a three-digit code', '001 BIRD\n'],
    ['a code without a separator', '0001BIRD\n'],
  ])('rejects %s', (_label, input) => {
    expect(() => new BirdReplyReader().push(input)).toThrow(BirdProtocolError);
  });
});
