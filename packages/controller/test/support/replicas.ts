import type { NatsInstance } from '@rhi/test-support';
import pino, { type Level } from 'pino';
import { ControllerConfigSchema } from '../../src/config/schema.js';
import { tokenHash } from '../../src/http/auth.js';
import { ControllerRuntime } from '../../src/runtime.js';

/** The viewer token every test replica accepts. */
export const API_TOKEN = 'replica-test-token-of-some-length';

/** A controller replica on `nats` with the `fleet` settings given, its API on a free loopback port. */
export async function startReplica(
  nats: NatsInstance,
  fleet: Record<string, unknown>,
  level: Level | 'silent' = 'silent',
): Promise<ControllerRuntime> {
  const config = ControllerConfigSchema.parse({
    nats: { servers: [nats.url], user: nats.user, password: nats.password },
    api: { listen: '127.0.0.1:0', tokens: [{ name: 'test', role: 'viewer', sha256: tokenHash(API_TOKEN) }] },
    fleet,
  });
  return ControllerRuntime.start({ config, logger: pino({ level }), version: 'test' });
}

/** GET `path` from a replica's API with the test token: the HTTP status and the JSON body. */
export async function apiGet(
  r: ControllerRuntime,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${r.address?.port}${path}`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
