import type { Logger } from 'pino';
import type { EventRingReport, EventRingStatus } from '../core/event-ring.js';
import { eventRingStep, pendingRing } from '../core/event-ring.js';
import type { ProxyNames } from '@rhi/haproxy-client';
import type { AgentSnapshot, AgentTransition, Clock, HealthEvent, StatusSink } from '../loop/ports.js';

/**
 * Adds `haproxy.eventRing` to every status on its way to `next` (NATS, metrics), and tells what becomes
 * of the ring: `eventRingUnavailable` (error level, with the ring, the worker, the error's code and the
 * poll interval detection falls back to) and `eventRingFollowed`, each also an event on `next`. A change
 * of the ring's state sends the last status again with it.
 */
export class EventRingSink implements StatusSink {
  private ring: EventRingStatus;
  private last: AgentSnapshot | null = null;

  constructor(
    private readonly next: StatusSink,
    private readonly options: {
      readonly ring: string;
      readonly pollIntervalMs: number;
      readonly logger: Logger;
      readonly clock: Clock;
    },
  ) {
    this.ring = pendingRing(options.ring);
  }

  status(s: AgentSnapshot): void {
    this.last = s;
    this.next.status(this.decorate(s));
  }

  event(event: AgentTransition): void {
    this.next.event(event);
  }

  health(event: HealthEvent, named: () => ProxyNames): void {
    this.next.health?.(event, named);
  }

  /** `s` with the ring's state in `haproxy.eventRing`. */
  decorate(s: AgentSnapshot): AgentSnapshot {
    return { ...s, haproxy: { ...s.haproxy, eventRing: this.ring } };
  }

  /** What the feed found of the ring on a worker. */
  report(report: EventRingReport): void {
    const { logger, clock, pollIntervalMs } = this.options;
    const { status, transition } = eventRingStep(this.ring, report, pollIntervalMs);
    const changed = JSON.stringify(status) !== JSON.stringify(this.ring);
    this.ring = status;
    if (transition) {
      const fields = {
        event: transition.event,
        ring: status.name,
        pid: report.pid,
        reason: transition.reason,
      };
      if (transition.event === 'eventRingUnavailable')
        logger.error(
          { ...fields, code: status.code, pollIntervalMs },
          `${transition.event}: ${transition.reason}`,
        );
      else logger.info(fields, `${transition.event}: ${transition.reason}`);
      this.next.event({ event: transition.event, reason: transition.reason, time: clock.now() });
    }
    if (changed && this.last) this.next.status(this.decorate(this.last));
  }
}
