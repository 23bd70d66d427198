/**
 * A route's stable id across the fleet: `<table>%<prefix>` (e.g. `vol1%198.18.200.1/32`), as the rules
 * language writes a route with its table. Agent, controller, API and CLI name routes (VIPs) by it.
 */
export function routeId(route: { readonly table: string; readonly prefix: string }): string {
  return `${route.table}%${route.prefix}`;
}

/** The table and prefix of a {@link routeId}, or null when `id` is not one (no `%`, or an empty side). */
export function parseRouteId(id: string): { table: string; prefix: string } | null {
  const at = id.indexOf('%');
  if (at <= 0 || at === id.length - 1) return null;
  return { table: id.slice(0, at), prefix: id.slice(at + 1) };
}
