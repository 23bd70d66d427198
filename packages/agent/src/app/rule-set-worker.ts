import type { KeyObject } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { RuleSetAssignment, SignedRuleSet } from '@rhi/contracts';
import type { PackedRuleSet } from '@rhi/rules-dsl';
import { packRuleSet, unpackRuleSet } from '@rhi/rules-dsl';
import type {
  Candidate,
  Examination,
  Refusal,
  RuleSetLimits,
  SignedExamination,
} from '../core/accept-rule-set.js';
import { examineRulesFile, examineSignedEnvelope } from '../core/accept-rule-set.js';
import { allowlist } from '../core/allowlist.js';
import type { RecordCheck } from '../core/assignment-decision.js';
import { checkRecord } from '../core/assignment-decision.js';
import type { CommandReading } from '../core/command-bytes.js';
import { readCommand } from '../core/command-bytes.js';
import { stateFileText } from '../core/state-files.js';

type Keys = readonly (readonly [string, KeyObject])[];

/**
 * What the main thread asks the rule-set worker: examine a rules file's text, a signed rule set, or the
 * bytes a rule set came in from NATS (a command, a stored record), read there.
 */
export type WorkerRequest = {
  readonly id: number;
  readonly limits: RuleSetLimits;
  /** The allowlist's networks. */
  readonly allowlist: readonly string[];
} & (
  | {
      readonly kind: 'file';
      /** The file's text, or its bytes (UTF-8, decoded here). */
      readonly text: string | Uint8Array;
      readonly file: string;
      /** Make the state file of the rule set too, should it be accepted (`persisted`). */
      readonly persist: boolean;
    }
  | { readonly kind: 'signed'; readonly envelope: unknown; readonly trustedKeys: Keys }
  | {
      /** A command's bytes as NATS gave them (JSON): read, checked, its rule set examined and persisted. */
      readonly kind: 'command';
      readonly bytes: Uint8Array;
      readonly trustedKeys: Keys;
    }
  | {
      /** A stored record's bytes (`set.<serial>`, gzip'd JSON): checked against its assignment, examined. */
      readonly kind: 'record';
      readonly bytes: Uint8Array;
      readonly key: string;
      readonly assignment: RuleSetAssignment;
      readonly trustedKeys: Keys;
    }
);

/** An examination as it crosses threads: its rule set packed (see rules-dsl's `packRuleSet`). */
export type PackedExamination =
  | Refusal
  | {
      readonly ok: true;
      readonly candidate: Omit<Candidate, 'ruleSet'> & { readonly ruleSet: PackedRuleSet };
      /** The state file's text (`stateFileText`) as UTF-8, when asked for. */
      readonly persisted?: Uint8Array;
    };

/**
 * An examination, with the state file of its rule set (`ruleset.json`'s text as UTF-8, made where the
 * rule set was read) when asked for and accepted so far.
 */
export type PersistableExamination = Examination & { readonly persisted?: Uint8Array };

/** An examination of a rules file, with the state file's text when asked for and accepted so far. */
export type FileExamination = PersistableExamination;

/** A command read from its bytes, its rule set (if it is one) examined with its state file. */
export type ExaminedCommand = CommandReading<PersistableExamination>;

/**
 * A stored record read from its bytes: refused before judging (`RULESET_RECORD_UNREADABLE`,
 * `RULESET_RECORD_MISMATCH`), or its signed rule set examined with its state file.
 */
export type ExaminedRecord =
  Extract<RecordCheck, { ok: false }> | { readonly ok: true; readonly examined: PersistableExamination };

/** Decodes a rules file's bytes as UTF-8, as `readFile(file, 'utf8')` would. */
export const decodeText = (text: string | Uint8Array): string =>
  typeof text === 'string'
    ? text
    : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8');

/** The state file of an accepted rules file, as UTF-8 in a buffer of its own (it may be transferred). */
export const persistedBytes = (file: string, text: string, hash: string): Uint8Array =>
  new TextEncoder().encode(
    stateFileText({ schema: 'rhi.v1.persisted-ruleset', source: 'file', file, text, hash }),
  );

/** The state file of an accepted controller rule set, as UTF-8 in a buffer of its own. */
export const persistedSignedBytes = (envelope: SignedRuleSet): Uint8Array =>
  new TextEncoder().encode(
    stateFileText({ schema: 'rhi.v1.persisted-ruleset', source: 'controller', envelope }),
  );

/** The worker's answer to the request of the same `id`; `{ ready: true }` first, once it serves. */
export type WorkerReply =
  | ({ readonly id: number } & (
      | { readonly examination: PackedExamination }
      | { readonly command: CommandReading<PackedExamination> }
      | {
          readonly record:
            Extract<RecordCheck, { ok: false }> | { readonly ok: true; readonly examined: PackedExamination };
        }
    ))
  | { readonly ready: true };

/** An examination packed to cross threads, with the buffers to transfer (its state file's among them). */
function pack(
  examination: Examination,
  persisted?: Uint8Array,
): { packed: PackedExamination; transfer: ArrayBuffer[] } {
  if (!examination.ok) return { packed: examination, transfer: [] };
  const { packed, transfer } = packRuleSet(examination.candidate.ruleSet);
  return {
    packed: {
      ok: true,
      candidate: { ...examination.candidate, ruleSet: packed },
      ...(persisted ? { persisted } : {}),
    },
    transfer: persisted ? [...transfer, persisted.buffer as ArrayBuffer] : transfer,
  };
}

