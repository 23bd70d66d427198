import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { RuleSetAssignment } from '@rhi/contracts';
import type { Logger } from 'pino';
import type { Examination, Refusal, RejectionCode, RuleSetLimits } from '../core/accept-rule-set.js';
import { examineRulesFile, examineSignedRuleSet } from '../core/accept-rule-set.js';
import { allowlist } from '../core/allowlist.js';
import { isSmallCommand, isSmallRecord, peekCommandId } from '../core/command-bytes.js';
import type {
  ExaminedCommand,
  ExaminedRecord,
  FileExamination,
  WorkerReply,
  WorkerRequest,
} from './rule-set-worker.js';
import {
  WORKER_MARKER,
  decodeText,
  examineRequest,
  persistedBytes,
  ruleSetWorkerUrl,
  unpackCommand,
  unpackExamination,
  unpackRecord,
} from './rule-set-worker.js';

/** Where a stored record came from and what it must be: the assignment that named it. */
export interface RecordOrigin {
  /** Its key in the rule-set bucket (`set.<serial>`), for messages. */
  readonly key: string;
  readonly assignment: RuleSetAssignment;
}

/**
 * Examines candidate rule sets: the heavy half of judging (parse or verify, hash, what the live checks
 * need). The agent's is {@link WorkerExaminer}; {@link InlineExaminer} does the same on the calling thread.
 */
export interface RuleSetExaminer {
  /**
   * Examines a rules file's text, or its bytes (UTF-8): bytes that span their whole `ArrayBuffer` (as
   * `readBounded` reads them) are handed over to the worker, not copied, and are unusable afterwards.
   * With `persist`, an accepted file comes with its state file's text (`persisted`).
   */
  examineFile(
    text: string | Uint8Array,
    file: string,
    options?: { readonly persist?: boolean },
  ): Promise<FileExamination>;
  examineSigned(envelope: unknown): Promise<Examination>;
  /**
   * Reads a command from its bytes as NATS gave them and, for a rule set, examines it and makes its state
   * file, all where it is examined (the worker, unless it is small): nothing of it is parsed on the
   * calling thread. The bytes are copied, never taken. A worker that fails refuses it as a rule set,
   * with the id read from the bytes.
   */
  examineCommand(bytes: Uint8Array): Promise<ExaminedCommand>;
  /**
   * Reads a stored record (gzip'd) from its bytes, checks it against its assignment and examines its
   * signed rule set, making its state file, where it is examined; the bytes are copied, never taken.
   */
  examineRecord(bytes: Uint8Array, origin: RecordOrigin): Promise<ExaminedRecord>;
  /** Ends the worker, if any; an examination under way is refused. */
  close(): Promise<void>;
}

/** What examinations are checked against. */
export interface ExaminerOptions {
  readonly limits: RuleSetLimits;
  /** The allowlist's networks. */
  readonly allowlist: readonly string[];
  readonly trustedKeys: ReadonlyMap<string, KeyObject>;
}

/** Examines on the calling thread: for `rhi-agent check`, tests, and the benchmark's comparison. */
export class InlineExaminer implements RuleSetExaminer {
  private readonly allowlist;

  constructor(private readonly options: ExaminerOptions) {
    this.allowlist = allowlist(options.allowlist);
  }

  examineFile(
    text: string | Uint8Array,
    file: string,
    options: { readonly persist?: boolean } = {},
  ): Promise<FileExamination> {
    const decoded = decodeText(text);
    const e = examineRulesFile(decoded, file, { limits: this.options.limits, allowlist: this.allowlist });
    return Promise.resolve(
      e.ok && options.persist ? { ...e, persisted: persistedBytes(file, decoded, e.candidate.hash) } : e,
    );
  }

  examineSigned(envelope: unknown): Promise<Examination> {
    return Promise.resolve(
      examineSignedRuleSet(envelope, this.options.trustedKeys, {
        limits: this.options.limits,
        allowlist: this.allowlist,
      }),
    );
  }

  examineCommand(bytes: Uint8Array): Promise<ExaminedCommand> {
    const request = { ...this.request(), kind: 'command' as const, bytes };
    return Promise.resolve(unpackCommand(commandOf(examineRequest(request).reply)));
  }

  examineRecord(bytes: Uint8Array, origin: RecordOrigin): Promise<ExaminedRecord> {
    const request = { ...this.request(), kind: 'record' as const, bytes, ...origin };
    return Promise.resolve(unpackRecord(recordOf(examineRequest(request).reply)));
  }

