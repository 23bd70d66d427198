import {
  alertEventMsgId,
  AlertEventSchema,
  jetstream as names,
  subjects,
  type AlertEvent,
} from '@rhi/contracts';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { planAlertEvents, type PublishedAlert } from '../fleet/alert-events.js';
import type { Alert } from '../fleet/alerts.js';

/** Opens (or creates) the bucket of published open alerts. Idempotent. */
export async function ensureAlertBucket(nc: NatsConnection, options: { replicas: number }): Promise<KV> {
  return new Kvm(nc).create(names.alertBucket, { history: 1, replicas: options.replicas });
}

const ClaimSchema = z.strictObject({ opening: AlertEventSchema, published: z.boolean() });

/** Alert keys (`kind:subject`, with `%`, `/`, `:`) are not KV keys: base64url is. */
const kvKey = (alertKey: string) => `open.${Buffer.from(alertKey).toString('base64url')}`;
const alertKeyOf = (e: AlertEvent) => `${e.kind}:${e.subject}`;

/** Called for each alert event published: `duplicate` when the stream had it already (a takeover). */
export type AlertEventObserver = (event: AlertEvent, duplicate: boolean) => void;

/**
 * Publishes alert openings and closings to the timeline, once across replicas: only the lease holder
 * calls {@link sync}; each opening's id is claimed in the alert bucket (create = compare-and-set) before
 * it is published, and every event carries `Nats-Msg-Id` = id + transition, so a holder taking over
 * reuses the ids and the stream drops what it already has.
 */
export class AlertPublisher {
  private readonly js: JetStreamClient;
  private claims: Map<string, { alert: PublishedAlert; revision: number }> | null = null;
  private busy = false;

  constructor(
    nc: NatsConnection,
    private readonly kv: KV,
    private readonly logger: Logger,
    private readonly observe: AlertEventObserver = () => undefined,
  ) {
    this.js = jetstream(nc);
  }

  /** Forgets what it read of the bucket (the lease was lost): the next sync reads it again. */
  reset(): void {
    this.claims = null;
  }

  /**
   * Makes the timeline agree with `open`: publishes the openings and closings it lacks. Call while holding
   * the lease; `held` is asked again before each write. A sync still running makes this one a no-op.
   */
  async sync(open: readonly Alert[], held: () => boolean, now = Date.now()): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const claims = this.claims ?? (this.claims = await this.load());
      const published = new Map([...claims].map(([k, c]) => [k, c.alert]));
      const plan = planAlertEvents(open, published, now);
      for (const e of plan.republish) {
        if (!held()) return;
        await this.publish(e);
        const claim = claims.get(alertKeyOf(e))!;
        const alert = { opening: e, published: true };
        claims.set(alertKeyOf(e), {
          alert,
          revision: await this.kv.update(kvKey(alertKeyOf(e)), JSON.stringify(alert), claim.revision),
        });
      }
      for (const e of plan.open) {
        if (!held()) return;
        const key = kvKey(alertKeyOf(e));
        const revision = await this.kv.create(key, JSON.stringify({ opening: e, published: false }));
        await this.publish(e);
        const alert = { opening: e, published: true };
        claims.set(alertKeyOf(e), {
          alert,
          revision: await this.kv.update(key, JSON.stringify(alert), revision),
        });
      }
      for (const e of plan.close) {
        if (!held()) return;
        await this.publish(e);
        const claim = claims.get(alertKeyOf(e))!;
        await this.kv.delete(kvKey(alertKeyOf(e)), { previousSeq: claim.revision });
        claims.delete(alertKeyOf(e));
      }
    } catch (err) {
      // Another holder wrote meanwhile, or NATS went away: read the bucket again next time.
      this.claims = null;
      this.logger.warn({ event: 'alertPublishFailed', err }, 'could not publish alert events; retrying');
    } finally {
      this.busy = false;
    }
  }

  private async load(): Promise<Map<string, { alert: PublishedAlert; revision: number }>> {
    const claims = new Map<string, { alert: PublishedAlert; revision: number }>();
    const keys: string[] = [];
    for await (const k of await this.kv.keys('open.>')) keys.push(k);
    for (const k of keys) {
      const entry = await this.kv.get(k);
      if (!entry || entry.operation !== 'PUT') continue;
      const parsed = ClaimSchema.safeParse(entry.json());
      if (!parsed.success) {
        this.logger.warn(
          { event: 'alertClaimInvalid', key: k, reason: parsed.error.issues[0]?.message },
          `alert bucket entry ${k} is not a claim: ignored`,
        );
        continue;
      }
      const alert = parsed.data;
      claims.set(alertKeyOf(alert.opening), { alert, revision: entry.revision });
    }
    return claims;
  }

  private async publish(e: AlertEvent): Promise<void> {
    const ack = await this.js.publish(subjects.alertEvents, JSON.stringify(e), {
      msgID: alertEventMsgId(e),
    });
    this.logger.debug(
      { event: 'alertEventPublished', id: e.id, transition: e.event, duplicate: ack.duplicate, seq: ack.seq },
      'alert event in the timeline',
    );
    this.observe(e, ack.duplicate);
  }
}
