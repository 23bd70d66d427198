import { AgentEventSchema, subjects } from '@rhi/contracts';

/** Route transitions per node in a sliding window: what makes a node flapping. Pure (times given). */
export class TransitionWindow {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly windowMs: number) {}

  add(node: string, at: number): void {
    const list = this.times.get(node) ?? [];
    list.push(at);
    this.times.set(node, list);
  }

  /** Per node, the transitions within the window ending at `now` (nodes with none are left out). */
  counts(now: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [node, list] of this.times) {
      const kept = list.filter((t) => t > now - this.windowMs);
      if (kept.length === 0) this.times.delete(node);
      else {
        this.times.set(node, kept);
        out.set(node, kept.length);
      }
    }
    return out;
  }
}

const TRANSITIONS = new Set(['routeAnnounced', 'routeWithdrawn']);
const nodeEventsPrefix = subjects.allNodeEvents.slice(0, -1);

/**
 * The node whose route transition (`routeAnnounced` or `routeWithdrawn`) the message on `subject` is, or
 * null: another event, the controller's alert events, or a malformed message (not JSON, not an
 * `AgentEvent`, or naming another node than its subject). Pure.
 */
export function parseRouteTransition(subject: string, text: string): string | null {
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
  if (!parsed.success || parsed.data.node !== node) return null;
  return TRANSITIONS.has(parsed.data.event) ? node : null;
}
