import {
  jetstream as names,
  rolloutEffectId,
  ruleSetKeys,
  subjects,
  type RolloutTimelineEvent,
  type RuleSetAssignment,
} from '@rhi/contracts';
import { jetstream } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { RolloutEffectsPort } from '../ports.js';

/** Assignment writes in flight at once: 5,000 nodes are assigned in 20 round trips, not 5,000. */
export const ASSIGN_CONCURRENCY = 256;

/**
 * A rollout's effects on NATS: assignments put in the rule-set bucket (`assign.<node>`), timeline entries
 * published into the events stream with a `Nats-Msg-Id`, so that an entry published again within the
 * stream's de-duplication window is stored once.
 */
export class NatsRolloutEffects implements RolloutEffectsPort {
  constructor(
    private readonly nc: NatsConnection,
    private readonly ruleSets: KV,
  ) {}

  async assign(assignments: readonly RuleSetAssignment[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < assignments.length) {
        const a = assignments[next++]!;
        await this.ruleSets.put(ruleSetKeys.assignment(a.node), JSON.stringify(a));
      }
    };
    await Promise.all(Array.from({ length: Math.min(ASSIGN_CONCURRENCY, assignments.length) }, worker));
  }

  async publish(event: RolloutTimelineEvent): Promise<void> {
    await jetstream(this.nc).publish(subjects.rolloutEvents, JSON.stringify(event), {
      msgID: rolloutEffectId(event.rollout, event.seq),
      expect: { streamName: names.eventsStream },
    });
  }
}
