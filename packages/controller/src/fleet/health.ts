import { HealthReportSchema, subjects, type HealthReport } from '@rhi/contracts';
import { isNewer, type StatusRejection } from './ingest.js';

/** A health report judged: the report to keep, or why it is dropped (with a line for the log). */
export type HealthVerdict =
  | { readonly ok: true; readonly report: HealthReport }
  | { readonly ok: false; readonly reason: StatusRejection; readonly detail: string };

/**
 * Judges one message of `rhi.v1.health.<node>` as statuses are judged: it must pass the schema, come from
 * the node its subject names, and be newer (time, then seq) than the report kept. Pure.
 */
export function judgeHealth(
  subject: string,
  payload: unknown,
  kept: HealthReport | undefined,
): HealthVerdict {
  const parsed = HealthReportSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? issue.path.join('.') : '(message)';
    return { ok: false, reason: 'schema', detail: `${subject}: ${path}: ${issue?.message ?? 'invalid'}` };
  }
  const report = parsed.data;
  if (subjects.health(report.node) !== subject)
    return {
      ok: false,
      reason: 'subject',
      detail: `${subject}: the report is from node '${report.node}', not from the node the subject names`,
    };
  if (kept && !isNewer(report, kept))
    return {
      ok: false,
      reason: 'stale',
      detail: `${subject}: seq ${report.seq} at ${report.time} is not newer than seq ${kept.seq} at ${kept.time}`,
    };
  return { ok: true, report };
}

/** The latest health report of every node, kept apart from the route view. No I/O. */
export class HealthBook {
  private readonly reports = new Map<string, HealthReport>();

  /** Takes one message of `rhi.v1.health.<node>`; returns the verdict (the report kept when ok). */
  ingest(subject: string, payload: unknown): HealthVerdict {
    const verdict = judgeHealth(
      subject,
      payload,
      this.reports.get(subject.slice(subject.lastIndexOf('.') + 1)),
    );
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
