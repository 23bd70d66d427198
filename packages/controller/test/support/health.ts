import type { HealthReport } from '@rhi/contracts';
import { iso, T0 } from './statuses.js';

/** A node's health report as an agent publishes it, at T0: one frontend and one backend up. */
export function healthReport(node: string, over: Partial<HealthReport> = {}): HealthReport {
  return {
    schema: 'rhi.v1.health',
    node,
    time: iso(T0),
    seq: 1,
    reachable: true,
    pid: 100,
    frontends: { fe_web: { up: true } },
    backends: { be_app: { up: true, serversUp: 2, serversTotal: 3 } },
    omitted: { frontends: 0, backends: 0 },
    ...over,
  };
}
