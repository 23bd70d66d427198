import { waitFor } from '@rhi/test-support';
import type { AgentSnapshot } from '../../src/loop/ports.js';

const routeKey = (r: { table: string; prefix: string; attributes?: object }) =>
  `${r.table}%${r.prefix} ${JSON.stringify(Object.entries(r.attributes ?? {}).sort())}`;

/**
 * Waits until an in-process agent waits for no damping timer and BIRD holds exactly the routes (and
 * attributes) it plans, less the ones BIRD refused; resolves with that snapshot.
 */
export function agentSettled(agent: () => { snapshot(): AgentSnapshot }): Promise<AgentSnapshot> {
  return waitFor('the agent to hold in BIRD exactly what it plans', () => {
    const s = agent().snapshot();
    const refused = new Set((s.refused ?? []).map((r) => `${r.table}%${r.prefix}`));
    const planned = s.routes
      .filter((r) => r.desired && !refused.has(`${r.table}%${r.prefix}`))
      .map(routeKey)
      .sort();
    const held = (s.inBird ?? []).map(routeKey).sort();
    return s.routes.every((r) => r.phase === 'stable') && JSON.stringify(planned) === JSON.stringify(held)
      ? s
      : undefined;
  });
}
