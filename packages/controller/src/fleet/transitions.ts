import { AgentEventSchema, subjects } from '@rhi/contracts';

/**
 * Route transitions per node and route in a sliding window: a node is as flapping as its most changing
 * route (a rule set that brings 10 VIPs up is 10 transitions, none of them flapping). Pure (times given).
 */
export class TransitionWindow {
  private readonly times = new Map<string, Map<string, number[]>>();

  constructor(private readonly windowMs: number) {}

  add(node: string, route: string, at: number): void {
    let routes = this.times.get(node);
    if (!routes) this.times.set(node, (routes = new Map()));
    const list = routes.get(route);
    if (list) list.push(at);
    else routes.set(route, [at]);
  }

  /** Per node, the most transitions of one of its routes within the window ending at `now` (none: left out). */
  counts(now: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [node, routes] of this.times) {
      let most = 0;
      for (const [route, list] of routes) {
        const kept = list.filter((t) => t > now - this.windowMs);
        if (kept.length === 0) routes.delete(route);
        else {
          routes.set(route, kept);
          most = Math.max(most, kept.length);
        }
      }
      if (routes.size === 0) this.times.delete(node);
      else out.set(node, most);
    }
    return out;
  }
}

const TRANSITIONS = new Set(['routeAnnounced', 'routeWithdrawn']);
const nodeEventsPrefix = subjects.allNodeEvents.slice(0, -1);

/**
 * The node and route (`table%prefix`) whose transition (`routeAnnounced` or `routeWithdrawn`) the message
 * on `subject` is, or null: another event, the controller's alert events, or a malformed message (not
 * JSON, not an `AgentEvent`, or naming another node than its subject). Pure.
 */
export function parseRouteTransition(
  subject: string,
  text: string,
): { readonly node: string; readonly route: string } | null {
  if (!subject.startsWith(nodeEventsPrefix)) return null;
  const node = subject.slice(nodeEventsPrefix.length);
  if (node.includes('.')) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = AgentEventSchema.safeParse(payload);
  if (!parsed.success || parsed.data.node !== node || !TRANSITIONS.has(parsed.data.event)) return null;
  const { table, prefix } = parsed.data;
  return { node, route: table !== undefined && prefix !== undefined ? `${table}%${prefix}` : '' };
}
