import type { GuardBlocker, WhatIfAnswer, WhatIfUnknownReason } from '@rhi/contracts/fleet';
import { names, targetText } from './rollout-rows.js';

export type { WhatIfAnswer } from '@rhi/contracts/fleet';

/** One VIP whose advertisers change. */
export interface VipChange {
  readonly id: string;
  /** `loses` fewer advertisers after, `gains` more, `moves` as many but from other nodes. */
  readonly change: 'loses' | 'gains' | 'moves';
  readonly icon: string;
  readonly before: number;
  readonly after: number;
  /** `2 -> 0`, with `(1 unknown)` when nodes not simulated advertise it now. */
  readonly advertisers: string;
  readonly withdrawnBy: readonly string[];
  readonly addedBy: readonly string[];
  /** A guard blocker names it (below its minimum). */
  readonly blocked: boolean;
}

/** One node whose routes change, or that has a problem with the candidate. */
export interface NodeChange {
  readonly node: string;
  readonly withdraws: readonly string[];
  readonly adds: readonly string[];
  /** `drained`, `HAProxy unreachable: advertises nothing`, `its HAProxy has no b:be_x`... */
  readonly notes: readonly string[];
}

/** One blocker (or note) of the guard, in rhictl's words. */
export interface GuardLine {
  readonly kind: GuardBlocker['kind'] | 'unknown' | 'unverified' | 'forced';
  readonly subject: string;
  readonly text: string;
}

