import type { ProxyNames } from '@rhi/haproxy-client';
import type { AgentSnapshot, AgentTransition, HealthEvent, StatusSink } from '../loop/ports.js';

/** Sends status and events to several sinks; one that throws does not stop the others. */
export class FanoutSink implements StatusSink {
  private readonly sinks: StatusSink[] = [];

  add(sink: StatusSink): void {
    this.sinks.push(sink);
  }

  status(status: AgentSnapshot): void {
    for (const s of this.sinks) {
      try {
        s.status(status);
      } catch {
        // A reporting failure must never reach the failover path.
      }
    }
  }

  event(event: AgentTransition): void {
    for (const s of this.sinks) {
      try {
        s.event(event);
      } catch {
        // As above.
      }
    }
  }

  health(event: HealthEvent, named: () => ProxyNames): void {
    for (const s of this.sinks) {
      try {
        s.health?.(event, named);
      } catch {
        // As above.
      }
    }
  }
}
