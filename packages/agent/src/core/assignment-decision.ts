import type { RuleSetAck, RuleSetAssignment, SignedRuleSet } from '@rhi/contracts';
import { decodeRuleSetRecord, RuleSetAssignmentSchema, WIRE_VERSION } from '@rhi/contracts';
import type { Acceptance } from './accept-rule-set.js';

/** Why an assignment was refused before any rule set was judged. */
export type AssignmentProblem =
  /** The value at `assign.<node>` is not an assignment, or is one for another node. */
  | 'RULESET_ASSIGNMENT_INVALID'
  /** No record is stored for the serial assigned (it may only be late: fetched again at the next read). */
  | 'RULESET_RECORD_MISSING'
  /** The record stored for the serial cannot be read (`decodeRuleSetRecord`). */
  | 'RULESET_RECORD_UNREADABLE'
  /** The record stored for the serial is of another serial or hash than the assignment says. */
  | 'RULESET_RECORD_MISMATCH';

/** A serial and the hash of its rules: what an assignment names and an ack answers for. */
export interface AssignedRuleSet {
  readonly serial: number;
  readonly hash: string;
}

/**
 * What a read of `assign.<node>` found. `text` is the value as read: a value written again (a new
 * `assignedAt`) is another text, the same value read again (a poll) is the same one.
 */
export type AssignmentRead =
  | { readonly kind: 'absent' }
  | { readonly kind: 'assigned'; readonly text: string; readonly assignment: RuleSetAssignment }
  | {
      readonly kind: 'invalid';
      readonly text: string;
      readonly reason: string;
      /** The serial and hash it names, when both are readable: the refusal is acked for them. */
      readonly target: AssignedRuleSet | null;
    };

/** The agent's answer to an assignment, without the ack's envelope (node, time). */
export interface AssignmentOutcome extends AssignedRuleSet {
  readonly result: 'applied' | 'rejected';
  readonly code?: string;
  readonly reason?: string;
}

/** What the follower keeps between reads. */
export interface AssignmentMemory {
  /** The last assignment judged and applied (its serial may be ahead of the one in force: same rules). */
  readonly applied: AssignedRuleSet | null;
  /** The last serial and hash refused after judging (or whose record is unusable): never judged again. */
  readonly rejected: AssignmentOutcome | null;
  /** The last assignment value handled on this connection and its outcome (null: warned, not acked). */
  readonly handled: { readonly text: string; readonly outcome: AssignmentOutcome | null } | null;
}

/** The memory of a follower that has read nothing yet. */
export const EMPTY_ASSIGNMENT_MEMORY: AssignmentMemory = Object.freeze({
  applied: null,
  rejected: null,
  handled: null,
});

/** What to do about an assignment read. */
export type AssignmentDecision =
  /** No assignment (the rule set in force stays), or this value was already handled on this connection. */
  | { readonly do: 'nothing'; readonly why: 'absent' | 'handled' }
  /** A serial neither in force nor refused before: fetch `set.<serial>` and judge its signed rule set. */
  | { readonly do: 'fetch'; readonly assignment: RuleSetAssignment }
  /**
   * Answer without fetching: the serial is in force (applied), was refused before (the same refusal), or
   * the assignment is invalid (refused; `outcome` null when it names no serial and hash to ack for).
   */
  | {
      readonly do: 'answer';
      readonly why: 'inForce' | 'rejectedBefore' | 'invalid';
      readonly outcome: AssignmentOutcome | null;
    };

/** What a fetched record leads to: its signed rule set to judge, or a refusal. */
export type RecordCheck =
  | { readonly ok: true; readonly signed: SignedRuleSet }
  | {
      readonly ok: false;
      readonly outcome: AssignmentOutcome & { readonly code: AssignmentProblem; readonly reason: string };
    };

const SHA256 = /^[0-9a-f]{64}$/;
/** The ack's bounds (`RuleSetAckSchema`). */
const ACK_CODE_MAX = 64;
const ACK_REASON_MAX = 1024;

