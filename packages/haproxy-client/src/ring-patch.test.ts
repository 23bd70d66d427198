import { describe, expect, it } from 'vitest';
import { fixture } from '../test/support/fixtures.js';
import { parseRingEvent } from './events.js';
import type { HealthSnapshot } from './health.js';
import { patchWithRingEvents, ringVerdict } from './ring-patch.js';

/** test/fixtures/ring-transitions.json: commands, the ring lines each wrote, `show stat` right after. */
interface Transitions {
  readonly initial: Record<string, string>;
  readonly steps: readonly { command: string; lines: string[]; after: Record<string, string> }[];
}

const transitions = JSON.parse(fixture('ring-transitions.json')) as Transitions;
const pid = parseRingEvent(transitions.steps[0]!.lines[0]!).pid!;

/** A FRONTEND/BACKEND-only snapshot with these `show stat` statuses (`b:be_app` -> `UP`). */
function snapshotOf(statuses: Record<string, string>, readAt = 0): HealthSnapshot {
  const entries = Object.entries(statuses);
  return {
    readAt,
    sentAt: readAt,
    process: { pid, uptimeSec: 1, stopping: false, version: '2.6.12', currentConnections: 0 },
    frontends: Object.fromEntries(
      entries
        .filter(([k]) => k.startsWith('f:'))
        .map(([k, s]) => [k.slice(2), { up: s === 'OPEN' || s === 'FULL', reason: s, sessions: 0 }]),
    ),
    backends: Object.fromEntries(
      entries
        .filter(([k]) => k.startsWith('b:'))
        .map(([k, s]) => [k.slice(2), { up: s === 'UP', reason: s }]),
    ),
  };
}

const isUp = (status: string | undefined) => status === 'UP' || status === 'OPEN';

describe('ringVerdict and patchWithRingEvents over transitions captured from HAProxy 2.6', () => {
  it('every verdict a line gives agrees with what show stat said right after', () => {
    let checked = 0;
    for (const step of transitions.steps) {
      for (const line of step.lines) {
        const verdict = ringVerdict(parseRingEvent(line));
        if (verdict === undefined) continue;
        const key = `${verdict.kind === 'backend' ? 'b' : 'f'}:${verdict.proxy}`;
        expect({ command: step.command, line, up: verdict.up }).toEqual({
          command: step.command,
          line,
          up: isUp(step.after[key]),
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('patching the previous state with a step’s lines gives the state HAProxy then reports, or nothing', () => {
    let state = transitions.initial;
    const patchedSteps: string[] = [];
    for (const step of transitions.steps) {
      const patched = patchWithRingEvents(snapshotOf(state), step.lines.map(parseRingEvent), 0, 5);
      if (patched !== undefined) {
        patchedSteps.push(step.command);
        expect(patched.readAt).toBe(5);
        for (const [name, fe] of Object.entries(patched.frontends))
          expect([step.command, name, fe.up]).toEqual([step.command, name, isUp(step.after[`f:${name}`])]);
        for (const [name, be] of Object.entries(patched.backends))
          expect([step.command, name, be.up]).toEqual([step.command, name, isUp(step.after[`b:${name}`])]);
      }
      state = step.after;
    }
    // Changes that come with the usable-server counts or the "no server available" line are seen at once;
    // "leaving forced maintenance/drain" and weight changes wait for the read.
    expect(patchedSteps).toEqual([
      'set server be_app/b1 health down',
      'set server be_app/s1 health up',
      'set server be_app/s1 state drain',
      'set server be_app/s1 health stopping',
      'set server be_app/s1 health up',
      'set server be_app/s1 weight 0',
      'disable server be_app/s1',
      'disable frontend fe_web',
      'enable frontend fe_web',
      'set server be_solo/s1 state maint',
      'set server be_solo/s1 health down',
      'set server be_solo/s1 health up',
    ]);
  });

  const downLines = transitions.steps.find((s) => s.command === 'set server be_app/b1 health down')!.lines;
  const stamp = Date.parse(parseRingEvent(downLines[0]!).timestamp!);

  it('says why, and leaves server rows and counts as they were read', () => {
    const before: HealthSnapshot = {
      ...snapshotOf({ 'b:be_app': 'UP' }),
      backends: {
        be_app: {
          up: true,
          reason: 'UP, 1/3 servers usable',
          serversUp: 1,
          serversTotal: 3,
          servers: { b1: { status: 'UP', usable: true, backup: true } },
        },
      },
    };
    const patched = patchWithRingEvents(before, downLines.map(parseRingEvent), stamp, 9);
    expect(patched?.backends['be_app']).toEqual({
      ...before.backends['be_app'],
      up: false,
      reason: `DOWN (HAProxy event: ${parseRingEvent(downLines[0]!).message})`,
    });
  });

  it('ignores lines older than the read, of another worker, without a timestamp, or about unread proxies', () => {
    const before = snapshotOf({ 'b:be_app': 'UP' });
    const events = downLines.map(parseRingEvent);
    expect(patchWithRingEvents(before, events, stamp + 1, 0)).toBeUndefined();
    expect(patchWithRingEvents(before, events, stamp, 0)?.backends['be_app']?.up).toBe(false);
    expect(
      patchWithRingEvents({ ...before, process: { ...before.process, pid: pid + 1 } }, events, 0, 0),
    ).toBeUndefined();
    const raw = events.map((e) => parseRingEvent(e.message));
    expect(raw[0]?.timestamp).toBeUndefined();
    expect(patchWithRingEvents(before, raw, 0, 0)).toBeUndefined();
    expect(patchWithRingEvents(snapshotOf({ 'b:be_other': 'UP' }), events, 0, 0)).toBeUndefined();
  });

  it('applies lines in order: the last word on a proxy wins', () => {
    const up = transitions.steps.find((s) => s.command === 'set server be_app/s1 health up')!.lines;
    const events = [...downLines, ...up].map(parseRingEvent);
    expect(
      patchWithRingEvents(snapshotOf({ 'b:be_app': 'DOWN' }), events, 0, 0)?.backends['be_app']?.up,
    ).toBe(true);
    expect(patchWithRingEvents(snapshotOf({ 'b:be_app': 'UP' }), events, 0, 0)?.backends['be_app']?.up).toBe(
      true,
    );
  });
});
