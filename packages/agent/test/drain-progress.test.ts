import { describe, expect, it } from 'vitest';
import { drainProgress, drainStarted } from '../src/cli/drain-progress.js';
import { agentSnapshot, plannedRoute, statusOf } from './support/snapshots.js';

const deprefer = (sessions?: number) =>
  statusOf(
    agentSnapshot({
      time: 1_000,
      drained: true,
      drain: {
        mode: 'deprefer',
        reason: 'upgrade',
        since: 500,
        waitSessions: 0,
        deadline: 61_000,
        ...(sessions === undefined ? {} : { sessions }),
      },
      routes: [plannedRoute({ reason: 'node draining: de-preferred' })],
    }),
  );
const withdrawnSnapshot = (inBird: number | null) =>
  agentSnapshot({
    drained: true,
    drain: { mode: 'withdraw', reason: 'upgrade (sessions fell to 0)', since: 0 },
    routes: [plannedRoute({ desired: false, reason: 'node drained' })],
    inBird:
      inBird === null
        ? null
        : Array.from({ length: inBird }, () => ({
            table: 'vol1',
            prefix: '198.18.200.1/32',
            family: 'ipv4' as const,
          })),
  });
const withdrawn = (inBird: number | null) => statusOf(withdrawnSnapshot(inBird));

describe('drain progress', () => {
  it('says what is de-preferred and until when, for a drain that waits', () => {
    expect(drainStarted(deprefer())).toBe(
      "draining (upgrade): 1 route de-preferred; withdrawn once HAProxy's connections fall to 0, or in 60 s at the latest",
    );
    expect(drainStarted(withdrawn(0))).toBeNull();
  });

  it('reports when and why the node was drained, and how far the drain is', () => {
    expect(deprefer(3).drain).toEqual({
      drained: true,
      since: '1970-01-01T00:00:00.500Z',
      reason: 'upgrade',
      mode: 'deprefer',
      waitSessions: 0,
      sessions: 3,
      deadline: '1970-01-01T00:01:01.000Z',
    });
    expect(statusOf(agentSnapshot()).drain).toEqual({ drained: false });
  });

  it.each([
    ['connections not read yet', deprefer(), 'waiting', "HAProxy's connections not read yet, waiting for 0"],
    ['connections counted', deprefer(3), 'waiting', 'HAProxy has 3 connections, waiting for 0'],
    ['withdrawn, BIRD not read', withdrawn(null), 'waiting', 'withdrawing: what BIRD holds is not known yet'],
    ['withdrawn, still in BIRD', withdrawn(1), 'waiting', 'withdrawing: BIRD still holds 1 route'],
    ['out of BIRD', withdrawn(0), 'done', 'drained: routes withdrawn; reason: upgrade (sessions fell to 0)'],
    ['undrained', statusOf(agentSnapshot()), 'undrained', 'the node was undrained meanwhile'],
  ])('%s', (_, snapshot, state, line) => {
    expect(drainProgress(snapshot)).toEqual({ state, line });
  });

  it('names BIRD when it does not answer', () => {
    const s = statusOf({
      ...withdrawnSnapshot(1),
      bird: { reachable: false, error: 'connect ENOENT /run/bird/bird.ctl' },
    });
    expect(drainProgress(s).line).toBe(
      'withdrawing: BIRD still holds 1 route (bird: connect ENOENT /run/bird/bird.ctl)',
    );
  });
});
