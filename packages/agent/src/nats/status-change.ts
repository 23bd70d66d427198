import { routeId } from '@rhi/contracts';
import type { AgentSnapshot } from '../loop/ports.js';

const sameList = <T>(
  a: readonly T[] | null | undefined,
  b: readonly T[] | null | undefined,
  key: (x: T) => string,
) => {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && key(a[i] as T) !== key(b[i] as T)) return false;
  return true;
};

/** Everything of a snapshot but its routes, read-backs and time: small, compared as JSON. */
const rest = (s: AgentSnapshot) =>
  JSON.stringify([s.ruleSet, s.haproxy, s.bird, s.drained, s.drain, s.refused]);

/**
 * Whether two snapshots publish the same status (their time and the time of the export check aside).
 * The loop hands out a route's picture again (the same object) while it does not change, so that
 * unchanged routes cost a pointer comparison each; a picture made again is compared by its content.
 */
export function sameStatus(a: AgentSnapshot, b: AgentSnapshot): boolean {
  if (rest(a) !== rest(b)) return false;
  if (!sameList(a.routes, b.routes, (r) => JSON.stringify(r))) return false;
  if (!sameList(a.inBird, b.inBird, (r) => `${routeId(r)} ${JSON.stringify(r.attributes ?? {})}`))
    return false;
  if ((a.exports === null) !== (b.exports === null)) return false;
  return sameList(a.exports?.routes, b.exports?.routes, (r) => JSON.stringify(r));
}
