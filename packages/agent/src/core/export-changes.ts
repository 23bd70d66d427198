import { routeId } from '@rhi/contracts';
import type { AgentTransition, RouteExport } from '../loop/ports.js';

/** At most this many routes are told one by one per check; the rest in one summary event. */
export const MAX_EXPORT_EVENTS = 20;

const key = routeId;

/**
 * The events an export check brings, against the one before (null: the first check): a route no routing
 * protocol sends any more (or, at the first check, already), and one sent again. Pure.
 */
export function exportChanges(
  before: readonly RouteExport[] | null,
  after: readonly RouteExport[],
): Omit<AgentTransition, 'time'>[] {
  const was = new Map((before ?? []).map((r) => [key(r), r]));
  const events: Omit<AgentTransition, 'time'>[] = [];
  const lost = after.filter((r) => r.to.length === 0 && (was.get(key(r))?.to.length ?? 1) > 0);
  const back = after.filter((r) => r.to.length > 0 && was.get(key(r))?.to.length === 0);
  for (const r of lost.slice(0, MAX_EXPORT_EVENTS))
    events.push({
      event: 'routeNotExported',
      table: r.table,
      prefix: r.prefix,
      reason: `BIRD holds it but sends it to no router: ${r.problems.join('; ')}`,
    });
  if (lost.length > MAX_EXPORT_EVENTS)
    events.push({
      event: 'routeNotExported',
      reason: `and ${lost.length - MAX_EXPORT_EVENTS} more routes BIRD holds but sends to no router (rhi-agent status lists them)`,
    });
  for (const r of back.slice(0, MAX_EXPORT_EVENTS))
    events.push({
      event: 'routeExported',
      table: r.table,
      prefix: r.prefix,
      reason: `sent again, to ${r.to.join(', ')}`,
    });
  if (back.length > MAX_EXPORT_EVENTS)
    events.push({
      event: 'routeExported',
      reason: `and ${back.length - MAX_EXPORT_EVENTS} more routes sent again`,
    });
  return events;
}
