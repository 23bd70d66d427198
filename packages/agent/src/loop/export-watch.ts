import type { Logger } from 'pino';
import type { Clock, RouteExport, RouteInjector } from './ports.js';

/** Settings and ports of the export checks. */
export interface ExportWatchOptions {
  readonly injector: RouteInjector;
  readonly clock: Clock;
  readonly logger: Logger;
  /** A check this often, besides after each change BIRD took (0 = only after changes). */
  readonly intervalMs: number;
  /** How long after a change BIRD took the check runs (changes in a burst share one check). */
  readonly delayMs?: number;
  readonly onReport: (exports: readonly RouteExport[]) => void;
}

/**
 * Asks BIRD which routing protocols send our routes, after changes and periodically, one check at a
 * time and never on the failover path: a check that failed (BIRD away: the loop reports that) or raced
 * an apply is simply done again later.
 */
export class ExportWatch {
  private cancel: (() => void) | null = null;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(private readonly options: ExportWatchOptions) {}

  start(): void {
    this.schedule(this.options.intervalMs);
  }

  /** BIRD took a change: check soon. */
  changed(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(this.options.delayMs ?? 250);
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = null;
  }

  private schedule(inMs: number): void {
    if (this.stopped || !this.options.injector.exports) return;
    if (inMs <= 0) return;
    this.cancel?.();
    this.cancel = this.options.clock.at(this.options.clock.now() + inMs, () => void this.check());
  }

  private async check(): Promise<void> {
    this.cancel = null;
    this.running = true;
    try {
      const exports = await this.options.injector.exports?.();
      if (exports && !this.stopped) this.options.onReport(exports);
    } catch (err) {
      this.options.logger.debug({ event: 'exportCheckFailed', err }, 'could not ask BIRD what it exports');
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.schedule(this.options.delayMs ?? 250);
      } else this.schedule(this.options.intervalMs);
    }
  }
}
