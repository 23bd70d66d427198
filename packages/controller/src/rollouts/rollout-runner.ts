import type { RolloutRecord, RuleSetAck } from '@rhi/contracts';
import type { Logger } from 'pino';
import { healthEvents, type HealthGateInput } from '../rollout/health-gate.js';
import { applyRolloutEvent, TERMINAL } from '../rollout/rollout-machine.js';
import { ackEvent, type RolloutEvent } from '../rollout/rollout-types.js';
import type { RolloutEffectsPort, RolloutStorePort, StoredRollout } from '../ports.js';
import { assignmentsOf, timelineEventOf } from './effect-writes.js';

/** The fleet as the health gate reads it. */
export type FleetReading = Pick<HealthGateInput, 'vips' | 'vipNodes' | 'alerts'>;

/** What the runner works over. */
export interface RolloutRunnerDeps {
  readonly store: RolloutStorePort;
  readonly effects: RolloutEffectsPort;
  /** This replica's id: the rollout's owner while it drives it. */
  readonly owner: string;
  readonly now: () => number;
  /** A node's last rule-set ack. */
  readonly ackOf: (node: string) => RuleSetAck | undefined;
  readonly fleet: () => FleetReading;
  /** The withdrawals the what-if shows for a rollout's rule set (`node`, `vip`): let through by the guard. */
  readonly foresee: (record: RolloutRecord) => Promise<(node: string, vip: string) => boolean>;
  readonly logger: Logger;
}

/** What the runner keeps of the rollout it drives: the health gate's baseline, taken when it began. */
interface Drive {
  readonly id: string;
  readonly baseline: ReadonlyMap<string, number>;
  /** Null while the what-if that says it runs (off the rollout's path): the gate waits for it. */
  foreseen: ((node: string, vip: string) => boolean) | null;
}

const isConflict = (err: unknown) => (err as { code?: string }).code === 'ROLLOUT_CONFLICT';

/** The acks that may move the rollout: from nodes that have not yet answered its current serial. */
function ackEvents(
  r: RolloutRecord,
  ackOf: (node: string) => RuleSetAck | undefined,
  now: number,
): Extract<RolloutEvent, { type: 'acks' }> {
  const events: Extract<RolloutEvent, { type: 'ack' }>[] = [];
  const take = (nodes: readonly string[], answered: ReadonlySet<string>, serial: number, hash: string) => {
    for (const n of nodes) {
      if (answered.has(n)) continue;
      const ack = ackOf(n);
      if (ack && ack.serial === serial && ack.hash === hash) events.push(ackEvent(ack, now));
    }
  };
  if (r.status === 'rollingBack' && r.rollback) {
    const rb = r.rollback;
    const answered = new Set([...rb.applied, ...rb.rejected.map((x) => x.node)]);
    take(rb.nodes, answered, rb.serial, rb.hash);
    return { type: 'acks', now, acks: events };
  }
  const rejected = new Set(r.rejected.map((x) => x.node));
  for (const step of r.steps) {
    if (step.assignedAt === null) break;
    const answered = new Set([...step.applied, ...rejected]);
    take(step.nodes, answered, r.ruleSet.serial, r.ruleSet.hash);
  }
  return { type: 'acks', now, acks: events };
}

/**
 * Drives the rollout under way, on the replica holding the lease: one {@link step} reads it from the
 * store, takes it over when another replica drove it, feeds the machine the acks, the health gate and the
 * time, writes the record over the revision read, does the effects of its outbox (assignments, timeline
 * entries) and writes that they are done; it gives up the `active` claim once the rollout has ended. Any
 * step may be cut short (a write conflict, NATS away, the process killed): the next, here or on another
 * replica, goes on from what is stored, and no effect is lost.
 */
export class RolloutRunner {
  private drive: Drive | null = null;
  /** Whether the last step moved the rollout or did effects: the next one should come at once. */
  moved = false;

  constructor(private readonly deps: RolloutRunnerDeps) {}

  /** Forgets the rollout driven (the lease was lost): the next step starts from the store. */
  forget(): void {
    this.drive = null;
  }

