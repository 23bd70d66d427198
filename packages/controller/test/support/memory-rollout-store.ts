import type { RolloutRecord, RolloutTimelineEvent, RuleSetAssignment } from '@rhi/contracts';
import type { RolloutEffectsPort, RolloutStorePort, StoredRollout } from '../../src/ports.js';

/** Rollout records in memory, with the KV store's revisions and its one `active` claim. */
export class MemoryStore implements RolloutStorePort {
  records = new Map<string, StoredRollout>();
  activeId: string | null = null;
  /** Makes the next update conflict, as another replica's write would. */
  conflictNext = false;
  writes: RolloutRecord[] = [];

  async active() {
    return this.activeId;
  }
  async create(record: RolloutRecord) {
    this.activeId = record.id;
    const stored = { record, revision: 1 };
    this.records.set(record.id, stored);
    return stored;
  }
  async get(id: string) {
    return this.records.get(id) ?? null;
  }
  /** Runs before each update lands (another replica's runner stepping in between, say). */
  beforeUpdate: (() => Promise<void>) | null = null;

  async update(record: RolloutRecord, revision: number) {
    await this.beforeUpdate?.();
    const now = this.records.get(record.id)!;
    if (this.conflictNext || now.revision !== revision) {
      this.conflictNext = false;
      throw Object.assign(new Error('conflict'), { code: 'ROLLOUT_CONFLICT' });
    }
    const stored = { record, revision: revision + 1 };
    this.records.set(record.id, stored);
    this.writes.push(record);
    return stored;
  }
  async claim(id: string) {
    if (this.activeId !== null && this.activeId !== id)
      throw Object.assign(new Error(`rollout ${this.activeId} is under way`), { code: 'ROLLOUT_ACTIVE' });
    this.activeId = id;
  }
  async release(id: string) {
    if (this.activeId === id) this.activeId = null;
  }
  async ids() {
    return [...this.records.keys()];
  }
}

/** The effects a runner did, in order. */
export class MemoryEffects implements RolloutEffectsPort {
  assigned: RuleSetAssignment[] = [];
  published: RolloutTimelineEvent[] = [];
  failNext = false;
  async assign(a: readonly RuleSetAssignment[]) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('NATS went away');
    }
    this.assigned.push(...a);
  }
  async publish(e: RolloutTimelineEvent) {
    this.published.push(e);
  }
}
