import { TOKEN, type Heartbeat } from '@rhi/contracts';

/**
 * A heartbeat as agents write it, recognised without the schema: exactly `schema`, `node`, `time` and
 * `seq`, the node a token, the time as `Date.prototype.toISOString` writes it (so a real date), the seq a
 * non-negative integer. Everything it accepts `HeartbeatSchema` accepts too (test/quick-heartbeat.test.ts);
 * anything else is left to the schema (undefined). With its time in epoch ms. About ten times cheaper
 * than the schema: the controller takes a fleet's heartbeats every second.
 */
export function quickHeartbeat(payload: unknown): { heartbeat: Heartbeat; ms: number } | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const p = payload as Record<string, unknown>;
  let keys = 0;
  for (const key in p) {
    if (key !== 'schema' && key !== 'node' && key !== 'time' && key !== 'seq') return undefined;
    keys++;
  }
  const { schema, node, time, seq } = p;
  if (keys !== 4 || schema !== 'rhi.v1.heartbeat') return undefined;
  if (typeof node !== 'string' || !TOKEN.test(node)) return undefined;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  if (typeof time !== 'string' || time.length !== 24) return undefined;
  const ms = Date.parse(time);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== time) return undefined;
  return { heartbeat: payload as Heartbeat, ms };
}
