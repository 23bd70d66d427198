import { HeartbeatSchema } from '@rhi/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quickHeartbeat } from '../src/fleet/quick-heartbeat.js';

const beat = { schema: 'rhi.v1.heartbeat', node: 'lb-1', time: '2026-12-02T10:00:00.123Z', seq: 7 };

describe('quickHeartbeat', () => {
  it('recognises a heartbeat as agents write it', () => {
    expect(quickHeartbeat(beat)).toEqual({ heartbeat: beat, ms: Date.parse(beat.time) });
    expect(quickHeartbeat({ seq: 0, time: beat.time, node: 'x', schema: beat.schema })).toBeDefined();
  });

  it.each([
    ['another schema', { ...beat, schema: 'rhi.v1.status' }],
    ['a field more', { ...beat, routes: [] }],
    ['a field less', { schema: beat.schema, node: beat.node, time: beat.time }],
    ['a node that is no token', { ...beat, node: 'lb.1' }],
    ['a negative seq', { ...beat, seq: -1 }],
    ['a fractional seq', { ...beat, seq: 1.5 }],
    ['a seq as text', { ...beat, seq: '7' }],
    ['a date that does not exist', { ...beat, time: '2026-02-30T10:00:00.123Z' }],
    ['a time without milliseconds', { ...beat, time: '2026-12-02T10:00:00Z' }],
    ['a time with an offset', { ...beat, time: '2026-12-02T10:00:00.123+01:00' }],
    ['not an object', 'rhi.v1.heartbeat'],
    ['an array', [beat]],
    ['null', null],
  ])('leaves %s to the schema', (_what, payload) => {
    expect(quickHeartbeat(payload)).toBeUndefined();
  });

  it('accepts nothing the schema refuses, and gives what the schema gives', () => {
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
    const payload = fc.record(
      {
        schema: fc.constantFrom('rhi.v1.heartbeat', 'rhi.v1.heartbeat', 'rhi.v1.status'),
        node: fc.oneof(
          {
            arbitrary: fc.constantFrom('lb-1', 'lb_2', 'x'.repeat(64), 'x'.repeat(65), 'a.b', ''),
            weight: 4,
          },
          { arbitrary: fc.string(), weight: 1 },
        ),
        time,
        seq: fc.oneof(
          { arbitrary: fc.integer({ min: -3, max: 2 ** 53 }), weight: 4 },
          fc.double(),
          fc.constant('1'),
        ),
        extra: fc.constant(1),
      },
      { requiredKeys: ['schema', 'node', 'time', 'seq'] },
    );
    let accepted = 0;
    fc.assert(
      fc.property(payload, (p) => {
        const quick = quickHeartbeat(p);
        const schema = HeartbeatSchema.safeParse(p);
        if (quick !== undefined) {
          accepted++;
          expect(schema.success).toBe(true);
          expect(quick.heartbeat).toEqual(schema.data);
          expect(quick.ms).toBe(Date.parse(schema.data!.time));
        }
      }),
      { numRuns: 6000, seed: 9 },
    );
    // The property is only as good as the heartbeats it saw accepted.
    expect(accepted).toBeGreaterThan(100);
  });
});