  private request() {
    const { limits, allowlist: networks, trustedKeys } = this.options;
    return { id: 0, limits, allowlist: networks, trustedKeys: [...trustedKeys] };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The worker's bounds and the module it runs. */
export interface WorkerExaminerOptions extends ExaminerOptions {
  /**
   * An examination taking longer ends the worker (`RULESET_WORKER_TIMEOUT`); counted from when the worker
   * is ready (its code loaded), or from the request when it already was.
   */
  readonly timeoutMs: number;
  /** The worker's V8 heap (old generation); exceeding it ends the worker (`RULESET_WORKER_OUT_OF_MEMORY`). */
  readonly maxHeapMb: number;
  /**
   * A worker with nothing to do for this long is ended, and its memory given back (0: never). Its heap
   * grows with the largest rule set it judged, and a worker costs 20 MB or more even idle.
   */
  readonly idleMs: number;
  /**
   * A rules file of fewer lines, or a signed rule set of fewer rules, is examined on the main thread (a
   * millisecond or two): no worker is started for it, and a node with a small rule set never pays the
   * memory a worker thread leaves behind (6-7 MB). 0: always the worker.
   */
  readonly minRules: number;
  readonly logger: Logger;
  /** The module the worker runs (tests give one that fails on demand). Default: the agent's own. */
  readonly workerUrl?: URL;
}

/** What a request asks, without its id, limits and allowlist. */
type RequestBody = WorkerRequest extends infer R
  ? R extends unknown
    ? Omit<R, 'id' | 'limits' | 'allowlist'>
    : never
  : never;

/** Whether a request is small enough to examine on the main thread: fewer lines or rules than `minRules`. */
function isSmall(what: RequestBody, minRules: number): boolean {
  switch (what.kind) {
    case 'command':
      // Even with minRules 0, a command of no rule (a drain) is read here: no worker for that.
      return isSmallCommand(what.bytes, minRules);
    case 'record':
      return isSmallRecord(what.bytes, minRules);
    case 'signed': {
      if (minRules <= 0) return false;
      const rules = (what.envelope as { ruleSet?: { rules?: unknown } } | null)?.ruleSet?.rules;
      return Array.isArray(rules) && rules.length < minRules;
    }
    case 'file': {
      if (minRules <= 0) return false;
      const text = what.text;
      let lines = 1;
      for (let i = 0; i < text.length && lines < minRules; i++)
        if ((typeof text === 'string' ? text.charCodeAt(i) : text[i]) === 10) lines++;
      return lines < minRules;
    }
  }
}

/** The worker's answer to a request. */
type Reply = Extract<WorkerReply, { id: number }>;

/** The worker's answer to a request, or why there is none (it failed, timed out, or the agent stops). */
type Answer = Reply | { readonly failed: Refusal };

/** What a reply answers a request of its kind with (only a bug answers another kind: it throws). */
function part<K extends 'examination' | 'command' | 'record'>(
  reply: Reply,
  kind: K,
): Extract<Reply, Record<K, unknown>>[K] {
  if (!(kind in reply)) throw new Error(`the rule-set worker answered with no ${kind}`);
  return (reply as Extract<Reply, Record<K, unknown>>)[kind];
}
const examinationOf = (reply: Reply) => part(reply, 'examination');
const commandOf = (reply: Reply) => part(reply, 'command');
const recordOf = (reply: Reply) => part(reply, 'record');

/** A worker that has not said it is ready in this long is taken as failed. */
const START_TIMEOUT_MS = 30_000;

interface Pending {
  readonly id: number;
  readonly settle: (answer: Answer) => void;
}

/**
 * Examines rule sets in one worker thread, so that parsing and hashing never hold up the failover path:
 * started with the first rule set, kept for the next ones, ended once idle for `idleMs` (its memory then
 * goes back). Requests are examined one at a time. A worker that crashes, runs out of heap or takes
 * longer than `timeoutMs` is ended and the rule set refused with a code of its own; the next rule set
 * starts a new worker. Never throws, never rejects.
 */
export class WorkerExaminer implements RuleSetExaminer {
  private worker: Worker | null = null;
  private online = false;
  private pending: Pending | null = null;
  private timer: NodeJS.Timeout | null = null;
  private idle: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: WorkerExaminerOptions) {}

  /** The worker's thread id, or null while none runs (for tests and logs). */
  get threadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  async examineFile(
    text: string | Uint8Array,
    file: string,
    options: { readonly persist?: boolean } = {},
  ): Promise<FileExamination> {
    // Bytes that are a buffer of their own move to the worker; a view into a larger one (a pooled
    // Buffer) is copied.
    const own =
      typeof text !== 'string' && text.byteOffset === 0 && text.byteLength === text.buffer.byteLength;
    const transfer = own ? [text.buffer as ArrayBuffer] : [];
    const answer = await this.enqueue(
      { kind: 'file', text, file, persist: options.persist ?? false },
      transfer,
    );
    return 'failed' in answer ? answer.failed : unpackExamination(examinationOf(answer));
  }

  async examineSigned(envelope: unknown): Promise<Examination> {
    const answer = await this.enqueue(
      { kind: 'signed', envelope, trustedKeys: [...this.options.trustedKeys] },
      [],
    );
    return 'failed' in answer ? answer.failed : unpackExamination(examinationOf(answer));
  }

  async examineCommand(bytes: Uint8Array): Promise<ExaminedCommand> {
    // Copied into a buffer of its own, which moves: NATS's bytes are a view into its own buffers.
    const copy = new Uint8Array(bytes);
    const id = peekCommandId(copy);
    const answer = await this.enqueue(
      { kind: 'command', bytes: copy, trustedKeys: [...this.options.trustedKeys] },
      [copy.buffer],
    );
    return 'failed' in answer
      ? { kind: 'ruleset', id, examined: answer.failed }
      : unpackCommand(commandOf(answer));
  }

  async examineRecord(bytes: Uint8Array, origin: RecordOrigin): Promise<ExaminedRecord> {
    const copy = new Uint8Array(bytes);
    const answer = await this.enqueue(
      { kind: 'record', bytes: copy, ...origin, trustedKeys: [...this.options.trustedKeys] },
      [copy.buffer],
    );
    return 'failed' in answer ? { ok: true, examined: answer.failed } : unpackRecord(recordOf(answer));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.idle) clearTimeout(this.idle);
    this.fail('RULESET_WORKER_FAILED', 'the agent is stopping');
  }

