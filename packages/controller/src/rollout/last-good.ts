import type { RuleSetRef } from '@rhi/contracts';

/** What a node's status says it runs (null: no rule set). */
export interface RunningRuleSet {
  readonly serial: number;
  readonly hash: string;
  /** `file`: the node's own rules file, not a stored serial. */
  readonly source: string;
}

/**
 * The last good rule set of a rollout's nodes: the stored serial most of them run now (a tie goes to the
 * higher serial), other than the one rolled out; null when none runs a stored one. Pure.
 */
export function lastGoodOf(
  running: Iterable<RunningRuleSet | null>,
  candidate: Pick<RuleSetRef, 'serial'>,
): RuleSetRef | null {
  const counts = new Map<number, { ref: RuleSetRef; n: number }>();
  for (const r of running) {
    if (!r || r.source === 'file' || r.serial < 1 || r.serial === candidate.serial) continue;
    const c = counts.get(r.serial);
    if (c) c.n++;
    else counts.set(r.serial, { ref: { serial: r.serial, hash: r.hash }, n: 1 });
  }
  let best: { ref: RuleSetRef; n: number } | null = null;
  for (const c of counts.values())
    if (!best || c.n > best.n || (c.n === best.n && c.ref.serial > best.ref.serial)) best = c;
  return best?.ref ?? null;
}