/** The serial and hash of a value that failed the schema, when both are usable in an ack. */
function targetOf(value: unknown): AssignedRuleSet | null {
  if (typeof value !== 'object' || value === null) return null;
  const { serial, hash } = value as { serial?: unknown; hash?: unknown };
  if (typeof serial !== 'number' || !Number.isSafeInteger(serial) || serial < 1) return null;
  return typeof hash === 'string' && SHA256.test(hash) ? { serial, hash } : null;
}

/** Reads the value stored at `assign.<node>` (null: no value, or a delete marker) for node `node`. */
export function readAssignment(value: Uint8Array | null, node: string): AssignmentRead {
  if (value === null) return { kind: 'absent' };
  const text = new TextDecoder().decode(value);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', text, reason: 'the assignment is not JSON', target: null };
  }
  const parsed = RuleSetAssignmentSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    return {
      kind: 'invalid',
      text,
      reason: `malformed assignment: ${where}: ${issue?.message ?? 'invalid'}`,
      target: targetOf(json),
    };
  }
  const assignment = parsed.data;
  if (assignment.node !== node) {
    return {
      kind: 'invalid',
      text,
      reason: `the assignment stored for node '${node}' names node '${assignment.node}'`,
      target: { serial: assignment.serial, hash: assignment.hash },
    };
  }
  return { kind: 'assigned', text, assignment };
}

const same = (a: AssignedRuleSet | null, b: AssignedRuleSet): boolean =>
  a !== null && a.serial === b.serial && a.hash === b.hash;

/**
 * Whether `target` is what runs: the rule set in force, or the last one applied from an assignment while
 * its rules are still in force (a serial re-issued with the same rules is accepted unchanged, and the
 * serial in force stays the earlier one).
 */
function inForceAs(
  target: AssignedRuleSet,
  inForce: AssignedRuleSet | null,
  applied: AssignedRuleSet | null,
): boolean {
  if (!inForce || inForce.hash !== target.hash) return false;
  return inForce.serial === target.serial || same(applied, target);
}

/**
 * What to do about an assignment read, given the rule set in force and the follower's memory: a value
 * already handled on this connection is left alone (unless its record was missing: fetched again, as it
 * may only have been late), a serial in force is acked applied, one refused before is acked with the same
 * refusal without being judged again, an invalid assignment is refused, and any other serial is fetched.
 */
export function decideAssignment(
  read: AssignmentRead,
  inForce: AssignedRuleSet | null,
  memory: AssignmentMemory,
): AssignmentDecision {
  if (read.kind === 'absent') return { do: 'nothing', why: 'absent' };
  const handled = memory.handled;
  if (handled?.text === read.text && handled.outcome?.code !== 'RULESET_RECORD_MISSING')
    return { do: 'nothing', why: 'handled' };
  if (read.kind === 'invalid') {
    const outcome = read.target && {
      ...read.target,
      result: 'rejected' as const,
      code: 'RULESET_ASSIGNMENT_INVALID',
      reason: read.reason,
    };
    return { do: 'answer', why: 'invalid', outcome };
  }
  const target = { serial: read.assignment.serial, hash: read.assignment.hash };
  if (inForceAs(target, inForce, memory.applied))
    return { do: 'answer', why: 'inForce', outcome: { ...target, result: 'applied' } };
  if (memory.rejected && same(memory.rejected, target))
    return { do: 'answer', why: 'rejectedBefore', outcome: memory.rejected };
  return { do: 'fetch', assignment: read.assignment };
}

/** The refusal of an assignment whose record is not stored (yet) under `key`. */
export function missingRecord(
  assignment: RuleSetAssignment,
  key: string,
): Extract<RecordCheck, { ok: false }> {
  return {
    ok: false,
    outcome: {
      serial: assignment.serial,
      hash: assignment.hash,
      result: 'rejected',
      code: 'RULESET_RECORD_MISSING',
      reason: `no rule set is stored under ${key}`,
    },
  };
}

