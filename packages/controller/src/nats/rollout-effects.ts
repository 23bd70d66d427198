import {
  jetstream as names,
  kvSubject,
  rolloutEffectId,
  ruleSetKeys,
  subjects,
  type RolloutTimelineEvent,
  type RuleSetAssignment,
} from '@rhi/contracts';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { RolloutEffectsPort } from '../ports.js';
import { putMany } from './put-many.js';

/** Assignment writes in flight at once: 5,000 nodes are assigned in 20 round trips, not 5,000. */
export const ASSIGN_CONCURRENCY = 256;
/** How long the assignment writes may go without an answer from JetStream before they are given up. */
export const ASSIGN_TIMEOUT_MS = 10_000;

/**
 * A rollout's effects on NATS: assignments put in the rule-set bucket (`assign.<node>`), timeline entries
 * published into the events stream with a `Nats-Msg-Id`, so that an entry published again within the
 * stream's de-duplication window is stored once.
 */
export class NatsRolloutEffects implements RolloutEffectsPort {
  constructor(private readonly nc: NatsConnection) {}

  /** Puts every `assign.<node>` key, {@link ASSIGN_CONCURRENCY} in flight, on one reply subscription. */
  async assign(assignments: readonly RuleSetAssignment[]): Promise<void> {
    await putMany(
      this.nc,
      assignments.map(
        (a) => [kvSubject(names.ruleSetBucket, ruleSetKeys.assignment(a.node)), JSON.stringify(a)] as const,
      ),
      { inFlight: ASSIGN_CONCURRENCY, timeoutMs: ASSIGN_TIMEOUT_MS },
    );
  }

  async publish(event: RolloutTimelineEvent): Promise<void> {
    await jetstream(this.nc).publish(subjects.rolloutEvents, JSON.stringify(event), {
      msgID: rolloutEffectId(event.rollout, event.seq),
      expect: { streamName: names.eventsStream },
    });
  }
}
