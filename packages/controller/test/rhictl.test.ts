import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { NodeStatus, RouteStatus } from '@rhi/contracts';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/rhictl.js';
import { buildApp } from '../src/http/app.js';
import { tokenHash } from '../src/http/auth.js';
import type { NatsHealth } from '../src/ports.js';
import { FleetView } from '../src/view/fleet-view.js';
import { route, status as statusAt, withdrawn } from './support/statuses.js';

// rhictl against a real listening API (over a fleet view fed by hand): what it prints and how it exits.

const TOKEN = 'rhictl-test-token';
const now = Date.now();
/** A status published now (the view's liveness runs on the real clock here), with no rule set. */
const status = (node: string, routes: RouteStatus[], seq = 1): NodeStatus =>
  statusAt(node, { routes, seq, time: new Date(now + seq).toISOString(), ruleSet: null, labels: {} });

describe('rhictl', () => {
  const view = new FleetView({ heartbeatMs: 60_000, minimum: () => 1, now: () => Date.now() });
  let nats: NatsHealth = { up: true };
  const app = buildApp({
    view,
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
