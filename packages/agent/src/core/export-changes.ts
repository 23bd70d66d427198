import { routeId } from '@rhi/contracts';
import type { AgentTransition, RouteExport } from '../loop/ports.js';

/** At most this many routes are told one by one per check; the rest in one summary event. */
export const MAX_EXPORT_EVENTS = 20;

/** An export check's answer against the one before. */
export interface ExportDiff {
  /**
   * The new answer, keeping what did not change: `before` itself when every route goes where it went,
   * else a new list whose unchanged routes are the objects of `before` (so that readers compare them by
   * identity).
   */
  readonly routes: readonly RouteExport[];
  /** Each route of the new answer that is new or goes elsewhere, with what it was (undefined: new). */
  readonly changed: readonly (readonly [RouteExport | undefined, RouteExport])[];
}

const sameRoute = (a: RouteExport, b: RouteExport) =>
  a.prefix === b.prefix && a.table === b.table && a.family === b.family;

const sameExport = (a: RouteExport, b: RouteExport) =>
  sameRoute(a, b) &&
  a.to.length === b.to.length &&
  a.to.every((t, i) => t === b.to[i]) &&
  a.problems.length === b.problems.length &&
  a.problems.every((p, i) => p === b.problems[i]);

/**
 * Compares two export checks. BIRD lists the routes in the same order from one check to the next, so the
 * two lists are walked side by side, stepping over routes added or gone, and only where they part ways
 * more than that are routes looked up by key. Pure.
 */
export function diffExports(
  before: readonly RouteExport[] | null,
  after: readonly RouteExport[],
): ExportDiff {
  if (before === null) return { routes: after, changed: after.map((r) => [undefined, r] as const) };
  const routes = new Array<RouteExport>(after.length);
  const changed: (readonly [RouteExport | undefined, RouteExport])[] = [];
  let byKey: Map<string, RouteExport> | undefined;
  let i = 0;
  let reused = 0;
  for (let j = 0; j < after.length; j++) {
    const r = after[j] as RouteExport;
    let old: RouteExport | undefined;
    const at = before[i];
    if (at !== undefined && sameRoute(at, r)) old = at;
    else if (before[i + 1] !== undefined && sameRoute(before[i + 1] as RouteExport, r)) old = before[++i];
    else if (!(
      after[j + 1] !== undefined &&
      at !== undefined &&
      sameRoute(at, after[j + 1] as RouteExport)
    )) {
      byKey ??= new Map(before.map((b) => [routeId(b), b]));
      old = byKey.get(routeId(r));
    }
    if (old === before[i]) i++;
    if (old !== undefined && sameExport(old, r)) {
      routes[j] = old;
      reused++;
    } else {
      routes[j] = r;
      changed.push([old, r]);
    }
  }
  if (reused === before.length && after.length === before.length) return { routes: before, changed: [] };
  return { routes, changed };
}

/**
 * The events an export check brings, against the one before (null: the first check): a route no routing
 * protocol sends any more (or, at the first check, already), and one sent again. Pure.
 */
export function exportChanges(
  before: readonly RouteExport[] | null,
  after: readonly RouteExport[],
): Omit<AgentTransition, 'time'>[] {
  return exportEvents(diffExports(before, after).changed);
}

/** The events of the routes an export check found changed ({@link ExportDiff.changed}). */
export function exportEvents(changed: ExportDiff['changed']): Omit<AgentTransition, 'time'>[] {
  const events: Omit<AgentTransition, 'time'>[] = [];
  const lost = changed.filter(([was, r]) => r.to.length === 0 && (was?.to.length ?? 1) > 0).map(([, r]) => r);
  const back = changed.filter(([was, r]) => r.to.length > 0 && was?.to.length === 0).map(([, r]) => r);
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
