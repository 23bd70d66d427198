import type { GuardBlocker, GuardForce, GuardVerdict, WhatIfResult } from '@rhi/contracts';

/** What the guard holds a change to. */
export interface GuardOptions {
  /**
   * The fewest advertisers a VIP should keep, by id (e.g. the controller config's `minimumFor`); never
   * below 1: no change may take a VIP's last advertiser. Default 1.
   */
  readonly minimum?: (id: string) => number;
  /** Go ahead whatever blocks: needs a reason. */
  readonly force?: GuardForce;
}

export type { GuardBlocker, GuardForce, GuardVerdict } from '@rhi/contracts';

/** A force without a reason: refused, because the reason is what gets recorded. */
export class GuardForceReasonMissingError extends Error {
  readonly code = 'GUARD_FORCE_REASON_MISSING';
  constructor(readonly by: string) {
    super('forcing past the guard needs a reason, which is recorded');
    this.name = 'GuardForceReasonMissingError';
  }
}

/**
 * Whether a change (a rule set's what-if, a drain's) may go ahead: a VIP the change leaves with fewer
 * advertisers than its minimum blocks it, unless it already had no more before (a change is never
 * blocked for a VIP it does not make worse); so do proxies a node's HAProxy lacks and routes outside a
 * node's allowlist. `force` lets it through whatever blocks, with its reason kept. Pure.
 */
export function guard(whatIf: WhatIfResult, options: GuardOptions = {}): GuardVerdict {
  const { force } = options;
  if (force && force.reason.trim() === '') throw new GuardForceReasonMissingError(force.by);
  const minimumOf = options.minimum ?? (() => 1);
  const blockers: GuardBlocker[] = [];
  for (const vip of whatIf.vips) {
    if (vip.after >= vip.before) continue;
    const minimum = Math.max(1, minimumOf(vip.id));
    if (vip.after < minimum)
      blockers.push({
        kind: 'belowMinimum',
        vip: vip.id,
        before: vip.before,
        after: vip.after,
        minimum,
        withdrawnBy: vip.withdrawn,
      });
  }
  const unverifiedProxies: { node: string; proxies: readonly string[] }[] = [];
  for (const n of whatIf.nodes) {
    if (n.unknownProxies.length)
      blockers.push({ kind: 'unknownProxies', node: n.node, proxies: n.unknownProxies });
    if (n.outsideAllowlist.length)
      blockers.push({ kind: 'outsideAllowlist', node: n.node, vips: n.outsideAllowlist });
    if (n.unverifiedProxies.length) unverifiedProxies.push({ node: n.node, proxies: n.unverifiedProxies });
  }
  return {
    allowed: blockers.length === 0 || force !== undefined,
    blockers,
    forced: force ? { by: force.by, reason: force.reason } : null,
    warnings: { unknownNodes: whatIf.unknown, unverifiedProxies },
  };
}
