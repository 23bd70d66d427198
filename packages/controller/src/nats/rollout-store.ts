import { gzipSync } from 'node:zlib';
import {
  jetstream as names,
  RolloutRecordSchema,
  rolloutKeys,
  readGzipJson,
  type RolloutRecord,
} from '@rhi/contracts';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { RolloutStorePort, StoredRollout } from '../ports.js';
import { isConflict } from './kv-conflict.js';

/** Opens the rollout bucket, creating it. Idempotent. */
export async function ensureRolloutBucket(nc: NatsConnection, options: { replicas: number }): Promise<KV> {
  return new Kvm(nc).create(names.rolloutBucket, { history: 5, replicas: options.replicas });
}

/** Another rollout is under way: one at a time (targets may overlap, so per fleet). */
export class RolloutActiveError extends Error {
  readonly code = 'ROLLOUT_ACTIVE';
  constructor(readonly active: string) {
    super(`rollout ${active} is under way: pause, abort or let it finish before starting another`);
    this.name = 'RolloutActiveError';
  }
}

/** A rollout of that id exists already. */
export class RolloutExistsError extends Error {
  readonly code = 'ROLLOUT_EXISTS';
  constructor(readonly id: string) {
    super(`a rollout '${id}' exists already`);
    this.name = 'RolloutExistsError';
  }
}

/** The record changed since it was read (another replica moved it): read it again and retry. */
export class RolloutConflictError extends Error {
  readonly code = 'ROLLOUT_CONFLICT';
  constructor(
    readonly id: string,
    readonly revision: number,
  ) {
    super(`rollout ${id} changed since revision ${revision} was read`);
    this.name = 'RolloutConflictError';
  }
}

/** Stored bytes that are not a rollout record: named, never acted on. */
export class RolloutUnreadableError extends Error {
  readonly code = 'ROLLOUT_UNREADABLE';
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`rollout record ${key} cannot be read: ${reason}`);
    this.name = 'RolloutUnreadableError';
  }
}

/** The bytes a record is stored as: gzip'd JSON (5,000 nodes' step lists stay far under max_payload). */
export function encodeRolloutRecord(record: RolloutRecord): Uint8Array {
  return gzipSync(JSON.stringify(record));
}

/** Reads stored bytes; throws {@link RolloutUnreadableError} naming `key` and what is wrong. */
export function decodeRolloutRecord(bytes: Uint8Array, key: string): RolloutRecord {
  const read = readGzipJson(bytes, RolloutRecordSchema);
  if (!read.ok) throw new RolloutUnreadableError(key, read.reason);
  return read.value;
}

/**
 * The rollouts in JetStream KV. A record is only written over the revision it was read at, so that two
 * replicas never both move a rollout; `active` is claimed by `create` (one rollout at a time) and given
 * back by `release` once the rollout has ended.
 */
export class JetStreamRolloutStore implements RolloutStorePort {
  /** The last record read or written, by revision (records are plain values, never changed in place). */
  private last: StoredRollout | null = null;

  constructor(private readonly kv: KV) {}

  /** The rollout under way, if any. */
  async active(): Promise<string | null> {
    const e = await this.kv.get(rolloutKeys.active);
    return e?.operation === 'PUT' ? (e.json() as { id: string }).id : null;
  }

  /**
   * Stores a new rollout and makes it the one under way: the record first, then the claim, so that a
   * claim always names a record (a runner reading in between sees none yet). Throws
   * {@link RolloutExistsError} for an id taken, {@link RolloutActiveError} while another is under way (the
   * record written is then deleted).
   */
  async create(record: RolloutRecord): Promise<StoredRollout> {
    const key = rolloutKeys.record(record.id);
    let revision: number;
    try {
      revision = await this.kv.create(key, encodeRolloutRecord(record));
    } catch (err) {
      if (isConflict(err)) throw new RolloutExistsError(record.id);
      throw err;
    }
    try {
      await this.kv.create(rolloutKeys.active, JSON.stringify({ id: record.id }));
    } catch (err) {
      await this.kv.purge(key, { previousSeq: revision }).catch(() => undefined);
      if (!isConflict(err)) throw err;
      throw new RolloutActiveError((await this.active()) ?? '(ended just now: try again)');
    }
    return { record, revision };
  }

  /**
   * Makes an ended rollout the one under way again (a rollback asked for after it ended). Throws
   * {@link RolloutActiveError} while another is under way; nothing when it is this one already.
   */
  async claim(id: string): Promise<void> {
    try {
      await this.kv.create(rolloutKeys.active, JSON.stringify({ id }));
    } catch (err) {
      if (!isConflict(err)) throw err;
      const active = await this.active();
      if (active !== id) throw new RolloutActiveError(active ?? '(ended just now: try again)');
    }
  }

  /** One rollout, or null when there is none of that id. */
  async get(id: string): Promise<StoredRollout | null> {
    const key = rolloutKeys.record(id);
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT') return null;
    // The runner reads the record every tick: one not written since is not unpacked again.
    if (this.last?.record.id === id && this.last.revision === e.revision) return this.last;
    return this.keep({ record: decodeRolloutRecord(e.value, key), revision: e.revision });
  }

  private keep(stored: StoredRollout): StoredRollout {
    this.last = stored;
    return stored;
  }

  /** Writes `record` over `revision`; throws {@link RolloutConflictError} when it moved meanwhile. */
  async update(record: RolloutRecord, revision: number): Promise<StoredRollout> {
    try {
      const next = await this.kv.update(rolloutKeys.record(record.id), encodeRolloutRecord(record), revision);
      return this.keep({ record, revision: next });
    } catch (err) {
      if (isConflict(err)) throw new RolloutConflictError(record.id, revision);
      throw err;
    }
  }

  /** Ends `id`'s claim on being the rollout under way (nothing when another holds it). */
  async release(id: string): Promise<void> {
    const e = await this.kv.get(rolloutKeys.active);
    if (e?.operation !== 'PUT' || (e.json() as { id: string }).id !== id) return;
    await this.kv.delete(rolloutKeys.active, { previousSeq: e.revision }).catch((err: unknown) => {
      if (!isConflict(err)) throw err;
    });
  }

  /** The ids of every rollout stored, in name order. */
  async ids(): Promise<string[]> {
    const out: string[] = [];
    for await (const key of await this.kv.keys('rollout.>')) out.push(key.slice('rollout.'.length));
    return out.sort();
  }
}
