import { HeartbeatSchema } from '@rhi/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quickHeartbeat } from '../src/fleet/quick-heartbeat.js';

const beat = { schema: 'rhi.v1.heartbeat', node: 'lb-1', time: '2026-12-02T10:00:00.123Z', seq: 7 };
const bytes = (payload: unknown) => new TextEncoder().encode(JSON.stringify(payload));

describe('quickHeartbeat', () => {
  it('reads a heartbeat as agents write it', () => {
    expect(quickHeartbeat(bytes(beat), 'lb-1')).toEqual({ seq: 7, ms: Date.parse(beat.time) });
    expect(quickHeartbeat(bytes({ ...beat, node: 'x', seq: 0 }), 'x')).toEqual({
      seq: 0,
      ms: Date.parse(beat.time),
    });
  });

  it.each([
    ['another node than the subject names', beat, 'lb-2'],
    ['another schema', { ...beat, schema: 'rhi.v1.status' }, 'lb-1'],
    ['a field more', { ...beat, routes: [] }, 'lb-1'],
    ['a field less', { schema: beat.schema, node: beat.node, time: beat.time }, 'lb-1'],
    [
      'the fields in another order',
      { node: beat.node, schema: beat.schema, time: beat.time, seq: 7 },
      'lb-1',
    ],
    ['a node that is no token', { ...beat, node: 'lb.1' }, 'lb.1'],
    ['a negative seq', { ...beat, seq: -1 }, 'lb-1'],
    ['a fractional seq', { ...beat, seq: 1.5 }, 'lb-1'],
    ['a seq as text', { ...beat, seq: '7' }, 'lb-1'],
    ['a date that does not exist', { ...beat, time: '2026-02-30T10:00:00.123Z' }, 'lb-1'],
    ['a time without milliseconds', { ...beat, time: '2026-12-02T10:00:00Z' }, 'lb-1'],
    ['a time with an offset', { ...beat, time: '2026-12-02T10:00:00.123+01:00' }, 'lb-1'],
    ['not an object', 'rhi.v1.heartbeat', 'lb-1'],
    ['an array', [beat], 'lb-1'],
    ['null', null, 'lb-1'],
  ])('leaves %s to JSON.parse and the schema', (_what, payload, node) => {
    expect(quickHeartbeat(bytes(payload), node)).toBeUndefined();
  });

  it.each([
    [
      'spaces',
      '{"schema": "rhi.v1.heartbeat", "node": "lb-1", "time": "2026-12-02T10:00:00.123Z", "seq": 7}',
    ],
    [
      'a seq with a leading zero',
      '{"schema":"rhi.v1.heartbeat","node":"lb-1","time":"2026-12-02T10:00:00.123Z","seq":07}',
    ],
    [
      'a seq in exponent form',
      '{"schema":"rhi.v1.heartbeat","node":"lb-1","time":"2026-12-02T10:00:00.123Z","seq":7e0}',
    ],
    ['trailing bytes', `${JSON.stringify(beat)} `],
    [
      'an escaped node',
      '{"schema":"rhi.v1.heartbeat","node":"lb\\u002d1","time":"2026-12-02T10:00:00.123Z","seq":7}',
    ],
  ])('leaves the same heartbeat written with %s to JSON.parse', (_what, text) => {
    expect(quickHeartbeat(new TextEncoder().encode(text), 'lb-1')).toBeUndefined();
  });

  it('accepts nothing the schema refuses, and reads what the schema reads', () => {
    const validTime = fc
      .date({ min: new Date(-62e12), max: new Date(253e12), noInvalidDate: true })
      .map((d) => d.toISOString());
    const time = fc.oneof(
      { arbitrary: validTime, weight: 4 },
      fc.string(),
      fc
        .tuple(fc.nat(9999), fc.nat(14), fc.nat(33), fc.nat(25), fc.nat(61), fc.nat(999))
        .map(
          ([y, mo, d, h, mi, ms]) =>
            `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T` +
            `${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:00.${String(ms).padStart(3, '0')}Z`,
        ),
    );
    const node = fc.oneof(
      { arbitrary: fc.constantFrom('lb-1', 'lb_2', 'x'.repeat(64), 'x'.repeat(65), 'a.b', ''), weight: 4 },
      { arbitrary: fc.string(), weight: 1 },
    );
    const payload = fc
      .tuple(
        fc.record({
          schema: fc.constantFrom('rhi.v1.heartbeat', 'rhi.v1.heartbeat', 'rhi.v1.status'),
          node,
          time,
          seq: fc.oneof(
            { arbitrary: fc.integer({ min: -3, max: 1e12 }), weight: 4 },
            fc.integer({ min: 1e14, max: 2 ** 53 }),
            fc.double(),
            fc.constant('1'),
          ),
        }),
        fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, fc.constant(true)),
      )
      .map(([p, more]) => (more ? { ...p, extra: 1 } : p));
    // The bytes as agents write them, or with one byte changed; read for the node written or another one.
    const message = fc
      .tuple(
        payload,
        fc.oneof({ arbitrary: fc.constant(null), weight: 2 }, fc.tuple(fc.nat(), fc.nat(255))),
        fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, node),
      )
      .map(([p, flip, other]) => {
        const data = bytes(p);
        if (flip) data[flip[0] % data.length] = flip[1];
        return { data, node: other ?? p.node };
      });
    let accepted = 0;
    fc.assert(
      fc.property(message, ({ data, node: subjectNode }) => {
        const quick = quickHeartbeat(data, subjectNode);
        if (quick === undefined) return;
        accepted++;
        const schema = HeartbeatSchema.safeParse(JSON.parse(new TextDecoder().decode(data)));
        expect(schema.success).toBe(true);
        expect(schema.data!.node).toBe(subjectNode);
        expect(quick).toEqual({ seq: schema.data!.seq, ms: Date.parse(schema.data!.time) });
      }),
      { numRuns: 8000, seed: 9 },
    );
    // The property is only as good as the heartbeats it saw accepted.
    expect(accepted).toBeGreaterThan(100);
  });
});
