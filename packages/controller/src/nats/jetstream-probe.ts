import { jetstream as names } from '@rhi/contracts';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

/** How often a replica writes its probe, and how long one write may take. */
export const PROBE_INTERVAL_MS = 2000;
/**
 * How long writes must fail without a break before the quorum is called lost: with one server of three
 * down, a stream whose leader it was takes no writes until its followers elect another, which on 2.9
 * (election timeouts of 4-9 s) was measured at up to ~10 s.
 */
export const QUORUM_LOST_AFTER_MS = 15_000;

/**
 * What a JetStream request's failure means, in words: nats-server 2.9.10 answers a write it cannot make
 * without its quorum with a misleading `jetstream is not enabled`.
 */
export function jetstreamFailure(err: unknown): string {
  const message = (err as Error).message ?? String(err);
  if (/jetstream is not enabled/i.test(message))
    return 'no JetStream quorum: "jetstream is not enabled" on 2.9';
  if (/temporarily unavailable/i.test(message)) return 'JetStream system temporarily unavailable';
  if (/timeout/i.test(message)) return 'a write timed out';
  if (/no responders/i.test(message)) return 'no responders';
  return message;
}

/**
 * Whether JetStream takes writes, from a run of probe results: lost once they have failed without a
 * success for {@link QUORUM_LOST_AFTER_MS}, back at the first success. Pure (times given).
 */
export class QuorumState {
  private failingSince: number | null = null;
  private reason: string | null = null;

  constructor(private readonly lostAfterMs = QUORUM_LOST_AFTER_MS) {}

  /** Why writes fail, once the quorum is called lost; null while it is not. */
  get lost(): string | null {
    return this.reason;
  }

  /** Records one probe; returns `lost` or `back` when the state changed. */
  record(result: { ok: true } | { ok: false; reason: string }, now: number): 'lost' | 'back' | null {
    if (result.ok) {
      this.failingSince = null;
      if (this.reason === null) return null;
      this.reason = null;
      return 'back';
    }
    this.failingSince ??= now;
    if (now - this.failingSince < this.lostAfterMs) return null;
    const was = this.reason;
    this.reason = result.reason;
    return was === null ? 'lost' : null;
  }
}

/**
 * Writes `replica.<id>` to the probe bucket every {@link PROBE_INTERVAL_MS} while `connected()` says the
 * connection is up. A read is no proof: a 3-server cluster's last server, if it is the metadata leader,
 * answers account info for about 20 s after losing both peers, while every write fails at once. Logs
 * `natsQuorumLost` / `natsQuorumBack`.
 */
export async function probeJetStream(
  nc: NatsConnection,
  options: {
    readonly replicaId: string;
    readonly replicas: number;
    readonly state: QuorumState;
    readonly connected: () => boolean;
    readonly logger: Logger;
    readonly signal: AbortSignal;
  },
): Promise<void> {
  const { state, logger, signal } = options;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  const kvm = new Kvm(jetstream(nc, { timeout: PROBE_INTERVAL_MS }));
  const key = `replica.${options.replicaId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  let kv: Awaited<ReturnType<Kvm['create']>> | null = null;
  while (!signal.aborted && !nc.isClosed()) {
    if (options.connected()) {
      let result: { ok: true } | { ok: false; reason: string };
      try {
        kv ??= await kvm.create(names.probeBucket, {
          history: 1,
          ttl: 60_000,
          replicas: options.replicas,
        });
        await kv.put(key, new Date().toISOString(), { timeout: PROBE_INTERVAL_MS });
        result = { ok: true };
      } catch (err) {
        result = { ok: false, reason: jetstreamFailure(err) };
      }
      const change = state.record(result, Date.now());
      if (change === 'lost')
        logger.error(
          { event: 'natsQuorumLost', reason: state.lost },
          `NATS quorum lost: JetStream takes no writes (${state.lost}); serving the last view read-only`,
        );
      else if (change === 'back') logger.info({ event: 'natsQuorumBack' }, 'JetStream takes writes again');
    }
    await sleep(PROBE_INTERVAL_MS);
  }
}
