import type { HealthReport } from '@rhi/contracts';
import { parse } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import { guard, GuardForceReasonMissingError } from '../src/rollout/guard.js';
import type { WhatIfResult, WhatIfVip } from '../src/rollout/what-if.js';
import { whatIf } from '../src/rollout/what-if.js';
import { healthReport } from './support/health.js';
import { status } from './support/statuses.js';

const A = 'vol1%198.18.200.1/32';
const down = (name: string): HealthReport =>
  healthReport(name, { backends: { be_app: { up: false, serversUp: 0, serversTotal: 3 } } });
const candidate = parse('198.18.200.1 = b:be_app').ruleSet;

/** A fleet of `up` nodes that keep VIP A and `down` nodes that would withdraw it. */
function fleet(up: number, down_: number): WhatIfResult {
  const nodes = [];
  for (let i = 0; i < up; i++)
    nodes.push({ name: `up-${i}`, status: status(`up-${i}`), health: healthReport(`up-${i}`) });
  for (let i = 0; i < down_; i++)
    nodes.push({ name: `dn-${i}`, status: status(`dn-${i}`), health: down(`dn-${i}`) });
  return whatIf(candidate, nodes);
}

const vip = (over: Partial<WhatIfVip>): WhatIfVip => ({
  id: A,
  table: 'vol1',
  prefix: '198.18.200.1/32',
  family: 'ipv4',
  inCandidate: true,
  before: 0,
  after: 0,
  added: [],
  withdrawn: [],
  unknownAdvertisers: 0,
  ...over,
});
const result = (vips: WhatIfVip[]): WhatIfResult => ({
  vips,
  nodes: [],
  unknown: [],
  counts: { simulated: 0, changed: 0, drained: 0, unknown: 0, untargeted: 0 },
});

describe('guard', () => {
  it('allows a change that leaves every VIP an advertiser', () => {
    const verdict = guard(fleet(1, 2));
    expect(verdict).toEqual({
      allowed: true,
      blockers: [],
      forced: null,
      warnings: { unknownNodes: [], unverifiedProxies: [] },
    });
  });

  it('refuses to take the last advertiser of a VIP, naming the VIP, its counts and the nodes withdrawing it', () => {
    const verdict = guard(fleet(0, 2));
    expect(verdict.allowed).toBe(false);
    expect(verdict.blockers).toEqual([
      { kind: 'belowMinimum', vip: A, before: 2, after: 0, minimum: 1, withdrawnBy: ['dn-0', 'dn-1'] },
    ]);
  });

  it('holds each VIP to its own minimum, never below 1', () => {
    const minimum = (id: string) => (id === A ? 3 : 0);
    expect(guard(fleet(2, 2), { minimum }).blockers).toEqual([
      expect.objectContaining({ kind: 'belowMinimum', vip: A, before: 4, after: 2, minimum: 3 }),
    ]);
    expect(guard(fleet(3, 2), { minimum }).allowed).toBe(true);
    const other = result([vip({ id: 'vol1%198.18.200.9/32', before: 1, after: 0, withdrawn: ['lb-1'] })]);
    expect(guard(other, { minimum }).blockers).toEqual([expect.objectContaining({ minimum: 1, after: 0 })]);
  });

  it('does not block a VIP the change leaves no worse, even below its minimum', () => {
    const minimum = () => 5;
    expect(guard(result([vip({ before: 2, after: 2 })]), { minimum }).allowed).toBe(true);
    expect(guard(result([vip({ before: 2, after: 3, added: ['lb-3'] })]), { minimum }).allowed).toBe(true);
    expect(guard(result([vip({ before: 0, after: 0 })])).allowed).toBe(true);
    expect(guard(result([vip({ before: 2, after: 1, withdrawn: ['lb-1'] })]), { minimum }).allowed).toBe(
      false,
    );
  });

  it('blocks on proxies a node lacks and on routes outside its allowlist; warns on what is only unverified', () => {
    const naming = parse('198.18.200.1 = any(b:be_app, b:be_new)\n198.18.200.2 = b:be_app').ruleSet;
    const w = whatIf(naming, [
      { name: 'lb-1', status: status('lb-1'), health: healthReport('lb-1') },
      { name: 'lb-2', status: status('lb-2'), health: healthReport('lb-2'), allowlist: ['198.18.200.1/32'] },
      {
        name: 'lb-3',
        status: status('lb-3'),
        health: healthReport('lb-3', { omitted: { frontends: 0, backends: 5 } }),
      },
      { name: 'lb-4', status: status('lb-4') },
    ]);
    const verdict = guard(w);
    expect(verdict.allowed).toBe(false);
    expect(verdict.blockers).toEqual([
      { kind: 'unknownProxies', node: 'lb-1', proxies: ['b:be_new'] },
      { kind: 'unknownProxies', node: 'lb-2', proxies: ['b:be_new'] },
      { kind: 'outsideAllowlist', node: 'lb-2', vips: ['vol1%198.18.200.2/32'] },
    ]);
    expect(verdict.warnings).toEqual({
      unknownNodes: [{ node: 'lb-4', reason: 'noHealthReport' }],
      unverifiedProxies: [{ node: 'lb-3', proxies: ['b:be_new'] }],
    });
  });

  it('lets a forced change through with its reason, still listing what it overrides', () => {
    const verdict = guard(fleet(0, 1), { force: { by: 'alice', reason: 'decommissioning the VIP' } });
    expect(verdict.allowed).toBe(true);
    expect(verdict.forced).toEqual({ by: 'alice', reason: 'decommissioning the VIP' });
    expect(verdict.blockers).toHaveLength(1);
  });

  it.each(['', '   '])('refuses a force without a reason (%j)', (reason) => {
    expect(() => guard(fleet(0, 1), { force: { by: 'alice', reason } })).toThrow(
      GuardForceReasonMissingError,
    );
    expect(() => guard(fleet(1, 0), { force: { by: 'alice', reason } })).toThrow(
      expect.objectContaining({ code: 'GUARD_FORCE_REASON_MISSING', by: 'alice' }),
    );
  });
});
