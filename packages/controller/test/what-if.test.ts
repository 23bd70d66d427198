import type { HealthReport } from '@rhi/contracts';
import { routeId } from '@rhi/contracts';
import type { RuleSet } from '@rhi/rules-dsl';
import { evaluate, parse } from '@rhi/rules-dsl';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WhatIfNode } from '../src/rollout/what-if.js';
import { whatIf } from '../src/rollout/what-if.js';
import { healthReport } from './support/health.js';
import { route, status, withdrawn } from './support/statuses.js';

const A = 'vol1%198.18.200.1/32';
const B = 'vol1%198.18.200.2/32';

function rules(text: string): RuleSet {
  const parsed = parse(text);
  expect(parsed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return parsed.ruleSet;
}

const down = (name: string, over: Partial<HealthReport> = {}) =>
  healthReport(name, { backends: { be_app: { up: false, serversUp: 0, serversTotal: 3 } }, ...over });

const candidate = rules(`
198.18.200.1 = b:be_app
198.18.200.2 = all(b:be_app, f:fe_web)
`);

describe('whatIf', () => {
  it('shows per VIP and per node the routes added and withdrawn, with advertiser counts before and after', () => {
    const result = whatIf(candidate, [
      { name: 'lb-1', status: status('lb-1'), health: healthReport('lb-1') },
      { name: 'lb-2', status: status('lb-2'), health: down('lb-2') },
    ]);
    expect(result.vips).toEqual([
      {
        id: A,
        table: 'vol1',
        prefix: '198.18.200.1/32',
        family: 'ipv4',
        inCandidate: true,
        before: 2,
        after: 1,
        added: [],
        withdrawn: ['lb-2'],
        unknownAdvertisers: 0,
      },
      {
        id: B,
        table: 'vol1',
        prefix: '198.18.200.2/32',
        family: 'ipv4',
        inCandidate: true,
        before: 0,
        after: 1,
        added: ['lb-1'],
        withdrawn: [],
        unknownAdvertisers: 0,
      },
    ]);
    expect(result.nodes.map((n) => [n.node, n.added, n.withdrawn])).toEqual([
      ['lb-1', [B], []],
      ['lb-2', [], [A]],
    ]);
    expect(result.counts).toEqual({ simulated: 2, changed: 2, drained: 0, unknown: 0, untargeted: 0 });
  });

  it('leaves out nodes with nothing to say, and counts them', () => {
    const now = status('lb-1', { routes: [route('198.18.200.1/32'), route('198.18.200.2/32')] });
    const result = whatIf(candidate, [{ name: 'lb-1', status: now, health: healthReport('lb-1') }]);
    expect(result.nodes).toEqual([]);
    expect(result.counts.changed).toBe(0);
    expect(result.vips.map((v) => [v.id, v.before, v.after])).toEqual([
      [A, 1, 1],
      [B, 1, 1],
    ]);
  });

  it('withdraws a VIP the candidate has no rule for', () => {
    const now = status('lb-1', { routes: [route('198.18.200.1/32'), route('198.18.200.9/32')] });
    const result = whatIf(candidate, [{ name: 'lb-1', status: now, health: healthReport('lb-1') }]);
    const gone = result.vips.find((v) => v.prefix === '198.18.200.9/32');
    expect(gone).toMatchObject({ inCandidate: false, before: 1, after: 0, withdrawn: ['lb-1'] });
    expect(result.nodes[0]).toMatchObject({ node: 'lb-1', withdrawn: ['vol1%198.18.200.9/32'] });
  });

  it('counts what nodes want (desired), not what their BIRD happens to hold', () => {
    const now = status('lb-1', { routes: [withdrawn('198.18.200.1/32', { inBird: true })] });
    const result = whatIf(candidate, [{ name: 'lb-1', status: now, health: healthReport('lb-1') }]);
    expect(result.vips.find((v) => v.id === A)).toMatchObject({ before: 0, after: 1, added: ['lb-1'] });
  });

  it('treats a VIP in another table as another VIP', () => {
    const tables = rules('198.18.200.1, vol2%198.18.200.1 = b:be_app');
    const result = whatIf(tables, [{ name: 'lb-1', status: status('lb-1'), health: healthReport('lb-1') }]);
    expect(result.vips.map((v) => [v.id, v.before, v.after])).toEqual([
      [A, 1, 1],
      ['vol2%198.18.200.1/32', 0, 1],
    ]);
  });

  it('decides a route by its first rule, as the agent does', () => {
    const route1 = { table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' } as const;
    const twice: RuleSet = {
      version: 1,
      rules: [
        { routes: [route1], expr: { type: 'const', value: false } },
        { routes: [route1], expr: { type: 'proxy', side: 'backend', name: 'be_app' } },
      ],
    };
    const r = whatIf(twice, [{ name: 'lb-1', status: status('lb-1'), health: healthReport('lb-1') }]);
    expect(r.vips.map((v) => [v.id, v.before, v.after, v.withdrawn])).toEqual([[A, 1, 0, ['lb-1']]]);
  });

  it('counts nothing for a drained node, before or after, whatever its rules decide', () => {
    const drained = status('lb-1', { drain: { drained: true, mode: 'deprefer' } });
    const result = whatIf(candidate, [{ name: 'lb-1', status: drained, health: healthReport('lb-1') }]);
    expect(result.vips.map((v) => [v.id, v.before, v.after])).toEqual([
      [A, 0, 0],
      [B, 0, 0],
    ]);
    expect(result.nodes).toEqual([]);
    expect(result.counts).toMatchObject({ simulated: 1, drained: 1, changed: 0 });
  });

  it('still checks the proxies of a drained node', () => {
    const drained = status('lb-1', { drain: { drained: true, mode: 'withdraw' } });
    const naming = rules('198.18.200.1 = b:be_missing');
    const result = whatIf(naming, [
      { name: 'lb-1', status: drained, health: healthReport('lb-1') },
      {
        name: 'lb-2',
        status: status('lb-2', { routes: [] }),
        health: healthReport('lb-2', { backends: {} }),
      },
    ]);
    expect(result.vips).toEqual([expect.objectContaining({ id: A, before: 0, after: 0 })]);
    expect(result.counts).toMatchObject({ simulated: 2, drained: 1, changed: 0 });
    expect(result.nodes.map((n) => [n.node, n.drained, n.unknownProxies])).toEqual([
      ['lb-1', true, ['b:be_missing']],
      ['lb-2', false, ['b:be_missing']],
    ]);
  });

  it('lists targeted nodes it cannot simulate as unknown, without counting them', () => {
    const result = whatIf(candidate, [
      { name: 'lb-3', status: status('lb-3') },
      { name: 'lb-1', health: healthReport('lb-1') },
      { name: 'lb-2', status: status('lb-2'), health: healthReport('lb-2'), lost: true },
      { name: 'lb-4', status: status('lb-4'), health: healthReport('lb-4') },
    ]);
    expect(result.unknown).toEqual([
      { node: 'lb-1', reason: 'noStatus' },
      { node: 'lb-2', reason: 'lost' },
      { node: 'lb-3', reason: 'noHealthReport' },
    ]);
    expect(result.vips.find((v) => v.id === A)).toMatchObject({ before: 1, after: 1, unknownAdvertisers: 1 });
    expect(result.counts).toMatchObject({ simulated: 1, unknown: 3 });
  });

  it('counts untargeted nodes as they are, without simulating them', () => {
    const result = whatIf(candidate, [
      { name: 'lb-1', status: status('lb-1'), health: down('lb-1'), targeted: false },
      { name: 'lb-2', status: status('lb-2'), health: down('lb-2') },
      { name: 'lb-3', status: status('lb-3'), targeted: false },
      { name: 'lb-4', status: status('lb-4'), targeted: false, lost: true },
    ]);
    expect(result.vips.find((v) => v.id === A)).toMatchObject({ before: 3, after: 2, withdrawn: ['lb-2'] });
    expect(result.nodes.map((n) => n.node)).toEqual(['lb-2']);
    expect(result.counts).toMatchObject({ simulated: 1, untargeted: 2, unknown: 0 });
  });

  it('names the proxies a node lacks, and those its truncated report may only have left out', () => {
    const naming = rules('198.18.200.1 = all(b:be_app, b:be_new, f:fe_new, f:fe_web)');
    const result = whatIf(naming, [
      { name: 'lb-1', status: status('lb-1'), health: healthReport('lb-1') },
      {
        name: 'lb-2',
        status: status('lb-2'),
        health: healthReport('lb-2', { omitted: { frontends: 0, backends: 12 } }),
      },
    ]);
    expect(result.nodes.map((n) => [n.node, n.unknownProxies, n.unverifiedProxies])).toEqual([
      ['lb-1', ['f:fe_new', 'b:be_new'], []],
      ['lb-2', ['f:fe_new'], ['b:be_new']],
    ]);
  });

  it('takes a proxy absent from a report that covers only the proxies named today as unverified, not missing', () => {
    const naming = rules('198.18.200.1 = all(b:be_app, b:be_new, f:fe_new)');
    const result = whatIf(naming, [
      { name: 'lb-1', status: status('lb-1'), health: healthReport('lb-1'), reportCovers: 'named' },
      { name: 'lb-2', status: status('lb-2'), health: healthReport('lb-2'), reportCovers: 'all' },
    ]);
    expect(result.nodes.map((n) => [n.node, n.unknownProxies, n.unverifiedProxies])).toEqual([
      ['lb-1', [], ['f:fe_new', 'b:be_new']],
      ['lb-2', ['f:fe_new', 'b:be_new'], []],
    ]);
  });

  it('checks proxies against a report’s inventory: missing if the worker lacks them, unverified if only their health is not carried', () => {
    const naming = rules('198.18.200.1 = all(b:be_app, b:be_other, b:be_new, f:fe_new)');
    const inventory = { frontends: ['fe_web'], backends: ['be_app', 'be_other'] };
    const result = whatIf(naming, [
      {
        name: 'lb-1',
        status: status('lb-1'),
        health: healthReport('lb-1', { proxies: inventory }),
        reportCovers: 'named',
      },
    ]);
    expect(result.nodes.map((n) => [n.node, n.unknownProxies, n.unverifiedProxies])).toEqual([
      ['lb-1', ['f:fe_new', 'b:be_new'], ['b:be_other']],
    ]);
  });

  it('never advertises a prefix outside a given allowlist, and lists it', () => {
    const result = whatIf(candidate, [
      {
        name: 'lb-1',
        status: status('lb-1'),
        health: healthReport('lb-1'),
        allowlist: ['198.18.200.0/31'],
      },
    ]);
    expect(result.nodes).toEqual([
      expect.objectContaining({ node: 'lb-1', added: [], outsideAllowlist: [B], allowlistKnown: true }),
    ]);
    expect(result.vips.find((v) => v.id === B)).toMatchObject({ after: 0 });
  });

  it('without an allowlist, takes what the status says is outside it', () => {
    const now = status('lb-1', {
      routes: [
        route('198.18.200.1/32'),
        withdrawn('198.18.200.2/32', { allowed: false, decision: 'advertise' }),
      ],
    });
    const result = whatIf(candidate, [{ name: 'lb-1', status: now, health: healthReport('lb-1') }]);
    expect(result.nodes).toEqual([
      expect.objectContaining({ node: 'lb-1', added: [], outsideAllowlist: [B], allowlistKnown: false }),
    ]);
  });

  it('advertises nothing from a node whose HAProxy cannot be read, as the agent fails closed', () => {
    const unreachable = healthReport('lb-1', { reachable: false, frontends: {}, backends: {} });
    const result = whatIf(candidate, [{ name: 'lb-1', status: status('lb-1'), health: unreachable }]);
    expect(result.nodes).toEqual([
      expect.objectContaining({ node: 'lb-1', haproxyReachable: false, withdrawn: [A], unknownProxies: [] }),
    ]);
  });

  it("matches the rules language's own decisions on any health state", () => {
    const set = rules(`
198.18.200.1 = b:be_a
198.18.200.2, 2001:db8::2 = any(b:be_a, b:be_b>=2)
198.18.200.3 = atleast(2, b:be_a, b:be_b, f:fe_x)
198.18.200.4 = not(b:be_b>=50%)
`);
    const backend = fc
      .tuple(fc.boolean(), fc.nat(4), fc.nat(4))
      .map(([up, a, b]) => ({ up, serversUp: Math.min(a, b), serversTotal: Math.max(a, b) }));
    fc.assert(
      fc.property(
        fc.option(backend, { nil: undefined }),
        fc.option(backend, { nil: undefined }),
        fc.boolean(),
        fc.subarray(['198.18.200.1/32', '198.18.200.3/32', '198.18.200.4/32']),
        (a, b, fe, now) => {
          const health = healthReport('lb-1', {
            frontends: { fe_x: { up: fe } },
            backends: { ...(a ? { be_a: a } : {}), ...(b ? { be_b: b } : {}) },
          });
          const result = whatIf(set, [
            { name: 'lb-1', status: status('lb-1', { routes: now.map((p) => route(p)) }), health },
          ]);
          const want = new Set(
            evaluate(set, health)
              .filter((d) => d.advertise)
              .map((d) => routeId(d)),
          );
          const after = new Set(result.vips.filter((v) => v.after === 1).map((v) => v.id));
          expect(after).toEqual(want);
          const node = result.nodes[0];
          const before = new Set(now.map((p) => `vol1%${p}`));
          expect(new Set(node?.added ?? [])).toEqual(new Set([...want].filter((id) => !before.has(id))));
          expect(new Set(node?.withdrawn ?? [])).toEqual(new Set([...before].filter((id) => !want.has(id))));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives the right counts over 1,000 nodes and 200 VIPs', () => {
    const vips = 200;
    const prefix = (v: number) => `198.18.${v >> 8}.${v & 255}`;
    const set = rules(
      Array.from({ length: vips }, (_, v) => `${prefix(v)} = all(b:be_${v % 20}, f:fe_web)`).join('\n'),
    );
    const backends = Object.fromEntries(
      Array.from({ length: 20 }, (_, b) => [`be_${b}`, { up: true, serversUp: 1, serversTotal: 1 }]),
    );
    const nodes: WhatIfNode[] = [];
    for (let i = 0; i < 1000; i++) {
      const name = `lb-${String(i).padStart(4, '0')}`;
      // Node i loses be_(i % 20) when i % 7 == 0; it advertises the even VIPs now.
      const health = healthReport(name, {
        backends: {
          ...backends,
          ...(i % 7 === 0 ? { [`be_${i % 20}`]: { up: false, serversUp: 0, serversTotal: 1 } } : {}),
        },
      });
      const now = Array.from({ length: vips / 2 }, (_, k) => route(`${prefix(2 * k)}/32`));
      nodes.push({ name, status: status(name, { routes: now }), health, allowlist: ['198.18.0.0/16'] });
    }
    const result = whatIf(set, nodes);
    expect(result.vips).toHaveLength(vips);
    for (const vip of result.vips) {
      const v = Number(vip.prefix.split('.')[3]!.split('/')[0]);
      const losing = Array.from({ length: 1000 }, (_, i) => i).filter(
        (i) => i % 7 === 0 && i % 20 === v % 20,
      );
      expect(vip.before).toBe(v % 2 === 0 ? 1000 : 0);
      expect(vip.after).toBe(1000 - losing.length);
      expect(vip.withdrawn.length).toBe(v % 2 === 0 ? losing.length : 0);
      expect(vip.added.length).toBe(v % 2 === 0 ? 0 : 1000 - losing.length);
    }
    expect(result.counts).toMatchObject({ simulated: 1000, changed: 1000 });
  });
});
