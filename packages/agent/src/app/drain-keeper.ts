import type { Logger } from 'pino';
import type { DrainRequest } from '../core/drain-state.js';
import { drainOrder, drainRecord, restoredDrainReason } from '../core/drain-state.js';
import type { PersistedDrain } from '../core/state-files.js';
import type { AgentLoop } from '../loop/agent-loop.js';
import type { StateStore } from '../state/state-store.js';

/** What the drain keeper drives. */
export interface DrainKeeperPorts {
  readonly loop: Pick<AgentLoop, 'drain' | 'undrain'>;
  /** Writes `drain.json` atomically (the {@link StateStore}'s `saveDrain`). */
  readonly store: Pick<StateStore, 'saveDrain'>;
  readonly logger: Logger;
  /** Wall clock, for the file's `since`. */
  readonly now: () => Date;
}

/**
 * Drains and undrains the loop and keeps the drain across restarts: the loop acts first (never waiting on
 * the disk), then `drain.json` is written; a write that fails is logged (`stateWriteFailed`) and the drain
 * stays in force. At boot the file read back drains the loop before its first plan.
 */
export class DrainKeeper {
  constructor(private readonly ports: DrainKeeperPorts) {}

  /** Drains now; resolves once the drain file is written (or its write failed). */
  async drain(request: DrainRequest): Promise<void> {
    const order = drainOrder(request);
    this.ports.loop.drain(order.reason, order.options);
    await this.save(drainRecord(order.reason, this.ports.now()));
  }

  /** Undrains now; resolves once the drain file says so (or its write failed). */
  async undrain(): Promise<void> {
    this.ports.loop.undrain();
    await this.save(drainRecord(undefined, this.ports.now()));
  }

  /** Carries a drain over from before a restart; writes nothing (the file already says it). */
  restore(persisted: PersistedDrain | null): void {
    const reason = restoredDrainReason(persisted);
    if (reason !== null) this.ports.loop.drain(reason);
  }

  private async save(record: PersistedDrain): Promise<void> {
    await this.ports.store
      .saveDrain(record)
      .catch((err: unknown) =>
        this.ports.logger.warn(
          { event: 'stateWriteFailed', op: 'saveDrain', err },
          'cannot persist the drain state',
        ),
      );
  }
}
