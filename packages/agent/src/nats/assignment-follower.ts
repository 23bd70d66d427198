import { jetstream, kvDirectGetSubject, kvSubject, ruleSetKeys, subjects } from '@rhi/contracts';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { RuleSetExaminer } from '../app/rule-set-examiner.js';
import type { RuleSetKeeper } from '../app/rule-set-keeper.js';
import type {
  AssignmentMemory,
  AssignmentOutcome,
  AssignmentProblem,
  AssignmentRead,
} from '../core/assignment-decision.js';
import {
  decideAssignment,
  EMPTY_ASSIGNMENT_MEMORY,
  forgetHandled,
  missingRecord,
  readAssignment,
  rememberOutcome,
  ruleSetAck,
  verdictOutcome,
} from '../core/assignment-decision.js';

/** A direct get that has no answer in this long fails (and is tried again at the next read). */
export const DIRECT_GET_TIMEOUT_MS = 5000;

/**
 * A put heard on the key's subject may be answered by a direct get before the stream has stored it: the
 * get is asked again this many times, 25 ms apart and doubling, before the stored value is taken as it is.
 */
const HEARD_RETRIES = 4;

/** A direct get failed: no answer, no responders, or a status other than 404. Retried at the next read. */
export class AssignmentReadError extends Error {
  readonly code = 'ASSIGNMENT_READ_FAILED';
  constructor(
    readonly key: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot read ${key} of the rule-set bucket: ${reason}`, options);
    this.name = 'AssignmentReadError';
  }
}

/** After a failed read the next comes this soon, then twice as late each time, up to the poll's period. */
export const RETRY_FIRST_MS = 1000;

/**
 * What woke the follower: a (re)connect, a put on the assignment's subject, the slow poll, or the retry
 * after a failed read.
 */
export type AssignmentTrigger = 'connect' | 'message' | 'poll' | 'retry';

/** A KV value as read: the operation (`PUT`, `DEL`, `PURGE`; `ABSENT` for no message) and its data. */
interface KvValue {
  readonly op: string;
  readonly data: Uint8Array;
}

const ABSENT: KvValue = { op: 'ABSENT', data: new Uint8Array() };

const kvValue = (msg: Msg): KvValue => ({ op: msg.headers?.get('KV-Operation') || 'PUT', data: msg.data });

const sameValue = (a: KvValue, b: KvValue): boolean =>
  a.op === b.op && Buffer.from(a.data).equals(Buffer.from(b.data));

/** The warning each refusal before judging is logged under. */
const PROBLEM_EVENTS: Record<AssignmentProblem, string> = {
  RULESET_ASSIGNMENT_INVALID: 'assignmentInvalid',
  RULESET_RECORD_MISSING: 'assignmentRecordMissing',
  RULESET_RECORD_UNREADABLE: 'assignmentRecordUnreadable',
  RULESET_RECORD_MISMATCH: 'assignmentRecordMismatch',
};

/** What the follower reads and answers through. */
export interface AssignmentFollowerOptions {
  readonly node: string;
  /** The rule-set bucket (default: the contract's `jetstream.ruleSetBucket`). */
  readonly bucket?: string;
  /** The slow poll: the assignment is read this often besides at (re)connects and puts (`nats.assignmentPollMs`). */
  readonly pollMs: number;
  /**
   * The rule sets in force; `pushExamined` is the path a rule set assigned takes once examined (judged,
   * applied, persisted).
   */
  readonly ruleSets: Pick<RuleSetKeeper, 'inForce' | 'pushExamined'>;
  /** Reads a stored record and examines its rule set, off the main thread (`examineRecord`). */
  readonly examiner: Pick<RuleSetExaminer, 'examineRecord'>;
  readonly logger: Logger;
  /** Wall clock in ms, for the acks (injectable for tests). */
  readonly now?: () => number;
  /** Default {@link DIRECT_GET_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
}

/**
 * Converges the agent to the rule set the controller assigned it in JetStream, so that an assignment
 * reaches an agent that was away: reads `assign.<node>` of the rule-set bucket by direct get at every
 * (re)connect, on every put heard on the key's subject (a core subscription: no JetStream consumer) and
 * every `pollMs`, one read at a time (reads asked for meanwhile coalesce into one). The policy is
 * `core/assignment-decision.ts`; a serial to take is fetched (`set.<serial>`), its bytes decoded,
 * checked and examined by the examiner (in the worker, not on the main thread) and the examination
 * pushed through the keeper, and every answer goes out as a `RuleSetAck` on `rhi.v1.ack.<node>`. A
 * failed read changes nothing (it is never taken for "no assignment") and is tried again at the next trigger, and after
 * {@link RETRY_FIRST_MS} doubling up to `pollMs`; no assignment leaves the rule set in force alone.
 */
export class AssignmentFollower {
  private nc: NatsConnection | null = null;
  private sub: Subscription | null = null;
  private poll: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private retryMs = RETRY_FIRST_MS;
  private memory: AssignmentMemory = EMPTY_ASSIGNMENT_MEMORY;
  /** The read asked for while one runs (the latest trigger wins), and the value heard with it. */
  private pending: { readonly trigger: AssignmentTrigger; readonly heard: KvValue | null } | null = null;
  private reading: Promise<void> | null = null;
  private closed = false;
  private readonly bucket: string;
  private readonly key: string;
  private readonly logger: Logger;

  constructor(private readonly options: AssignmentFollowerOptions) {
    this.bucket = options.bucket ?? jetstream.ruleSetBucket;
    this.key = ruleSetKeys.assignment(options.node);
    this.logger = options.logger.child({ node: options.node });
  }

  /**
   * The link is connected, on a new connection or the same one after a reconnect: subscribes to the
   * assignment's subject on a new connection, forgets what was acked (answered again on this one) and
   * reads the assignment.
   */
  connected(nc: NatsConnection): void {
    if (this.closed) return;
    if (this.nc !== nc) {
      this.sub?.unsubscribe();
      this.nc = nc;
      this.sub = nc.subscribe(kvSubject(this.bucket, this.key), {
        callback: (err, msg) => {
          if (!err) this.trigger('message', kvValue(msg));
        },
      });
    }
    if (!this.poll) {
      this.poll = setInterval(() => this.trigger('poll'), this.options.pollMs);
      this.poll.unref();
    }
    this.memory = forgetHandled(this.memory);
    this.trigger('connect');
  }

  /** Stops reading; a read under way ends without acking (its judgment may be cut short by the stop). */
  close(): void {
    this.closed = true;
    if (this.poll) clearInterval(this.poll);
    if (this.retry) clearTimeout(this.retry);
    this.poll = null;
    this.retry = null;
    try {
      this.sub?.unsubscribe();
    } catch {
      // The connection is closed already.
    }
    this.sub = null;
    this.nc = null;
  }

  private trigger(trigger: AssignmentTrigger, heard: KvValue | null = null): void {
    if (this.closed || !this.nc) return;
    this.pending = { trigger, heard };
    if (this.reading) return;
    this.reading = (async () => {
      while (this.pending && !this.closed) {
        const next = this.pending;
        this.pending = null;
        await this.readOnce(next.trigger, next.heard).catch((err: unknown) =>
          this.logger.error(
            { event: 'assignmentFollowFailed', op: 'followAssignment', err },
            'following the rule-set assignment failed; tried again at the next read',
          ),
        );
      }
      this.reading = null;
    })();
  }

  private async readOnce(trigger: AssignmentTrigger, heard: KvValue | null): Promise<void> {
    const value = await this.readOrWarn(this.key, heard);
    if (value === undefined) return;
    const read = readAssignment(value, this.options.node);
    const inForce = this.options.ruleSets.inForce;
    const decision = decideAssignment(
      read,
      inForce && { serial: inForce.serial, hash: inForce.hash },
      this.memory,
    );
    this.logger.debug(
      {
        event: 'assignmentRead',
        trigger,
        decision: decision.do,
        why: 'why' in decision ? decision.why : undefined,
      },
      'read the rule-set assignment',
    );
    if (decision.do === 'nothing' || read.kind === 'absent') return;
    if (decision.do === 'answer') {
      if (decision.why === 'invalid' && read.kind === 'invalid') this.warnInvalid(read);
      this.answer(read.text, decision.outcome);
      return;
    }
    const { assignment } = decision;
    const recordKey = ruleSetKeys.record(assignment.serial);
    const record = await this.readOrWarn(recordKey, null);
    if (record === undefined) return;
    // The record is read, checked and its rule set examined where rule sets are examined (the worker,
    // unless it is small): 10,000 rules are 120 kB of gzip and 3 MB of JSON.
    const check =
      record === null
        ? missingRecord(assignment, recordKey)
        : await this.options.examiner.examineRecord(record, { key: recordKey, assignment });
    if (!check.ok) {
      const { code, reason, serial, hash } = check.outcome;
      this.logger.warn(
        { event: PROBLEM_EVENTS[code], code, reason, serial, hash, key: recordKey },
        'the assigned rule set cannot be taken; the rule set in force stays',
      );
      this.answer(read.text, check.outcome);
      return;
    }
    this.logger.info(
      { event: 'assignmentFetched', trigger, serial: assignment.serial, rollout: assignment.rollout },
      'judging the rule set assigned by the controller',
    );
    const verdict = await this.options.ruleSets.pushExamined(check.examined);
    this.answer(read.text, verdictOutcome(assignment, verdict));
  }

  private warnInvalid(read: Extract<AssignmentRead, { kind: 'invalid' }>): void {
    this.logger.warn(
      {
        event: PROBLEM_EVENTS.RULESET_ASSIGNMENT_INVALID,
        code: 'RULESET_ASSIGNMENT_INVALID',
        reason: read.reason,
        ...(read.target ?? {}),
        key: this.key,
      },
      read.target
        ? 'the rule-set assignment is invalid; refused, the rule set in force stays'
        : 'the rule-set assignment is invalid and names no serial to refuse; the rule set in force stays',
    );
  }

  /** Remembers the outcome for the value read, and acks it unless this connection already had that answer. */
  private answer(text: string, outcome: AssignmentOutcome | null): void {
    if (this.closed) return;
    const { memory, publish } = rememberOutcome(this.memory, text, outcome);
    this.memory = memory;
    const nc = this.nc;
    if (!publish || !outcome || !nc) return;
    const ack = ruleSetAck(this.options.node, outcome, (this.options.now ?? Date.now)());
    try {
      nc.publish(subjects.ruleSetAck(this.options.node), JSON.stringify(ack));
    } catch (err) {
      this.logger.warn(
        { event: 'natsPublishFailed', op: 'ruleSetAck', serial: ack.serial, err },
        'cannot publish the rule-set ack',
      );
      return;
    }
    this.logger.info(
      { event: 'ruleSetAcked', serial: ack.serial, hash: ack.hash, result: ack.result, code: ack.code },
      `acked the assigned rule set: ${ack.result}`,
    );
  }

  /** The value of `key` (null: none), or undefined when it could not be read (logged; retried later). */
  private async readOrWarn(key: string, heard: KvValue | null): Promise<Uint8Array | null | undefined> {
    const nc = this.nc;
    if (!nc) return undefined;
    try {
      let value = await this.directGet(nc, key);
      for (let i = 0; heard && !sameValue(value, heard) && i < HEARD_RETRIES; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25 << i));
        value = await this.directGet(nc, key);
      }
      this.retryMs = RETRY_FIRST_MS;
      return value.op === 'PUT' ? value.data : null;
    } catch (err) {
      this.logger.warn(
        { event: 'assignmentReadFailed', op: 'directGet', key, retryMs: this.retryMs, err },
        'cannot read the rule-set bucket; the rule set in force stays, read again later',
      );
      this.retryLater();
      return undefined;
    }
  }

  /** A read again after a failure (JetStream still recovering after a server restart, say), backing off. */
  private retryLater(): void {
    if (this.retry || this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.trigger('retry');
    }, this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, Math.max(RETRY_FIRST_MS, this.options.pollMs));
  }

  /** The newest message of `key` by direct get (the bucket allows direct gets, as KV buckets do). */
  private async directGet(nc: NatsConnection, key: string): Promise<KvValue> {
    let msg: Msg;
    try {
      msg = await nc.request(kvDirectGetSubject(this.bucket, key), undefined, {
        timeout: this.options.timeoutMs ?? DIRECT_GET_TIMEOUT_MS,
      });
    } catch (err) {
      throw new AssignmentReadError(key, (err as Error).message, { cause: err });
    }
    const status = msg.headers?.code ?? 0;
    // A direct get answers 404 for a subject without messages: the key was never written (or purged).
    if (status === 404) return ABSENT;
    if (status !== 0 && status !== 200)
      throw new AssignmentReadError(key, `status ${status} ${msg.headers?.description ?? ''}`.trim());
    return kvValue(msg);
  }
}
