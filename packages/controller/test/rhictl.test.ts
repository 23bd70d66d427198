import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { HealthReport, NodeStatus, RouteStatus } from '@rhi/contracts';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/rhictl.js';
import { buildApp } from '../src/http/app.js';
import { tokenHash } from '../src/http/auth.js';
import type { NatsHealth } from '../src/ports.js';
import { FleetView } from '../src/view/fleet-view.js';
import { healthReport } from './support/health.js';
import { route, status as statusAt, withdrawn } from './support/statuses.js';

// rhictl against a real listening API (over a fleet view fed by hand): what it prints and how it exits.

const TOKEN = 'rhictl-test-token';
const now = Date.now();
/** A status published now (the view's liveness runs on the real clock here), with no rule set. */
const status = (node: string, routes: RouteStatus[], seq = 1): NodeStatus =>
  statusAt(node, { routes, seq, time: new Date(now + seq).toISOString(), ruleSet: null, labels: {} });

describe('rhictl', () => {
  /** Added to the view's clock: 10 minutes make every node lost. */
  let skewMs = 0;
  const view = new FleetView({ heartbeatMs: 60_000, minimum: () => 1, now: () => Date.now() + skewMs });
  let nats: NatsHealth = { up: true };
  const lb2Health = healthReport('lb2', {
    time: new Date(now).toISOString(),
    frontends: { fe_web: { up: true } },
    backends: {
      be_app: { up: true, serversUp: 2, serversTotal: 3 },
      be_api: { up: false, serversUp: 0, serversTotal: 2 },
    },
    omitted: { frontends: 0, backends: 5 },
  });
  const health = new Map<string, HealthReport>([['lb2', lb2Health]]);
  const app = buildApp({
    view,
    health,
    timeline: {
      query: async () => ({
        entries: [
          {
            seq: 1,
            time: new Date(now).toISOString(),
            subject: 'rhi.v1.events.lb2',
            event: {
              node: 'lb2',
              event: 'routeWithdrawn',
              table: 'vol1',
              prefix: '198.18.200.2/32',
              reason: 'b:be_api down',
            },
          },
        ],
        truncated: false,
      }),
    },
    nats: () => nats,
    tokens: [{ name: 'ops', role: 'viewer', sha256: tokenHash(TOKEN) }],
    metrics: async () => ({ contentType: 'text/plain', text: '' }),
    logger: pino({ level: 'silent' }),
    version: '0.1.0',
  });
  let url = '';
  const run = async (args: string[], env: Record<string, string> = { RHICTL_TOKEN: TOKEN }) => {
    let out = '';
    let err = '';
    const code = await main(
      args,
      { RHICTL_URL: url, ...env },
      { write: (t) => void (out += t) },
      { write: (t) => void (err += t) },
    );
    return { code, out, err };
  };

  beforeAll(async () => {
    view.ingest(
      'rhi.v1.status.lb1',
      status('lb1', [route('198.18.200.1/32'), route('198.18.200.2/32')]),
      now,
    );
    view.ingest(
      'rhi.v1.status.lb2',
      status('lb2', [
        route('198.18.200.1/32'),
        route('198.18.200.2/32', {
          desired: false,
          inBird: false,
          decision: 'withdraw',
          reason: 'b:be_api down',
        }),
      ]),
      now,
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await app.close();
  });

  it('status: 0 without alerts, 1 while one is open', async () => {
    view.evaluateAlerts();
    const fine = await run(['status']);
    expect(fine.out).toContain('nodes:  2 (2 up, 0 lost)');
    expect(fine.code).toBe(0);
    view.ingest(
      'rhi.v1.status.lb1',
      status('lb1', [route('198.18.200.1/32'), withdrawn('198.18.200.2/32')], 2),
      now,
    );
    view.evaluateAlerts();
    const alerting = await run(['status']);
    expect(alerting.out).toMatch(/vipNoAdvertiser\s+no node advertises vol1%198\.18\.200\.2\/32/);
    expect(alerting.code).toBe(1);
    expect((await run(['alerts'])).code).toBe(1);
  });

  it('lists nodes and VIPs as tables, and as the API answered them with --json', async () => {
    expect((await run(['nodes'])).out).toMatch(/^NODE\s+STATE\s+RULE SET.*\nlb1\s+up\s+none/m);
    expect((await run(['vips'])).out).toMatch(/vol1%198\.18\.200\.1\/32\s+2\s+1\s+2\s+advertising 2/);
    const json = JSON.parse((await run(['vips', '--json'])).out) as { vips: { id: string }[] };
    expect(json.vips.map((v) => v.id)).toEqual(['vol1%198.18.200.1/32', 'vol1%198.18.200.2/32']);
  });

  it('explains a VIP node by node, or for one node', async () => {
    const all = await run(['explain', 'vol1%198.18.200.2/32']);
    expect(all.out).toMatch(/^vol1%198\.18\.200\.2\/32: 0 of 2 nodes advertise it \(minimum 1\)/);
    expect(all.out).toMatch(/lb2\s+withdrawn\s+withdraw\s+no\s+no\s+stable\s+b:be_api down/);
    const one = await run(['explain', 'vol1%198.18.200.2/32', '--node', 'lb2']);
    expect(one.out).not.toMatch(/^lb1/m);
    expect((await run(['explain', 'vol1%198.18.200.2/32', '--node', 'lb9'])).code).toBe(4);
    const missing = await run(['explain', 'vol1%198.18.9.9/32']);
    expect(missing.code).toBe(4);
    expect(missing.err).toContain('no node has a rule for vol1%198.18.9.9/32 (VIP_NOT_FOUND)');
  });

  it('shows one node: its header, routes and HAProxy health, a down backend first', async () => {
    const { code, out } = await run(['nodes', 'lb2']);
    expect(code).toBe(0);
    expect(out).toMatch(/^node: +lb2\nstate: +up\nlast heard: +\S+ \(\d+s ago\)$/m);
    expect(out).toMatch(/^rule set: +none$/m);
    expect(out).toMatch(/^haproxy: +reachable \(pid 100\)$/m);
    expect(out).toMatch(
      /^routes: 2 \(1 desired\)\nROUTE +DECISION +DESIRED +IN BIRD +DAMPING +ALLOWED +REASON$/m,
    );
    expect(out).toMatch(/^vol1%198\.18\.200\.1\/32 +advertise +yes +yes +stable +yes +b:be_app up$/m);
    expect(out).toMatch(/^vol1%198\.18\.200\.2\/32 +withdraw +no +no +stable +yes +b:be_api down$/m);
    expect(out).toMatch(/^frontends: 1 \(0 down\)\nFRONTEND +UP\nfe_web +up$/m);
    expect(out).toMatch(
      /^backends: 2 \(1 down\)\nBACKEND +UP +USABLE\/TOTAL\nbe_api +DOWN +0\/2\nbe_app +up +2\/3$/m,
    );
    expect(out).toContain('omitted from the report: 0 frontends, 5 backends');
  });

  it('shows a node without a health report, and a lost node (exit 0, state LOST)', async () => {
    const fine = await run(['nodes', 'lb1']);
    expect(fine.code).toBe(0);
    expect(fine.out).toMatch(/\n\nhaproxy health: no health report received\n$/);
    skewMs = 10 * 60_000;
    try {
      const lost = await run(['nodes', 'lb1']);
      expect(lost.code).toBe(0);
      expect(lost.out).toMatch(/^state: +LOST: silent for over 3 heartbeat intervals/m);
    } finally {
      skewMs = 0;
    }
  });

  it('nodes NAME: --json is the API answer, 4 for an unknown node, 2 for two names, 3 when stale', async () => {
    const json = JSON.parse((await run(['nodes', 'lb2', '--json'])).out) as Record<string, unknown>;
    expect(json).toEqual({
      node: expect.objectContaining({ name: 'lb2', state: 'up', routes: 2, desired: 1 }),
      status: view.node('lb2')?.status,
      health: lb2Health,
      ruleSet: null,
      stale: false,
      generatedAt: expect.any(String),
    });
    expect(JSON.parse((await run(['nodes', 'lb1', '--json'])).out)).toMatchObject({ health: null });
    const unknown = await run(['nodes', 'lb9']);
    expect(unknown.code).toBe(4);
    expect(unknown.err).toBe("rhictl: no node 'lb9' has reported (NODE_NOT_FOUND)\n");
    expect(unknown.out).toBe('');
    expect((await run(['nodes', 'lb1', 'lb2'])).code).toBe(2);
    nats = { up: false, reason: 'connection refused' };
    try {
      const stale = await run(['nodes', 'lb2']);
      expect(stale.out).toMatch(/^STALE: the controller cannot reach NATS.*\nnode: +lb2$/m);
      expect(stale.code).toBe(3);
    } finally {
      nats = { up: true };
    }
  });

  it('prints the timeline', async () => {
    const { out, code } = await run(['events', '--node', 'lb2']);
    expect(out).toMatch(/lb2 {2}routeWithdrawn vol1%198\.18\.200\.2\/32: b:be_api down/);
    expect(code).toBe(0);
  });

  it('exits 2 on usage errors, 3 when the controller refuses, cannot be reached or serves a stale view', async () => {
    expect((await run(['status'], {})).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    const refused = await run(['status'], { RHICTL_TOKEN: 'nope' });
    expect(refused.code).toBe(3);
    expect(refused.err).toContain('AUTH_INVALID');
    expect((await run(['status'], { RHICTL_TOKEN: TOKEN, RHICTL_URL: 'http://127.0.0.1:1' })).code).toBe(3);
    nats = { up: false, reason: 'connection refused' };
    try {
      const stale = await run(['nodes']);
      expect(stale.out).toMatch(/^STALE: the controller cannot reach NATS/);
      expect(stale.code).toBe(3);
    } finally {
      nats = { up: true };
    }
  });

  it('runs as the installed command', async () => {
    const bin = fileURLToPath(new URL('../bin/rhictl.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'vips'], {
      env: { ...process.env, RHICTL_URL: url, RHICTL_TOKEN: TOKEN },
    });
    expect(stdout).toMatch(/^VIP\s+ADVERTISERS/);
  });
});
