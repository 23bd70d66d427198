import { describe, expect, it } from 'vitest';
import { renderNode, type NodeDetail } from '../src/cli/render-node.js';
import type { NodeSummary } from '../src/view/summaries.js';
import { healthReport } from './support/health.js';
import { iso, route, status, T0, withdrawn } from './support/statuses.js';

// `rhictl nodes NAME`'s rendering, from the API's answer, on a fixed clock.

const summary = (over: Partial<NodeSummary> = {}): NodeSummary => ({
  name: 'lb2',
  state: 'up',
  labels: { site: 'par1' },
  agentVersion: '0.1.0',
  ruleSet: { hash: 'a'.repeat(64), serial: 3, source: 'controller' },
  drained: false,
  haproxyReachable: true,
  birdReachable: true,
  lastHeard: iso(T0),
  routes: 2,
  desired: 1,
  ...over,
});

const detail = (over: Partial<NodeDetail> = {}): NodeDetail => ({
  node: summary(),
  status: status('lb2', {
    labels: { site: 'par1', rack: 'r2' },
    bird: { reachable: true, version: '2.0.12' },
    routes: [
      route('198.18.200.1/32'),
      withdrawn('198.18.200.2/32', { reason: 'b:be_api down\n(0 of 2 servers)' }),
    ],
  }),
  health: healthReport('lb2', {
    seq: 7,
    frontends: { fe_web: { up: true }, fe_api: { up: false } },
    backends: {
      be_app: { up: true, serversUp: 2, serversTotal: 3 },
      be_zeta: { up: false, serversUp: 0, serversTotal: 1 },
      be_api: { up: false, serversUp: 0, serversTotal: 2 },
    },
  }),
  ...over,
});

const now = T0 + 75_000;