/** A what-if as the page shows it: a diff per VIP and per node, the guard's blockers, its verdict. */
export interface WhatIfDiff {
  /** `serial 12 (3f2a9c1b0d4e), target site=par1`. */
  readonly candidate: string;
  /** `4 simulated, 2 changed, 0 drained, 1 unknown, 3 outside the target`. */
  readonly counts: string;
  readonly vips: readonly VipChange[];
  readonly nodes: readonly NodeChange[];
  readonly blockers: readonly GuardLine[];
  /** Worth telling, not blocking: unknown and unverified nodes, a force. */
  readonly notes: readonly GuardLine[];
  readonly warnings: readonly string[];
  readonly allowed: boolean;
  /** `allowed`, or `blocked (2 blockers)`. */
  readonly verdict: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const UNKNOWN_REASONS: Readonly<Record<WhatIfUnknownReason, string>> = {
  noStatus: 'no status received',
  noHealthReport: 'no health report received',
  lost: 'lost (silent for over 3 heartbeat intervals)',
};

/** A blocker in the words of `rhictl rules whatif`. */
export function blockerLine(b: GuardBlocker): GuardLine {
  switch (b.kind) {
    case 'belowMinimum':
      return {
        kind: b.kind,
        subject: b.vip,
        text: `BLOCKED ${b.vip}: ${b.before} -> ${b.after} advertisers, minimum ${b.minimum}${
          b.withdrawnBy.length ? ` (withdrawn by ${names(b.withdrawnBy)})` : ''
        }`,
      };
    case 'unknownProxies':
      return {
        kind: b.kind,
        subject: b.node,
        text: `BLOCKED ${b.node}: its HAProxy has no ${names(b.proxies)} (the agent would refuse the rule set)`,
      };
    case 'outsideAllowlist':
      return {
        kind: b.kind,
        subject: b.node,
        text: `BLOCKED ${b.node}: outside its prefix allowlist: ${names(b.vips)}`,
      };
  }
}

/**
 * The what-if as a diff: the VIPs whose advertisers change (losses first, then by id), the nodes that
 * would withdraw or add routes or have a problem, then the guard's blockers and notes and its verdict.
 * Pure.
 */
export function whatIfDiff(a: WhatIfAnswer): WhatIfDiff {
  const w = a.whatIf;
  const c = w.counts;
  const blockedVips = new Set(a.guard.blockers.flatMap((b) => (b.kind === 'belowMinimum' ? [b.vip] : [])));
  const rank = { loses: 0, moves: 1, gains: 2 } as const;
  const vips = w.vips
    .filter((v) => v.before !== v.after || v.added.length > 0 || v.withdrawn.length > 0)
    .map((v): VipChange => {
      const change = v.after < v.before ? 'loses' : v.after > v.before ? 'gains' : 'moves';
      return {
        id: v.id,
        change,
        icon: change === 'loses' ? '▼' : change === 'gains' ? '▲' : '⇄',
        before: v.before,
        after: v.after,
        advertisers: `${v.before} -> ${v.after}${v.unknownAdvertisers ? ` (${v.unknownAdvertisers} unknown)` : ''}`,
        withdrawnBy: v.withdrawn,
        addedBy: v.added,
        blocked: blockedVips.has(v.id),
      };
    })
    .sort((x, y) => rank[x.change] - rank[y.change] || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  const nodes = w.nodes.map((n): NodeChange => {
    const notes: string[] = [];
    if (n.drained) notes.push('drained: advertises nothing');
    if (!n.haproxyReachable) notes.push('HAProxy unreachable: advertises nothing');
    if (n.unknownProxies.length)
      notes.push(`its HAProxy has no ${names(n.unknownProxies)}: the agent would refuse the rule set`);
    if (n.unverifiedProxies.length)
      notes.push(`${names(n.unverifiedProxies)} not in its health report: taken as down`);
    if (n.outsideAllowlist.length) notes.push(`outside its prefix allowlist: ${names(n.outsideAllowlist)}`);
    return { node: n.node, withdraws: n.withdrawn, adds: n.added, notes };
  });
  const notes: GuardLine[] = [
    ...w.unknown.map((u): GuardLine => ({
      kind: 'unknown',
      subject: u.node,
      text: `UNKNOWN ${u.node}: ${UNKNOWN_REASONS[u.reason]}; not simulated`,
    })),
    ...a.guard.warnings.unverifiedProxies.map((u): GuardLine => ({
      kind: 'unverified',
      subject: u.node,
      text: `UNVERIFIED ${u.node}: ${names(u.proxies)} not in its health report: taken as down; the agent refuses the rule set if its HAProxy lacks one`,
    })),
    ...(a.guard.forced
      ? [
          {
            kind: 'forced' as const,
            subject: a.guard.forced.by,
            text: `FORCED by ${a.guard.forced.by}: ${a.guard.forced.reason}`,
          },
        ]
      : []),
  ];
  const n = a.guard.blockers.length;
  return {
    candidate: `${
      a.serial === null
        ? 'a text (not stored)'
        : `serial ${a.serial}${a.hash ? ` (${a.hash.slice(0, 12)})` : ''}`
    }, target ${targetText(a.target)}`,
    counts: `${c.simulated} simulated, ${c.changed} changed, ${c.drained} drained, ${c.unknown} unknown, ${c.untargeted} outside the target`,
    vips,
    nodes,
    blockers: a.guard.blockers.map(blockerLine),
    notes,
    warnings: a.warnings.map((d) => `${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`),
    allowed: a.guard.allowed,
    verdict: a.guard.allowed ? 'allowed' : `blocked (${plural(n, 'blocker')})`,
  };
}

const isWhatIf = (v: unknown): v is WhatIfAnswer =>
  typeof v === 'object' &&
  v !== null &&
  'guard' in v &&
  'whatIf' in v &&
  typeof (v as { guard: unknown }).guard === 'object';

/**
 * The what-if a `409 ROLLOUT_BLOCKED` answer carries (`error.whatIf`), when the failure in hand holds the
 * error's details (as `details` or `error`); null when it does not. The page then asks the what-if again.
 */
export function blockedWhatIf(err: unknown): WhatIfAnswer | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { whatIf?: unknown; details?: { whatIf?: unknown }; error?: { whatIf?: unknown } };
  const found = e.whatIf ?? e.details?.whatIf ?? e.error?.whatIf;
  return isWhatIf(found) ? found : null;
}
