import type { RolloutRecord, RolloutStep, RuleSetSummary } from '@rhi/contracts/fleet';
import type { WhatIfAnswer } from '../src/model/what-if-diff.js';

// Rollout records in the shapes the controller stores and answers (`rhi.v1.rollout`), following its
// tests (rollouts.nats.test.ts, rollout-machine.test.ts): 4 nodes of site par1, canary 1, batches of 2.

/** 2026-01-02 10:00:00Z on the controller's clock. */
export const T = Date.UTC(2026, 0, 2, 10, 0, 0);
export const SOAK = 120_000;
export const ACK = 120_000;
export const NEW = 'a'.repeat(64);
export const GOOD = 'b'.repeat(64);

const step = (kind: RolloutStep['kind'], nodes: string[], over: Partial<RolloutStep> = {}): RolloutStep => ({
  kind,
  nodes,
  assignedAt: null,
  ackDueAt: null,
  applied: [],
  soakUntil: null,
  completedAt: null,
  ...over,
});

/** A rollout of serial 12 started at T by alice, its canary (lb-1) assigned, nothing acked yet. */
export function rollout(over: Partial<RolloutRecord> = {}): RolloutRecord {
  return {
    schema: 'rhi.v1.rollout',
    id: 's12-mjx0abc',
    revision: 3,
    createdAt: T,
    createdBy: 'alice',
    message: 'tighten be_app',
    updatedAt: T,
    owner: 'replica-a',
    target: { kind: 'selector', selector: 'site=par1' },
    ruleSet: { serial: 12, hash: NEW },
    rollbackTo: { serial: 13, hash: GOOD, of: 11 },
    strategy: {
      canary: { count: 1 },
      batch: { size: 2 },
      soakMs: SOAK,
      ackTimeoutMs: ACK,
      progressDeadlineMs: 600_000,
    },
    status: 'canary',
    step: 0,
    steps: [
      step('canary', ['lb-1'], { assignedAt: T, ackDueAt: T + ACK }),
      step('batch', ['lb-2', 'lb-3']),
      step('batch', ['lb-4']),
    ],
    absent: [],
    lastProgressAt: T,
    healthyAt: null,
    paused: null,
    rejected: [],
    stop: null,
    rollback: null,
    failure: null,
    effectSeq: 3,
    outbox: [],
    ...over,
  };
}

/** The canary applied at T + 1 s and soaking until T + 1 s + SOAK. */
export function soaking(): RolloutRecord {
  return rollout({
    status: 'soaking',
    steps: [
      step('canary', ['lb-1'], {
        assignedAt: T,
        ackDueAt: T + ACK,
        applied: ['lb-1'],
        soakUntil: T + 1000 + SOAK,
      }),
      step('batch', ['lb-2', 'lb-3']),
      step('batch', ['lb-4']),
    ],
  });
}

/** Paused by bob while its canary soaked. */
export function paused(): RolloutRecord {
  return {
    ...soaking(),
    status: 'paused',
    paused: { from: 'soaking', at: T + 5000, by: 'bob', reason: 'lunch' },
  };
}

/** Every step applied and done. */
export function completed(): RolloutRecord {
  const a = T + 1000;
  const b = a + SOAK + 1000;
  const c = b + SOAK + 1000;
  return rollout({
    status: 'completed',
    step: 2,
    steps: [
      step('canary', ['lb-1'], {
        assignedAt: T,
        ackDueAt: T + ACK,
        applied: ['lb-1'],
        soakUntil: a + SOAK,
        completedAt: a + SOAK,
      }),
      step('batch', ['lb-2', 'lb-3'], {
        assignedAt: a + SOAK,
        ackDueAt: a + SOAK + ACK,
        applied: ['lb-2', 'lb-3'],
        soakUntil: b + SOAK,
        completedAt: b + SOAK,
      }),
      step('batch', ['lb-4'], {
        assignedAt: b + SOAK,
        ackDueAt: b + SOAK + ACK,
        applied: ['lb-4'],
        soakUntil: c + SOAK,
        completedAt: c + SOAK,
      }),
    ],
  });
}

/** lb-3 rejected the rule set in the first batch: stopped and rolled back to serial 11 (as 13). */
export function rolledBack(): RolloutRecord {
  const at = T + 1000 + SOAK;
  return rollout({
    status: 'rolledBack',
    step: 1,
    steps: [
      step('canary', ['lb-1'], {
        assignedAt: T,
        ackDueAt: T + ACK,
        applied: ['lb-1'],
        soakUntil: at,
        completedAt: at,
      }),
      step('batch', ['lb-2', 'lb-3'], { assignedAt: at, ackDueAt: at + ACK, applied: ['lb-2'] }),
      step('batch', ['lb-4']),
    ],
    rejected: [
      {
        node: 'lb-3',
        at: at + 800,
        code: 'RULESET_UNKNOWN_PROXIES',
        reason: 'its HAProxy has no backend be_new',
      },
    ],
    stop: {
      cause: 'rejected',
      at: at + 800,
      by: 'replica-a',
      reason: 'lb-3 rejected serial 12: its HAProxy has no backend be_new',
      nodes: ['lb-3'],
    },
    rollback: {
      serial: 13,
      hash: GOOD,
      of: 11,
      nodes: ['lb-1', 'lb-2', 'lb-3'],
      assignedAt: at + 800,
      ackDueAt: at + 800 + ACK,
      applied: ['lb-1', 'lb-2', 'lb-3'],
      rejected: [],
    },
  });
}

