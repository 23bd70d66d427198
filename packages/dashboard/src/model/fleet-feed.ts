import type { ApiAlert, FleetMatrix } from '@rhi/contracts/fleet';
import type { Api } from './api.js';
import type { StreamEvent } from './live-stream.js';
import { fromWhole, mergeColumns, type MatrixState } from './matrix-state.js';

/** What the page shows of the fleet, kept up to date from the API and the live stream. */
export interface FleetSnapshot {
  readonly matrix: MatrixState | null;
  readonly alerts: readonly ApiAlert[];
  /** The last read that failed, if the newest did. */
  readonly error: string | null;
}

const NODE_ALERTS = new Set(['nodeDrift', 'nodeLost', 'nodeFlapping', 'ruleSetMismatch', 'ruleSetRejected']);

/**
 * Turns stream events into reads: a node's change reads its column (the changes of 50 ms together), an
 * alert reads the alerts (and a node alert that node's column: lost nodes turn lost on the controller's
 * clock, not by a status), a reset or a (re)connect reads everything. Reads are idempotent, so a
 * change seen twice or from another controller replica costs a read and nothing else.
 *
 * A failed column or alerts read is not forgotten: its nodes (and the alerts) join the next batch, which
 * the next event or, at the latest, a retry `retryMs` after the failure reads. When the columns were read
 * and the alerts read then fails, the merged columns are kept and the alerts error reported.
 */
export class FleetFeed {
  private snapshot: FleetSnapshot = { matrix: null, alerts: [], error: null };
  private readonly pendingNodes = new Set<string>();
  private pendingAlerts = false;
  private timer: unknown = null;
  private retryTimer: unknown = null;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly api: Api,
    private readonly onChange: (s: FleetSnapshot) => void,
    private readonly setTimer: (f: () => void, ms: number) => unknown = (f, ms) => setTimeout(f, ms),
    private readonly batchMs = 50,
    private readonly retryMs = 5000,
  ) {}

  get current(): FleetSnapshot {
    return this.snapshot;
  }

  /** Reads the whole matrix and the alerts. */
  reloadAll(): Promise<void> {
    return this.queue(async () => {
      const [m, a] = await Promise.all([
        this.api.get<FleetMatrix>('/api/v1/matrix'),
        this.api.get<{ alerts: ApiAlert[] }>('/api/v1/alerts'),
      ]);
      this.set({ matrix: fromWhole(m), alerts: a.alerts, error: null });
    });
  }

  event(e: StreamEvent): void {
    if (e.kind === 'reset') {
      void this.reloadAll();
      return;
    }
    if (e.kind === 'node' && e.subject) this.pendingNodes.add(e.subject);
    if (e.kind === 'alertOpened' || e.kind === 'alertClosed') {
      this.pendingAlerts = true;
      const a = e.data as Partial<ApiAlert> | undefined;
      if (a?.kind && NODE_ALERTS.has(a.kind) && a.subject) this.pendingNodes.add(a.subject);
    }
    if (this.timer === null && (this.pendingNodes.size > 0 || this.pendingAlerts))
      this.timer = this.setTimer(() => {
        this.timer = null;
        this.flush();
      }, this.batchMs);
  }

  private flush(): void {
    if (this.pendingNodes.size === 0 && !this.pendingAlerts) return;
    const nodes = [...this.pendingNodes];
    const alerts = this.pendingAlerts;
    this.pendingNodes.clear();
    this.pendingAlerts = false;
    void this.queue(async () => {
      let matrix = this.snapshot.matrix;
      if (nodes.length > 0) {
        try {
          const part = await this.api.get<FleetMatrix>(
            `/api/v1/matrix?nodes=${nodes.map(encodeURIComponent).join(',')}`,
          );
          matrix =
            (matrix ? mergeColumns(matrix, nodes, part) : null) ??
            fromWhole(await this.api.get<FleetMatrix>('/api/v1/matrix'));
        } catch (err) {
          this.again(nodes, alerts);
          throw err;
        }
      }
      let list = this.snapshot.alerts;
      let error: string | null = null;
      if (alerts) {
        try {
          list = (await this.api.get<{ alerts: ApiAlert[] }>('/api/v1/alerts')).alerts;
        } catch (err) {
          this.again([], true);
          error = (err as Error).message;
        }
      }
      this.set({ matrix, alerts: list, error });
    });
  }

  /** Puts the reads that failed back into the next batch, and makes sure that batch is read. */
  private again(nodes: readonly string[], alerts: boolean): void {
    for (const n of nodes) this.pendingNodes.add(n);
    if (alerts) this.pendingAlerts = true;
    if (this.retryTimer === null)
      this.retryTimer = this.setTimer(() => {
        this.retryTimer = null;
        this.flush();
      }, this.retryMs);
  }

  private queue(read: () => Promise<void>): Promise<void> {
    this.reading = this.reading.then(read).catch((err: unknown) => {
      this.set({ ...this.snapshot, error: (err as Error).message });
    });
    return this.reading;
  }

  private set(s: FleetSnapshot): void {
    this.snapshot = s;
    this.onChange(s);
  }
}
