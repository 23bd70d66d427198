import type { RolloutRecord } from '@rhi/contracts';

/** A rollout's progress as the live stream shows it: counts, not node lists (5,000 names stay home). */
export interface RolloutProgress {
  readonly id: string;
  readonly revision: number;
  readonly status: RolloutRecord['status'];
  readonly serial: number;
  readonly step: number;
  readonly steps: readonly {
    readonly kind: 'canary' | 'batch';
    readonly nodes: number;
    readonly applied: number;
    readonly assignedAt: number | null;
    readonly soakUntil: number | null;
    readonly completedAt: number | null;
  }[];
  readonly rejected: number;
  readonly stop: { readonly cause: string; readonly by: string; readonly reason: string } | null;
  readonly rollback: { readonly serial: number; readonly nodes: number; readonly applied: number } | null;
  readonly failure: { readonly cause: string; readonly reason: string } | null;
  readonly updatedAt: number;
}

/** The progress of a rollout, from its record. Pure. */
export function rolloutProgress(r: RolloutRecord): RolloutProgress {
  return {
    id: r.id,
    revision: r.revision,
    status: r.status,
    serial: r.ruleSet.serial,
    step: r.step,
    steps: r.steps.map((s) => ({
      kind: s.kind,
      nodes: s.nodes.length,
      applied: s.applied.length,
      assignedAt: s.assignedAt,
      soakUntil: s.soakUntil,
      completedAt: s.completedAt,
    })),
    rejected: r.rejected.length,
    stop: r.stop && { cause: r.stop.cause, by: r.stop.by, reason: r.stop.reason },
    rollback: r.rollback && {
      serial: r.rollback.serial,
      nodes: r.rollback.nodes.length,
      applied: r.rollback.applied.length,
    },
    failure: r.failure && { cause: r.failure.cause, reason: r.failure.reason },
    updatedAt: r.updatedAt,
  };
}