/** lb-2 never acked: stopped, and its rollback timed out on lb-2 as well. */
export function failed(): RolloutRecord {
  return rollout({
    status: 'failed',
    strategy: { canary: null, batch: { size: 3 }, soakMs: 0, ackTimeoutMs: 800, progressDeadlineMs: 600_000 },
    steps: [
      step('batch', ['lb-1', 'lb-2', 'lb-3'], {
        assignedAt: T,
        ackDueAt: T + 800,
        applied: ['lb-1', 'lb-3'],
      }),
    ],
    stop: {
      cause: 'ackTimeout',
      at: T + 800,
      by: 'replica-a',
      reason: 'lb-2 did not ack within 800 ms',
      nodes: ['lb-2'],
    },
    rollback: {
      serial: 13,
      hash: GOOD,
      of: 11,
      nodes: ['lb-1', 'lb-2', 'lb-3'],
      assignedAt: T + 800,
      ackDueAt: T + 1600,
      applied: ['lb-1', 'lb-3'],
      rejected: [],
    },
    failure: {
      cause: 'rollbackAckTimeout',
      at: T + 1600,
      reason: 'lb-2 did not ack the rollback within 800 ms',
      nodes: ['lb-2'],
    },
  });
}

/** A stored rule set's summary (`GET /api/v1/rulesets`). */
export function summary(serial: number, over: Partial<RuleSetSummary> = {}): RuleSetSummary {
  return {
    schema: 'rhi.v1.ruleset.summary',
    serial,
    hash: (serial % 2 ? 'c' : 'd').repeat(64),
    author: 'alice',
    message: `version ${serial}`,
    createdAt: '2026-01-02T09:00:00.000Z',
    target: { kind: 'all' },
    rules: 2,
    routes: 2,
    bytes: 64,
    keyId: 'ops-2026',
    copyOf: null,
    ...over,
  };
}

/**
 * The what-if of a guard-blocked candidate (rollouts.nats.test.ts: `all(b:be_missing)`): both nodes
 * would withdraw the VIP, which falls below its minimum; one VIP is gained.
 */
export function blockedWhatIf(): WhatIfAnswer {
  return {
    serial: 12,
    hash: NEW,
    target: { kind: 'selector', selector: 'site=par1' },
    whatIf: {
      vips: [
        {
          id: 'vol1%198.18.221.3/32',
          table: 'vol1',
          prefix: '198.18.221.3/32',
          family: 'ipv4',
          inCandidate: true,
          before: 0,
          after: 2,
          added: ['lb-1', 'lb-2'],
          withdrawn: [],
          unknownAdvertisers: 0,
        },
        {
          id: 'vol1%198.18.225.1/32',
          table: 'vol1',
          prefix: '198.18.225.1/32',
          family: 'ipv4',
          inCandidate: true,
          before: 2,
          after: 0,
          added: [],
          withdrawn: ['lb-1', 'lb-2'],
          unknownAdvertisers: 1,
        },
        {
          id: 'vol1%198.18.230.1/32',
          table: 'vol1',
          prefix: '198.18.230.1/32',
          family: 'ipv4',
          inCandidate: true,
          before: 1,
          after: 1,
          added: [],
          withdrawn: [],
          unknownAdvertisers: 0,
        },
      ],
      nodes: [
        {
          node: 'lb-1',
          drained: false,
          haproxyReachable: true,
          added: ['vol1%198.18.221.3/32'],
          withdrawn: ['vol1%198.18.225.1/32'],
          unknownProxies: [],
          unverifiedProxies: ['b:be_missing'],
          outsideAllowlist: [],
          allowlistKnown: true,
        },
        {
          node: 'lb-2',
          drained: false,
          haproxyReachable: true,
          added: ['vol1%198.18.221.3/32'],
          withdrawn: ['vol1%198.18.225.1/32'],
          unknownProxies: ['f:fe_new'],
          unverifiedProxies: ['b:be_missing'],
          outsideAllowlist: [],
          allowlistKnown: true,
        },
      ],
      unknown: [{ node: 'lb-3', reason: 'noHealthReport' }],
      counts: { simulated: 2, changed: 2, drained: 0, unknown: 1, untargeted: 5 },
    },
    guard: {
      allowed: false,
      blockers: [
        {
          kind: 'belowMinimum',
          vip: 'vol1%198.18.225.1/32',
          before: 2,
          after: 0,
          minimum: 1,
          withdrawnBy: ['lb-1', 'lb-2'],
        },
        { kind: 'unknownProxies', node: 'lb-2', proxies: ['f:fe_new'] },
      ],
      forced: null,
      warnings: {
        unknownNodes: [{ node: 'lb-3', reason: 'noHealthReport' }],
        unverifiedProxies: [
          { node: 'lb-1', proxies: ['b:be_missing'] },
          { node: 'lb-2', proxies: ['b:be_missing'] },
        ],
      },
    },
    warnings: [],
  };
}
