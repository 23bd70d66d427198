import {
  decodeRuleSetRecord,
  encodeRuleSetRecord,
  jetstream as names,
  RuleSetRefSchema,
  ruleSetKeys,
  RuleSetSummarySchema,
  summaryOf,
  type RuleSetRecord,
  type RuleSetRef,
  type RuleSetSummary,
} from '@rhi/contracts';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { RuleSetStore } from '../ports.js';
import { isConflict } from './kv-conflict.js';

/** Opens (or creates) the rule-set bucket. Idempotent. */
export async function ensureRuleSetBucket(nc: NatsConnection, options: { replicas: number }): Promise<KV> {
  return new Kvm(nc).create(names.ruleSetBucket, { history: 5, replicas: options.replicas });
}

/** A record too big for one NATS message: the server's `max_payload` would have to grow. */
export class RuleSetTooLargeError extends Error {
  readonly code = 'RULESET_TOO_LARGE_FOR_NATS';
  constructor(
    readonly bytes: number,
    readonly maxPayload: number,
  ) {
    super(
      `the stored rule set takes ${bytes} bytes compressed, more than the NATS servers' max_payload ` +
        `(${maxPayload}): split it, or raise max_payload in every nats-server's configuration`,
    );
    this.name = 'RuleSetTooLargeError';
  }
}

/** The store gave up taking a serial: other writers kept taking each one first. */
export class RuleSetSerialContendedError extends Error {
  readonly code = 'RULESET_SERIAL_CONTENDED';
  constructor(readonly tries: number) {
    super(`no free rule-set serial after ${tries} tries: other controllers keep storing; try again`);
    this.name = 'RuleSetSerialContendedError';
  }
}

/** Room left in a message for the headers JetStream adds. */
const HEADER_ROOM = 1024;
const MAX_TRIES = 64;

/** Whether a KV write failed because the key (or the revision) is not what it expected. */

/**
 * The rule sets in the rule-set bucket. A serial is taken by creating its record key (create is
 * compare-and-set: two replicas cannot both store serial N); its summary follows, then `head` moves
 * forward by compare-and-set. A writer that dies between leaves `head` behind: the next writer steps over
 * the serials already taken, and readers fall back to the record when a summary is missing.
 */
export class JetStreamRuleSetStore implements RuleSetStore {
  constructor(
    private readonly kv: KV,
    /** The connected servers' `max_payload`. */
    private readonly maxPayload: () => number,
  ) {}

  async head(): Promise<RuleSetRef | null> {
    return (await this.headEntry())?.ref ?? null;
  }

  async get(serial: number): Promise<RuleSetRecord | null> {
    const key = ruleSetKeys.record(serial);
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') return null;
    return decodeRuleSetRecord(entry.value, key);
  }

  async summaries(q: { readonly limit: number; readonly before?: number }): Promise<RuleSetSummary[]> {
    const head = await this.head();
    if (!head) return [];
    let next = Math.min(head.serial, (q.before ?? Infinity) - 1);
    const out: RuleSetSummary[] = [];
    while (next >= 1 && out.length < q.limit) {
      const serials: number[] = [];
      for (let s = next; s >= 1 && serials.length < q.limit - out.length; s--) serials.push(s);
      const found = await Promise.all(serials.map((s) => this.summary(s)));
      for (const f of found) if (f) out.push(f);
      next -= serials.length;
    }
    return out;
  }

  async add(make: (serial: number) => RuleSetRecord, floor = 1): Promise<RuleSetRecord> {
    let taken = 0;
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const head = await this.headEntry();
      const serial = Math.max((head?.ref.serial ?? 0) + 1, taken + 1, floor);
      const record = make(serial);
      const bytes = encodeRuleSetRecord(record);
      const max = this.maxPayload() - HEADER_ROOM;
      if (bytes.length > max) throw new RuleSetTooLargeError(bytes.length, this.maxPayload());
      try {
        await this.kv.create(ruleSetKeys.record(serial), bytes);
      } catch (err) {
        if (!isConflict(err)) throw err;
        taken = serial;
        continue;
      }
      await this.kv.put(ruleSetKeys.summary(serial), JSON.stringify(summaryOf(record)));
      await this.advanceHead({ serial, hash: record.hash });
      return record;
    }
    throw new RuleSetSerialContendedError(MAX_TRIES);
  }

  private async summary(serial: number): Promise<RuleSetSummary | null> {
    const entry = await this.kv.get(ruleSetKeys.summary(serial));
    if (entry?.operation === 'PUT') {
      const parsed = RuleSetSummarySchema.safeParse(entry.json());
      if (parsed.success) return parsed.data;
    }
    const record = await this.get(serial);
    return record ? summaryOf(record) : null;
  }

  private async headEntry(): Promise<{ ref: RuleSetRef; revision: number } | null> {
    const entry = await this.kv.get(ruleSetKeys.head);
    if (!entry || entry.operation !== 'PUT') return null;
    const parsed = RuleSetRefSchema.safeParse(entry.json());
    if (!parsed.success)
      throw new Error(
        `the rule-set bucket's head is not a serial and hash: ${parsed.error.issues[0]?.message}`,
      );
    return { ref: parsed.data, revision: entry.revision };
  }

  /** Moves `head` to `ref` unless it is already there or past it. */
  private async advanceHead(ref: RuleSetRef): Promise<void> {
    for (;;) {
      const head = await this.headEntry();
      if (head && head.ref.serial >= ref.serial) return;
      try {
        if (head) await this.kv.update(ruleSetKeys.head, JSON.stringify(ref), head.revision);
        else await this.kv.create(ruleSetKeys.head, JSON.stringify(ref));
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
  }
}
