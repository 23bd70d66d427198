import { describe, expect, it } from 'vitest';
import { EventRingSink } from '../src/app/event-ring-sink.js';
import type { EventRingReport, EventRingStatus } from '../src/core/event-ring.js';
import { eventRingStep, pendingRing } from '../src/core/event-ring.js';
import { FakeClock, RecordingSink, recordingLogger } from './support/fakes.js';
import { agentSnapshot } from './support/snapshots.js';

const refused = (
  pid: number,
  message = 'HAProxy has no ring "evnets" (No such event sink)',
): EventRingReport => ({
  following: false,
  pid,
  code: 'HAPROXY_UNKNOWN_RING',
  message,
});
const followed = (pid: number): EventRingReport => ({ following: true, pid });

/** Runs the reports through the step from a pending ring; the transitions told, and the last status. */
function run(reports: readonly EventRingReport[]): { told: string[]; status: EventRingStatus } {
  let status = pendingRing('evnets');
  const told: string[] = [];
  for (const r of reports) {
    const step = eventRingStep(status, r, 2000);
    status = step.status;
    if (step.transition) told.push(step.transition.event);
  }
  return { told, status };
}

describe('eventRingStep', () => {
  it.each([
    ['followed from the start: nothing to tell', [followed(1)], []],
    ['followed again on a new worker after a reload: nothing', [followed(1), followed(2)], []],
    [
      'refused: told once, not again at every new feed on the same worker',
      [refused(1), refused(1)],
      ['eventRingUnavailable'],
    ],
    [
      'refused on the next worker for the same reason: not again',
      [refused(1), refused(2)],
      ['eventRingUnavailable'],
    ],
    [
      'refused, then followed after a reload: both told',
      [refused(1), followed(2)],
      ['eventRingUnavailable', 'eventRingFollowed'],
    ],
    [
      'followed, then refused after a reload with a broken config',
      [followed(1), refused(2)],
      ['eventRingUnavailable'],
    ],
    [
      'refused for another reason: told again',
      [
        refused(1),
        refused(2, 'HAProxy denied "show events evnets -w -n": the stats socket level is too low'),
      ],
      ['eventRingUnavailable', 'eventRingUnavailable'],
    ],
  ] as const)('%s', (_, reports, told) => {
    expect(run(reports).told).toEqual(told);
  });

  it('says what was refused, by which worker, and that detection falls back to the poll interval', () => {
    const step = eventRingStep(pendingRing('evnets'), refused(41), 2000);
    expect(step.status).toEqual({
      name: 'evnets',
      state: 'unavailable',
      pid: 41,
      code: 'HAPROXY_UNKNOWN_RING',
      error: 'HAProxy has no ring "evnets" (No such event sink)',
    });
    expect(step.transition?.reason).toMatch(
      /^HAProxy has no ring "evnets" .*: HAProxy's changes are seen only by the poll every 2000 ms/,
    );
    expect(run([refused(1), followed(7)]).status).toEqual({ name: 'evnets', state: 'following', pid: 7 });
  });
});

describe('EventRingSink', () => {
  it('adds the ring to every status, logs its loss at error level once, and sends the status again on a change', () => {
    const next = new RecordingSink();
    const { logger, records } = recordingLogger();
    const sink = new EventRingSink(next, {
      ring: 'evnets',
      pollIntervalMs: 2000,
      logger,
      clock: new FakeClock(),
    });
    sink.status(agentSnapshot());
    expect(next.statuses.at(-1)?.haproxy.eventRing).toEqual({ name: 'evnets', state: 'pending' });
    sink.report(refused(41));
    sink.report(refused(41));
    expect(next.statuses).toHaveLength(2);
    expect(next.statuses.at(-1)?.haproxy.eventRing).toMatchObject({ state: 'unavailable', pid: 41 });
    expect(next.events.map((e) => e.event)).toEqual(['eventRingUnavailable']);
    expect(records.filter((r) => r['event'] === 'eventRingUnavailable')).toEqual([
      expect.objectContaining({
        level: 50,
        ring: 'evnets',
        pid: 41,
        code: 'HAPROXY_UNKNOWN_RING',
        pollIntervalMs: 2000,
        reason: expect.stringContaining('poll every 2000 ms'),
      }),
    ]);
    sink.report(followed(42));
    expect(next.events.map((e) => e.event)).toEqual(['eventRingUnavailable', 'eventRingFollowed']);
    expect(records.find((r) => r['event'] === 'eventRingFollowed')).toMatchObject({ level: 30, pid: 42 });
    expect(sink.decorate(agentSnapshot()).haproxy).toEqual({
      reachable: true,
      pid: 9,
      eventRing: { name: 'evnets', state: 'following', pid: 42 },
    });
  });
});