describe('renderNode', () => {
  it('prints the header, the routes and the health, down proxies first', () => {
    expect(renderNode(detail(), false, now)).toBe(
      [
        'node:        lb2',
        'state:       up',
        'last heard:  2026-12-02T10:00:00.000Z (1m15s ago)',
        'agent:       0.1.0',
        'labels:      rack=r2, site=par1',
        'rule set:    aaaaaaaaaaaa #3 from controller, applied 2026-12-02T09:58:00.000Z',
        'drain:       no',
        'haproxy:     reachable (pid 100)',
        'bird:        reachable (BIRD 2.0.12)',
        '',
        'routes: 2 (1 desired)',
        'ROUTE                 DECISION   DESIRED  IN BIRD  DAMPING  ALLOWED  REASON',
        'vol1%198.18.200.1/32  advertise  yes      yes      stable   yes      b:be_app up',
        'vol1%198.18.200.2/32  withdraw   no       no       stable   yes      b:be_api down (0 of 2 servers)',
        '',
        'haproxy health: report #7 at 2026-12-02T10:00:00.000Z (1m15s ago), pid 100',
        '',
        'frontends: 2 (1 down)',
        'FRONTEND  UP',
        'fe_api    DOWN',
        'fe_web    up',
        '',
        'backends: 3 (2 down)',
        'BACKEND  UP    USABLE/TOTAL',
        'be_api   DOWN  0/2',
        'be_zeta  DOWN  0/1',
        'be_app   up    2/3',
      ].join('\n'),
    );
  });

  it('says when no health report was received', () => {
    const text = renderNode(detail({ health: null }), false, now);
    expect(text).toMatch(/\n\nhaproxy health: no health report received$/);
    expect(text).not.toContain('FRONTEND');
  });

  it('says how many proxies the report omitted, and when HAProxy could not be read for it', () => {
    const omitted = renderNode(
      detail({ health: healthReport('lb2', { omitted: { frontends: 2, backends: 40 } }) }),
      false,
      now,
    );
    expect(omitted).toContain('omitted from the report: 2 frontends, 40 backends (it is capped at 256 KiB');
    expect(renderNode(detail({ health: healthReport('lb2') }), false, now)).not.toContain('omitted');
    const unread = renderNode(
      detail({ health: healthReport('lb2', { reachable: false, frontends: {}, backends: {} }) }),
      false,
      now,
    );
    expect(unread).toContain('HAProxy could NOT be read for this report: it lists no proxies');
    expect(unread).toMatch(/^frontends: none$/m);
    expect(unread).toMatch(/^backends: none$/m);
  });

  it('marks a lost node, a drain, unreachable daemons, forbidden routes and a stale view', () => {
    const d = detail();
    const text = renderNode(
      {
        node: summary({ state: 'lost', lastHeard: iso(T0 - 3 * 3_600_000) }),
        status: {
          ...d.status,
          labels: {},
          ruleSet: null,
          drain: {
            drained: true,
            since: iso(T0 - 600_000),
            reason: 'kernel\nupgrade',
            mode: 'deprefer',
            waitSessions: 10,
            sessions: 42,
            deadline: iso(T0 + 300_000),
          },
          haproxy: {
            reachable: false,
            error: 'connect ENOENT /run/haproxy/admin.sock',
            eventRing: { name: 'rhi', state: 'unavailable', error: 'Unknown command' },
          },
          bird: { reachable: false, error: 'connect ECONNREFUSED', disabled: ['rhi_vol1'] },
          routes: [route('198.18.200.3/32', { allowed: false, desired: false, inBird: null })],
        },
        health: d.health,
      },
      true,
      now,
    );
    expect(text).toMatch(/^STALE: the controller cannot reach NATS/);
    expect(text).toMatch(/^state: +LOST: silent for over 3 heartbeat intervals/m);
    expect(text).toMatch(/^last heard: +2026-12-02T07:00:00\.000Z \(3h1m ago\)$/m);
    expect(text).toMatch(/^labels: +none$/m);
    expect(text).toMatch(/^rule set: +none$/m);
    expect(text).toContain(
      'drain:       DRAINED, since 2026-12-02T09:50:00.000Z (11m15s ago), mode deprefer, ' +
        'waiting for 10 sessions or fewer (last read 42), withdrawn by 2026-12-02T10:05:00.000Z at the latest, ' +
        'reason: kernel upgrade',
    );
    expect(text).toContain(
      'haproxy:     UNREACHABLE: connect ENOENT /run/haproxy/admin.sock; event ring rhi unavailable: Unknown command',
    );
    expect(text).toContain(
      'bird:        UNREACHABLE: connect ECONNREFUSED; protocols DISABLED as a fail-safe (their routes withdrawn): rhi_vol1',
    );
    expect(text).toMatch(/^vol1%198\.18\.200\.3\/32 +advertise +no +\? +stable +NO +b:be_app up$/m);
  });
  it('shows the assignment when there is one: running it, not applied yet, or rejected with why', () => {
    const B = 'b'.repeat(64);
    const assigned = { serial: 4, hash: B, rollout: 'push-7' };
    const row = (ruleSet: NodeDetail['ruleSet']) =>
      renderNode(detail({ ruleSet }), false, now)
        .split('\n')
        .filter((l) => l.startsWith('assigned:'));
    expect(row(null)).toEqual([]);
    expect(row({ sync: 'unassigned', assigned: null, active: null, error: null })).toEqual([]);
    expect(row({ sync: 'synced', assigned, active: { serial: 4, hash: B }, error: null })).toEqual([
      'assigned:    #4 bbbbbbbbbbbb (rollout push-7): running it',
    ]);
    expect(
      row({ sync: 'pending', assigned, active: { serial: 3, hash: 'a'.repeat(64) }, error: null }),
    ).toEqual(['assigned:    #4 bbbbbbbbbbbb (rollout push-7): not applied yet']);
    expect(
      row({
        sync: 'error',
        assigned: { ...assigned, rollout: null },
        active: { serial: 3, hash: 'a'.repeat(64) },
        error: {
          serial: 4,
          hash: B,
          code: 'RULESET_UNKNOWN_PROXIES',
          reason: 'no backend be_new',
          at: iso(T0),
        },
      }),
    ).toEqual([
      'assigned:    #4 bbbbbbbbbbbb: REJECTED (RULESET_UNKNOWN_PROXIES) at 2026-12-02T10:00:00.000Z: no backend be_new; keeps the rule set above',
    ]);
  });
});
