import { jetstream as names } from '@rhi/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { LeaseMachine, type LeaseChange } from '../lease/lease-machine.js';

const KEY = 'holder';

/** How the lease is kept and who asks for it. */
export interface KvLeaseOptions {
  /** The bucket's TTL: a lease not renewed is free this long after its last write. */
  readonly ttlMs: number;
  readonly replicas: number;
  /** This replica's name, written in the lease entry (for people reading the bucket). */
  readonly holderId: string;
  readonly logger: Logger;
  /** Called on each change (acquired, lost), after it is logged. */
  readonly onChange?: (change: LeaseChange) => void;
  /** Random wait before the first try, at most this long. Default TTL / 4. */
  readonly splayMs?: number;
}

/**
 * Opens the lease bucket (one key, bucket-wide TTL: nats-server 2.9 has no per-key TTL), creating it or
 * setting its TTL to `ttlMs`. Idempotent.
 */
export async function ensureLeaseBucket(
  nc: NatsConnection,
  options: { ttlMs: number; replicas: number },
): Promise<KV> {
  const kv = await new Kvm(nc).create(names.leaseBucket, {
    history: 1,
    ttl: options.ttlMs,
    replicas: options.replicas,
  });
  const jsm = await jetstreamManager(nc);
  const stream = `KV_${names.leaseBucket}`;
  const info = await jsm.streams.info(stream);
  const maxAge = options.ttlMs * 1_000_000;
  if (info.config.max_age !== maxAge) await jsm.streams.update(stream, { ...info.config, max_age: maxAge });
  return kv;
}

/**
 * The lease on the KV bucket (the thin shell of {@link LeaseMachine}): create the key to take it, update
 * it with the last revision to renew it, step down when an update fails. Expiry sends no event on 2.9:
 * timers drive it. Logs `leaseAcquired` / `leaseLost`.
 */
export class KvLease {
  private readonly machine: LeaseMachine;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly kv: KV,
    private readonly options: KvLeaseOptions,
  ) {
    const splay = options.splayMs ?? options.ttlMs / 4;
    this.machine = new LeaseMachine({ ttlMs: options.ttlMs }, Date.now() + Math.floor(Math.random() * splay));
  }

  /** Whether this replica holds the lease now. */
  get held(): boolean {
    return this.machine.holds(Date.now());
  }

  /** The lease entry's revision while held: a fencing token that only grows. */
  get revision(): number | null {
    return this.held ? this.machine.revision : null;
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops renewing; with `release`, deletes the entry (only if still ours) so another takes over at once. */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    const revision = this.machine.revision;
    const change = this.machine.release(Date.now());
    if (release && revision !== null)
      await this.kv.delete(KEY, { previousSeq: revision }).catch(() => undefined);
    if (change) this.report(change);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick();
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    const { step, change } = this.machine.next(now);
    if (change) this.report(change);
    if (step.do === 'wait') return this.schedule(step.until - now);
    const value = JSON.stringify({ holder: this.options.holderId, at: new Date(now).toISOString() });
    try {
      if (step.do === 'create') this.report(this.machine.created(await this.kv.create(KEY, value), now));
      else this.machine.renewed(await this.kv.update(KEY, value, step.revision), now);
    } catch (err) {
      if (step.do === 'create') this.machine.createFailed(now);
      else {
        const lost = this.machine.renewFailed(now, (err as Error).message);
        if (lost) this.report(lost);
      }
    }
    this.schedule(0);
  }

  private report(change: LeaseChange): void {
    const { logger, holderId } = this.options;
    if (change.kind === 'acquired')
      logger.info(
        { event: 'leaseAcquired', holder: holderId, revision: change.revision },
        'this replica holds the lease',
      );
    else
      logger.warn(
        { event: 'leaseLost', holder: holderId, reason: change.reason },
        `this replica no longer holds the lease: ${change.reason}`,
      );
    this.options.onChange?.(change);
  }
}
