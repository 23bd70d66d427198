import { describe, expect, it } from 'vitest';
import { ApiFailure } from '../src/model/api.js';
import { blockedWhatIf, whatIfDiff, type WhatIfAnswer } from '../src/model/what-if-diff.js';
import { blockedWhatIf as blocked } from './rollout-fixtures.js';

describe('whatIfDiff', () => {
  it('lists the VIPs that lose advertisers first, marked when the guard blocks them', () => {
    const d = whatIfDiff(blocked());
    expect(d.candidate).toBe('serial 12 (aaaaaaaaaaaa), target site=par1');
    expect(d.counts).toBe('2 simulated, 2 changed, 0 drained, 1 unknown, 5 outside the target');
    expect(d.vips).toEqual([
      {
        id: 'vol1%198.18.225.1/32',
        change: 'loses',
        icon: '▼',
        before: 2,
        after: 0,
        advertisers: '2 -> 0 (1 unknown)',
        withdrawnBy: ['lb-1', 'lb-2'],
        addedBy: [],
        blocked: true,
      },
      {
        id: 'vol1%198.18.221.3/32',
        change: 'gains',
        icon: '▲',
        before: 0,
        after: 2,
        advertisers: '0 -> 2',
        withdrawnBy: [],
        addedBy: ['lb-1', 'lb-2'],
        blocked: false,
      },
    ]);
  });

  it('lists each node that changes, with its problems', () => {
    expect(whatIfDiff(blocked()).nodes).toEqual([
      {
        node: 'lb-1',
        withdraws: ['vol1%198.18.225.1/32'],
        adds: ['vol1%198.18.221.3/32'],
        notes: ['b:be_missing not in its health report: taken as down'],
      },
      {
        node: 'lb-2',
        withdraws: ['vol1%198.18.225.1/32'],
        adds: ['vol1%198.18.221.3/32'],
        notes: [
          'its HAProxy has no f:fe_new: the agent would refuse the rule set',
          'b:be_missing not in its health report: taken as down',
        ],
      },
    ]);
  });

  it("gives the guard's blockers and notes in rhictl's words, and its verdict", () => {
    const d = whatIfDiff(blocked());
    expect(d.blockers).toEqual([
      {
        kind: 'belowMinimum',
        subject: 'vol1%198.18.225.1/32',
        text: 'BLOCKED vol1%198.18.225.1/32: 2 -> 0 advertisers, minimum 1 (withdrawn by lb-1, lb-2)',
      },
      {
        kind: 'unknownProxies',
        subject: 'lb-2',
        text: 'BLOCKED lb-2: its HAProxy has no f:fe_new (the agent would refuse the rule set)',
      },
    ]);
    expect(d.notes.map((n) => n.text)).toEqual([
      'UNKNOWN lb-3: no health report received; not simulated',
      'UNVERIFIED lb-1: b:be_missing not in its health report: taken as down; the agent refuses the rule set if its HAProxy lacks one',
      'UNVERIFIED lb-2: b:be_missing not in its health report: taken as down; the agent refuses the rule set if its HAProxy lacks one',
    ]);
    expect(d).toMatchObject({ allowed: false, verdict: 'blocked (2 blockers)' });
  });

  it('says allowed, with a force and an allowlist problem told, and a text candidate', () => {
    const a = blocked();
    const forced: WhatIfAnswer = {
      ...a,
      serial: null,
      hash: null,
      target: { kind: 'all' },
      whatIf: {
        ...a.whatIf,
        vips: [],
        nodes: [
          {
            node: 'lb-9',
            drained: true,
            haproxyReachable: false,
            added: [],
            withdrawn: [],
            unknownProxies: [],
            unverifiedProxies: [],
            outsideAllowlist: ['vol1%10.0.0.1/32'],
            allowlistKnown: true,
          },
        ],
        unknown: [],
      },
      guard: {
        allowed: true,
        blockers: [{ kind: 'outsideAllowlist', node: 'lb-9', vips: ['vol1%10.0.0.1/32'] }],
        forced: { by: 'alice', reason: 'lab' },
        warnings: { unknownNodes: [], unverifiedProxies: [] },
      },
      warnings: [
        {
          severity: 'warning',
          code: 'RULE_SHADOWED',
          message: 'never decides',
          file: 'rules',
          line: 3,
          column: 1,
          length: 1,
        },
      ],
    };
    const d = whatIfDiff(forced);
    expect(d.candidate).toBe('a text (not stored), target all');
    expect(d.vips).toEqual([]);
    expect(d.nodes[0]!.notes).toEqual([
      'drained: advertises nothing',
      'HAProxy unreachable: advertises nothing',
      'outside its prefix allowlist: vol1%10.0.0.1/32',
    ]);
    expect(d.blockers[0]!.text).toBe('BLOCKED lb-9: outside its prefix allowlist: vol1%10.0.0.1/32');
    expect(d.notes).toEqual([{ kind: 'forced', subject: 'alice', text: 'FORCED by alice: lab' }]);
    expect(d.warnings).toEqual(['rules:3:1: warning RULE_SHADOWED: never decides']);
    expect(d).toMatchObject({ allowed: true, verdict: 'allowed' });
  });

  it('shows a VIP whose advertisers move from node to node', () => {
    const a = blocked();
    const moved: WhatIfAnswer = {
      ...a,
      whatIf: {
        ...a.whatIf,
        vips: [
          {
            id: 'v%1.2.3.4/32',
            table: 'v',
            prefix: '1.2.3.4/32',
            family: 'ipv4',
            inCandidate: true,
            before: 1,
            after: 1,
            added: ['lb-2'],
            withdrawn: ['lb-1'],
            unknownAdvertisers: 0,
          },
        ],
      },
    };
    expect(whatIfDiff(moved).vips[0]).toMatchObject({ change: 'moves', icon: '⇄', advertisers: '1 -> 1' });
  });
});

describe('blockedWhatIf', () => {
  it("reads a blocked start's what-if where the failure carries it, else null", () => {
    const a = blocked();
    expect(blockedWhatIf({ details: { whatIf: a } })).toBe(a);
    expect(blockedWhatIf({ whatIf: a })).toBe(a);
    expect(blockedWhatIf(new ApiFailure(409, 'ROLLOUT_BLOCKED', 'the guard blocks serial 12'))).toBeNull();
    expect(blockedWhatIf({ details: { whatIf: { nope: 1 } } })).toBeNull();
    expect(blockedWhatIf(null)).toBeNull();
  });
});
