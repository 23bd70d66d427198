import { parseRouteId } from '@rhi/contracts';
import { z } from 'zod';

const path = z.string().min(1).startsWith('/', 'an absolute path');
const ms = (min: number, max: number) => z.number().int().min(min).max(max);
const DAY = 86_400_000;

const listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[0-9.]+|localhost):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:9190')
  .refine((l) => Number(l.slice(l.lastIndexOf(':') + 1)) <= 65535, 'the port is at most 65535');

/** An API token: its name (in logs), its role, and the sha256 of the token (`rhictl token-hash` prints it). */
const token = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, '1-64 letters, digits, _ . @ -'),
  role: z.enum(['viewer', 'operator']),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'the lowercase hex sha256 of the token, never the token itself'),
});

/** rhi-controller's configuration file (`/etc/rhi/controller.yaml`). */
export const ControllerConfigSchema = z.strictObject({
  nats: z
    .strictObject({
      servers: z
        .array(z.string().regex(/^(nats|tls):\/\/[^\s]+$/, 'expected nats://host:port or tls://host:port'))
        .min(1),
      /** A NATS credentials file (JWT + nkey seed). */
      credentials: path.optional(),
      /** A file holding the controller's nkey seed (`SU...`), as `rhi-controller nats init` writes it. */
      nkeyFile: path.optional(),
      user: z.string().optional(),
      password: z.string().optional(),
      token: z.string().optional(),
      tls: z.strictObject({ ca: path.optional(), cert: path.optional(), key: path.optional() }).optional(),
      /** Copies of each stream: 1 on one server, 3 on a cluster of three. */
      replicas: z.number().int().min(1).max(5).default(1),
    })
    .refine((n) => n.credentials || n.nkeyFile || n.user || n.token, {
      message: 'NATS must be authenticated: give nkeyFile, credentials, user/password or token',
    }),
  api: z.strictObject({
    listen: listen.default('127.0.0.1:9190'),
    /** Who may call the API: at least one token. */
    tokens: z.array(token).min(1, 'give at least one token: the API is never open'),
  }),
  /**
   * Rule sets: the key the controller signs them with. Without this section the controller shows the fleet
   * and stores no rule set (its rule-set endpoints answer 409 RULESETS_NOT_CONFIGURED).
   */
  rules: z
    .strictObject({
      /** An ed25519 private key in PEM, readable by the controller only (`rhi-controller keygen` makes one). */
      signingKey: path,
      /** The name agents trust its public key by: `rules.trustedKeys.<keyId>` in each agent's config. */
      keyId: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, '1-64 letters, digits, _ . @ -'),
    })
    .optional(),
  fleet: z
    .strictObject({
      /** The agents' `nats.heartbeatMs`: a node silent for 3 of them is lost. */
      heartbeatMs: ms(1000, 600_000).default(5000),
      /** The fewest advertisers a VIP should have: a default, per table, per VIP (the most specific wins). */
      minimumAdvertisers: z
        .strictObject({
          default: z.number().int().min(0).default(1),
          tables: z.record(z.string(), z.number().int().min(0)).default({}),
          vips: z
            .record(
              z.string().refine((id) => parseRouteId(id) !== null, 'a route id, table%prefix'),
              z.number().int().min(0),
            )
            .default({}),
        })
        .default({ default: 1, tables: {}, vips: {} }),
      /** A node with a route that went up or down this many times in `windowMs` is flapping. */
      flapping: z
        .strictObject({
          transitions: z.number().int().min(2).default(6),
          windowMs: ms(1000, DAY).default(300_000),
        })
        .default({ transitions: 6, windowMs: 300_000 }),
      /** How long the timeline keeps events. */
      eventRetentionMs: ms(60_000, 365 * DAY).default(30 * DAY),
      /** How long a node that stopped reporting keeps its last status (and its last health report). */
      statusRetentionMs: ms(60_000, 365 * DAY).default(7 * DAY),
      /**
       * The replicas' lease (the lease bucket's TTL): a holder gone is replaced within it. Below the events
       * stream's 2-minute de-duplication window, so that a takeover cannot publish an alert twice.
       */
      leaseTtlMs: ms(1000, 60_000).default(15_000),
      /** How often the lease holder moves the rollout under way on (reads acks, the health gate, deadlines). */
      rolloutTickMs: ms(50, 10_000).default(250),
    })
    .default({
      heartbeatMs: 5000,
      minimumAdvertisers: { default: 1, tables: {}, vips: {} },
      flapping: { transitions: 6, windowMs: 300_000 },
      eventRetentionMs: 30 * DAY,
      statusRetentionMs: 7 * DAY,
      leaseTtlMs: 15_000,
      rolloutTickMs: 250,
    }),
});
export type ControllerConfig = z.infer<typeof ControllerConfigSchema>;

/** The minimum advertisers of a VIP: its own, else its table's, else the default. Pure. */
export function minimumFor(config: ControllerConfig['fleet']['minimumAdvertisers']): (id: string) => number {
  return (id) => {
    const own = config.vips[id];
    if (own !== undefined) return own;
    const table = parseRouteId(id)?.table;
    return (table === undefined ? undefined : config.tables[table]) ?? config.default;
  };
}