  /** One pass over the rollout under way, if any. Returns its record as this pass left it. */
  async step(): Promise<RolloutRecord | null> {
    const { store, logger } = this.deps;
    this.moved = false;
    const id = await store.active();
    if (id === null) {
      this.drive = null;
      return null;
    }
    const stored = await store.get(id);
    if (!stored) {
      logger.warn({ event: 'rolloutMissing', rollout: id }, `the rollout under way, ${id}, has no record`);
      await store.release(id);
      return null;
    }
    let { record, revision } = stored;
    const now = this.deps.now();
    const events: RolloutEvent[] = [];
    if (record.owner !== this.deps.owner) events.push({ type: 'takeover', now, by: this.deps.owner });
    let changed = false;
    const feed = (e: RolloutEvent) => {
      const t = applyRolloutEvent(record, e);
      if (t.refusal || !t.changed) return;
      record = t.state;
      changed = true;
    };
    for (const e of events) feed(e);
    const drive = this.driveOf(record);
    feed(ackEvents(record, this.deps.ackOf, now));
    if (drive.foreseen) {
      const fleet = this.deps.fleet();
      for (const e of healthEvents({
        record,
        now,
        baseline: drive.baseline,
        foreseen: drive.foreseen,
        ...fleet,
      }))
        feed(e);
    }
    feed({ type: 'tick', now });
    this.moved = changed || record.outbox.length > 0;
    if (changed) {
      const written = await this.write(record, revision);
      if (!written) return null;
      revision = written.revision;
    }
    if (record.outbox.length > 0) {
      await this.doEffects(record);
      const through = record.outbox[record.outbox.length - 1]!.seq;
      const t = applyRolloutEvent(record, { type: 'effectsDone', through });
      const written = await this.write(t.state, revision);
      if (!written) return null;
      record = t.state;
    }
    if (TERMINAL.has(record.status) && record.outbox.length === 0) {
      await store.release(record.id);
      logger.info(
        { event: 'rolloutEnded', rollout: record.id, status: record.status },
        `rollout ${record.id} ended: ${record.status}`,
      );
      this.drive = null;
    }
    return record;
  }

  private driveOf(record: RolloutRecord): Drive {
    if (this.drive?.id === record.id) return this.drive;
    const baseline = new Map<string, number>();
    for (const v of this.deps.fleet().vips) baseline.set(v.id, v.advertisers);
    const drive: Drive = { id: record.id, baseline, foreseen: null };
    this.drive = drive;
    // The what-if costs ~200 ms at 10,000 nodes: the first step's assignments do not wait for it.
    void this.deps.foresee(record).then(
      (f) => (drive.foreseen = f),
      () => (drive.foreseen = () => false),
    );
    return drive;
  }

  private async write(record: RolloutRecord, revision: number): Promise<StoredRollout | null> {
    try {
      return await this.deps.store.update(record, revision);
    } catch (err) {
      if (!isConflict(err)) throw err;
      this.deps.logger.debug(
        { event: 'rolloutWriteConflict', rollout: record.id, revision },
        `rollout ${record.id} moved since revision ${revision}: read again at the next step`,
      );
      return null;
    }
  }

  private async doEffects(r: RolloutRecord): Promise<void> {
    const { effects, logger } = this.deps;
    for (const e of r.outbox) {
      if (e.kind === 'assign') {
        await effects.assign(assignmentsOf(r, e));
        continue;
      }
      await effects.publish(timelineEventOf(r, e));
      if (e.kind === 'alert')
        logger.warn(
          { event: 'rolloutAlert', rollout: r.id, alert: e.alert, node: e.node, reason: e.message },
          e.message,
        );
      else
        logger.info(
          {
            event: 'rolloutAction',
            rollout: r.id,
            action: e.action,
            by: e.by,
            step: e.step,
            reason: e.reason,
          },
          `rollout ${r.id}: ${e.action}${e.step === undefined ? '' : ` (step ${e.step})`}${e.reason ? `: ${e.reason}` : ''}`,
        );
    }
  }
}