  private enqueue(what: RequestBody, transfer: ArrayBuffer[]): Promise<Answer> {
    const run = this.queue.then(() => this.examine(what, transfer));
    this.queue = run;
    return run;
  }

  private examine(what: RequestBody, transfer: ArrayBuffer[]): Promise<Answer> {
    if (this.closed) {
      return Promise.resolve({
        failed: { ok: false, code: 'RULESET_WORKER_FAILED', reason: 'the agent is stopping' },
      });
    }
    const { limits, allowlist: networks } = this.options;
    const request = { id: this.nextId++, limits, allowlist: networks, ...what } as WorkerRequest;
    if (isSmall(what, this.options.minRules)) return Promise.resolve(examineRequest(request).reply);
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    return new Promise<Answer>((settle) => {
      this.pending = { id: request.id, settle };
      const worker = this.worker ?? this.start();
      if (this.online) this.arm(this.options.timeoutMs);
      try {
        worker.postMessage(request, transfer);
      } catch (err) {
        // A value that cannot be cloned (the envelope comes from JSON, so only by a bug).
        this.fail(
          'RULESET_WORKER_FAILED',
          `cannot hand the rule set to the worker: ${(err as Error).message}`,
          err,
        );
      }
    });
  }

  private start(): Worker {
    const url = this.options.workerUrl ?? ruleSetWorkerUrl();
    const worker = new Worker(url, {
      workerData: { [WORKER_MARKER]: url.href },
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb },
    });
    // The worker never keeps the agent alive by itself: a pending examination's timer does.
    worker.unref();
    this.worker = worker;
    this.online = false;
    this.arm(START_TIMEOUT_MS);
    worker.on('message', (reply: WorkerReply) => {
      if (this.worker !== worker) return;
      if ('ready' in reply) {
        this.online = true;
        if (this.pending) this.arm(this.options.timeoutMs);
      } else if (reply.id === this.pending?.id) this.settle(reply);
    });
    worker.on('error', (err: Error & { code?: string }) => {
      if (this.worker !== worker) return;
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        this.fail(
          'RULESET_WORKER_OUT_OF_MEMORY',
          `judging it needed more than rules.worker.maxHeapMb (${this.options.maxHeapMb} MB) of heap; the worker was ended`,
          err,
        );
      } else this.fail('RULESET_WORKER_FAILED', `the worker judging it crashed: ${err.message}`, err);
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.fail('RULESET_WORKER_FAILED', `the worker judging it exited (code ${code})`);
    });
    return worker;
  }

  private arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fail(
        'RULESET_WORKER_TIMEOUT',
        this.online
          ? `judging it took longer than rules.worker.timeoutMs (${this.options.timeoutMs} ms); the worker was ended`
          : `the worker did not start within ${START_TIMEOUT_MS} ms`,
      );
    }, ms);
    // Only an examination under way keeps the process alive.
    if (!this.pending) this.timer.unref();
  }

  private settle(answer: Answer): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const pending = this.pending;
    this.pending = null;
    if (this.worker && this.options.idleMs > 0 && !this.idle) {
      const worker = this.worker;
      this.idle = setTimeout(() => {
        this.idle = null;
        if (this.worker !== worker || this.pending) return;
        this.worker = null;
        this.online = false;
        void worker.terminate();
      }, this.options.idleMs);
      this.idle.unref();
    }
    pending?.settle(answer);
  }

  /** Ends the worker (a new one serves the next request) and refuses the examination under way, if any. */
  private fail(code: RejectionCode, reason: string, err?: unknown): void {
    const worker = this.worker;
    this.worker = null;
    this.online = false;
    if (worker) {
      void worker.terminate();
      if (!this.closed) {
        this.options.logger.warn(
          { event: 'ruleSetWorkerFailed', op: 'judgeRuleSet', code, reason, ...(err ? { err } : {}) },
          'the rule-set worker was ended',
        );
      }
    }
    this.settle({ failed: { ok: false, code, reason } });
  }
}