/** A signed examination packed, with the state file of its envelope when accepted. */
function packSigned(e: SignedExamination): { packed: PackedExamination; transfer: ArrayBuffer[] } {
  return pack(e.examination, e.examination.ok && e.envelope ? persistedSignedBytes(e.envelope) : undefined);
}

/** Examines a request, as the worker does: the reply, and the buffers to transfer with it. */
export function examineRequest(request: WorkerRequest): {
  reply: Extract<WorkerReply, { id: number }>;
  transfer: ArrayBuffer[];
} {
  const { id } = request;
  const options = { limits: request.limits, allowlist: allowlist(request.allowlist) };
  switch (request.kind) {
    case 'file': {
      const text = decodeText(request.text);
      const examination = examineRulesFile(text, request.file, options);
      const persisted =
        examination.ok && request.persist
          ? persistedBytes(request.file, text, examination.candidate.hash)
          : undefined;
      const { packed, transfer } = pack(examination, persisted);
      return { reply: { id, examination: packed }, transfer };
    }
    case 'signed': {
      const e = examineSignedEnvelope(request.envelope, new Map(request.trustedKeys), options);
      const { packed, transfer } = pack(e.examination);
      return { reply: { id, examination: packed }, transfer };
    }
    case 'command': {
      const keys = new Map(request.trustedKeys);
      let transfer: ArrayBuffer[] = [];
      const read = readCommand(request.bytes, (envelope) => {
        const packed = packSigned(examineSignedEnvelope(envelope, keys, options));
        transfer = packed.transfer;
        return { examination: packed.packed };
      });
      const command =
        read.kind === 'ruleset'
          ? { kind: read.kind, id: read.id, examined: read.examined.examination }
          : read;
      return { reply: { id, command }, transfer };
    }
    case 'record': {
      const check = checkRecord(request.assignment, request.bytes, request.key);
      if (!check.ok) return { reply: { id, record: check }, transfer: [] };
      const { packed, transfer } = packSigned(
        examineSignedEnvelope(check.signed, new Map(request.trustedKeys), options),
      );
      return { reply: { id, record: { ok: true, examined: packed } }, transfer };
    }
  }
}

/** The examination a reply carries, its rule set rebuilt (a few ms for 10,000 rules, nothing parsed). */
export function unpackExamination(packed: PackedExamination): PersistableExamination {
  if (!packed.ok) return packed;
  return {
    ok: true,
    candidate: { ...packed.candidate, ruleSet: unpackRuleSet(packed.candidate.ruleSet) },
    ...(packed.persisted ? { persisted: packed.persisted } : {}),
  };
}

/** A command reading as a reply carries it, its rule set (if any) rebuilt. */
export function unpackCommand(packed: CommandReading<PackedExamination>): ExaminedCommand {
  return packed.kind === 'ruleset' ? { ...packed, examined: unpackExamination(packed.examined) } : packed;
}

/** A record reading as a reply carries it, its rule set (if accepted so far) rebuilt. */
export function unpackRecord(packed: Extract<WorkerReply, { record: unknown }>['record']): ExaminedRecord {
  return packed.ok ? { ok: true, examined: unpackExamination(packed.examined) } : packed;
}

/**
 * Answers requests on `port`, one at a time, after saying it is ready (its code loaded: the timeout of
 * an examination counts from there). An exception is not caught: it ends the worker, which the main
 * thread reports as `RULESET_WORKER_FAILED` (and starts a new one for the next rule set).
 */
export function serveRuleSetWorker(
  port: MessagePort,
  examine: (request: WorkerRequest) => { reply: WorkerReply; transfer: ArrayBuffer[] } = examineRequest,
): void {
  port.on('message', (request: WorkerRequest) => {
    const { reply, transfer } = examine(request);
    port.postMessage(reply, transfer);
  });
  port.postMessage({ ready: true } satisfies WorkerReply);
}

/** The key of `workerData` that makes a module loaded in a worker serve: its value is the module's URL. */
export const WORKER_MARKER = 'rhiRuleSetWorker';

const here = import.meta.url;

/**
 * The module the worker runs: this one, which serves when loaded with the marker. In the one-file build
 * that is the bundle itself (`dist/rhi-agent.mjs`: the agent stays one file); in tsc's build,
 * `dist/app/rule-set-worker.js`. From the TypeScript source (under vitest) it is tsc's build of it, since
 * Node cannot run the source as a worker (its imports name `.js` files): build before testing.
 */
export function ruleSetWorkerUrl(): URL {
  return new URL(
    here.endsWith('/src/app/rule-set-worker.ts')
      ? here.replace(/\/src\/app\/rule-set-worker\.ts$/, '/dist/app/rule-set-worker.js')
      : here,
  );
}

/**
 * Lowers this thread's priority (nice 10; Linux keeps one per thread), so that when every CPU is busy the
 * main thread, which carries the failover path, gets the CPU before a rule set being judged does.
 */
export function yieldToMainThread(): void {
  try {
    // /proc/thread-self is <pid>/task/<tid>: the thread's own id, which setpriority(2) takes.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (tid > 0) setPriority(tid, 10);
  } catch {
    // Not Linux, or no /proc: the worker runs at the agent's priority.
  }
}

if (!isMainThread && parentPort && (workerData as Record<string, unknown> | null)?.[WORKER_MARKER] === here) {
  yieldToMainThread();
  serveRuleSetWorker(parentPort);
}
