import { HealthReportSchema, subjects, type HealthReport } from '@rhi/contracts';
import { judgePublished, nodeOf, type MessageKind, type StatusRejection } from './judge.js';

/** A health report judged: the report to keep, or why it is dropped (with a line for the log). */
export type HealthVerdict =
  | { readonly ok: true; readonly report: HealthReport }
  | { readonly ok: false; readonly reason: StatusRejection; readonly detail: string };

const healthKind: MessageKind<HealthReport> = {
  schema: HealthReportSchema,
  subject: subjects.health,
  noun: 'report',
};

/**
 * Judges one message of `rhi.v1.health.<node>` as statuses are judged: it must pass the schema, come from
 * the node its subject names, and be newer (time, then seq) than the report kept. Pure.
 */
export function judgeHealth(
  subject: string,
  payload: unknown,
  kept: HealthReport | undefined,
): HealthVerdict {
  const verdict = judgePublished(healthKind, subject, payload, kept);
  return verdict.ok ? { ok: true, report: verdict.value } : verdict;
}

/** The latest health report of every node, kept apart from the route view. No I/O. */
export class HealthBook {
  private readonly reports = new Map<string, HealthReport>();

  /** Takes one message of `rhi.v1.health.<node>`; returns the verdict (the report kept when ok). */
  ingest(subject: string, payload: unknown): HealthVerdict {
    const verdict = judgeHealth(subject, payload, this.reports.get(nodeOf(subject)));
    if (verdict.ok) this.reports.set(verdict.report.node, verdict.report);
    return verdict;
  }

  get(node: string): HealthReport | undefined {
    return this.reports.get(node);
  }

  get size(): number {
    return this.reports.size;
  }
}