/** Checks the record fetched for an assignment (`bytes` null: none stored under `key`). */
export function checkRecord(
  assignment: RuleSetAssignment,
  bytes: Uint8Array | null,
  key: string,
): RecordCheck {
  const target = { serial: assignment.serial, hash: assignment.hash };
  const refuse = (code: AssignmentProblem, reason: string): RecordCheck => ({
    ok: false,
    outcome: { ...target, result: 'rejected', code, reason },
  });
  if (bytes === null) return missingRecord(assignment, key);
  let record;
  try {
    record = decodeRuleSetRecord(bytes, key);
  } catch (err) {
    // decodeRuleSetRecord throws only RuleSetRecordUnreadableError, which names the key and what is wrong.
    return refuse('RULESET_RECORD_UNREADABLE', (err as Error).message);
  }
  if (record.serial !== assignment.serial || record.hash !== assignment.hash) {
    return refuse(
      'RULESET_RECORD_MISMATCH',
      `${key} holds serial ${record.serial} with hash ${record.hash}; the assignment names serial ${assignment.serial} with hash ${assignment.hash}`,
    );
  }
  return { ok: true, signed: record.signed };
}

/** The outcome of judging an assignment's rule set: applied (with its warnings) or refused with the verdict's code. */
export function verdictOutcome(target: AssignedRuleSet, verdict: Acceptance): AssignmentOutcome {
  const { serial, hash } = target;
  if (!verdict.ok) return { serial, hash, result: 'rejected', code: verdict.code, reason: verdict.reason };
  return verdict.warnings.length
    ? { serial, hash, result: 'applied', reason: verdict.warnings.join('; ') }
    : { serial, hash, result: 'applied' };
}

const sameOutcome = (a: AssignmentOutcome | null, b: AssignmentOutcome): boolean =>
  a !== null && same(a, b) && a.result === b.result && a.code === b.code && a.reason === b.reason;

/**
 * The memory after an assignment value (`text`) was handled with `outcome` (null: nothing to ack), and
 * whether the ack is to be published: not when this value already got the same answer on this
 * connection. An applied serial is remembered as applied; a refused one as refused, so that it is never
 * judged again, except a missing record (it may yet be written, or a lagging server may not have it yet)
 * and an invalid assignment (the assignment is wrong, not the serial).
 */
export function rememberOutcome(
  memory: AssignmentMemory,
  text: string,
  outcome: AssignmentOutcome | null,
): { readonly memory: AssignmentMemory; readonly publish: boolean } {
  const publish =
    outcome !== null && !(memory.handled?.text === text && sameOutcome(memory.handled.outcome, outcome));
  const handled = { text, outcome };
  if (!outcome) return { memory: { ...memory, handled }, publish };
  const target = { serial: outcome.serial, hash: outcome.hash };
  if (outcome.result === 'applied') return { memory: { ...memory, applied: target, handled }, publish };
  const unjudged = outcome.code === 'RULESET_RECORD_MISSING' || outcome.code === 'RULESET_ASSIGNMENT_INVALID';
  return { memory: unjudged ? { ...memory, handled } : { ...memory, rejected: outcome, handled }, publish };
}

/** The memory at a (re)connect: what was handled is answered again on the new connection. */
export function forgetHandled(memory: AssignmentMemory): AssignmentMemory {
  return { ...memory, handled: null };
}

const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** The `RuleSetAck` of an outcome, from node `node` at `time` (ms), its code and reason cut to the contract's bounds. */
export function ruleSetAck(node: string, outcome: AssignmentOutcome, time: number): RuleSetAck {
  return {
    schema: `${WIRE_VERSION}.ruleset.ack`,
    node,
    serial: outcome.serial,
    hash: outcome.hash,
    result: outcome.result,
    ...(outcome.code === undefined ? {} : { code: clip(outcome.code, ACK_CODE_MAX) }),
    ...(outcome.reason === undefined ? {} : { reason: clip(outcome.reason, ACK_REASON_MAX) }),
    time: new Date(time).toISOString(),
  };
}
