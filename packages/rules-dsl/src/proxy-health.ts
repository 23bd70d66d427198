import type { ProxyTerm } from './ast.js';
import type { BackendHealth, FrontendHealth, HealthState } from './health.js';

function lookup<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** The health of a proxy, or undefined when the state does not know it (it then counts as down). */
export const healthOf = (
  side: ProxyTerm['side'],
  name: string,
  state: HealthState,
): FrontendHealth | BackendHealth | undefined =>
  side === 'backend' ? lookup(state.backends, name) : lookup(state.frontends, name);

/**
 * Whether a proxy term holds, given its proxy's health and its threshold (`percent` undefined for none):
 * the one place that decides it, for verdicts and explanations alike.
 */
export function proxyHolds(
  health: FrontendHealth | BackendHealth | undefined,
  percent: boolean | undefined,
  need: number,
): boolean {
  if (!health) return false;
  if (percent === undefined) return health.up;
  const { serversUp: up, serversTotal: total } = health as BackendHealth;
  if (up === undefined || total === undefined) return false;
  return percent ? total !== 0 && up * 100 >= need * total : up >= need;
}
