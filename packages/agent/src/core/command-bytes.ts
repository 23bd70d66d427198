import type { Command } from '@rhi/contracts';
import { CommandSchema } from '@rhi/contracts';
import { z } from 'zod';

/** A command that is not a rule set (`drain`, `undrain`): small, carried out on the main thread. */
export type ControlCommand = Exclude<Command, { type: 'ruleset' }>;

/** A command refused before anything is done: not JSON, or not a command. `reason` is the ack's. */
export interface CommandRefusal {
  readonly ok: false;
  /** The command's id when it has one (a string), else ''. */
  readonly id: string;
  readonly reason: string;
}

/** A command read from its bytes and checked whole against `CommandSchema` (what the link does inline). */
export type ParsedCommand = CommandRefusal | { readonly ok: true; readonly command: Command };

/**
 * A command read from its bytes where its rule set is examined: refused (as {@link parseCommand} refuses
 * it), a control command checked against `CommandSchema`, or a rule set examined (`T`, with what
 * `examine` made of the envelope).
 */
export type CommandReading<T> =
  | { readonly kind: 'refused'; readonly id: string; readonly reason: string }
  | { readonly kind: 'command'; readonly command: ControlCommand }
  | { readonly kind: 'ruleset'; readonly id: string; readonly examined: T };

const idOf = (json: unknown): string =>
  typeof (json as { id?: unknown } | null)?.id === 'string' ? (json as { id: string }).id : '';

function malformed(json: unknown, issues: readonly z.core.$ZodIssue[]): CommandRefusal {
  const first = issues[0];
  return {
    ok: false,
    id: idOf(json),
    reason: `malformed command: ${first?.path.join('.') ?? ''} ${first?.message ?? ''}`.trim(),
  };
}

function parseJson(bytes: Uint8Array): { ok: true; json: unknown } | CommandRefusal {
  try {
    return { ok: true, json: JSON.parse(new TextDecoder().decode(bytes)) };
  } catch {
    return { ok: false, id: '', reason: 'command is not JSON' };
  }
}

/** Checks a parsed value against `CommandSchema`: the command, or the ack's refusal naming its first issue. */
function checkCommand(json: unknown): ParsedCommand {
  const parsed = CommandSchema.safeParse(json);
  return parsed.success ? { ok: true, command: parsed.data } : malformed(json, parsed.error.issues);
}

/**
 * Reads a command from its bytes and checks all of it, its rule set too, against `CommandSchema`: the
 * link's reading, on the thread it runs on. Refusals: `command is not JSON`, `malformed command: <path>
 * <message>` (the first issue).
 */
export function parseCommand(bytes: Uint8Array): ParsedCommand {
  const read = parseJson(bytes);
  return read.ok ? checkCommand(read.json) : read;
}

/** A rule-set command but its envelope, which `verifySignedRuleSet` checks (as `SignedRuleSetSchema`). */
const RuleSetCommandHead = z.strictObject({
  schema: z.literal('rhi.v1.command'),
  id: z.string().min(1),
  type: z.literal('ruleset'),
  ruleSet: z.unknown(),
});

/**
 * Reads a command from its bytes for the rule-set worker: a control command is checked whole against
 * `CommandSchema`; a rule-set command only in its head (schema, id, type, no other key), its envelope
 * left to `examine` (`examineSignedEnvelope`: `verifySignedRuleSet` checks its shape, meaning, limits,
 * hash and signature), so that a good rule set's rules are checked once. A command that `CommandSchema`
 * would refuse is refused with the very reason {@link parseCommand} gives: `CommandSchema` runs again only
 * on a head it refuses or an envelope `examine` finds malformed or over the limits (whose rules
 * `verifySignedRuleSet` counts before their shape, and whose shape may be what is wrong).
 */
export function readCommand<
  T extends { readonly examination: { readonly ok: true } | { readonly ok: false; readonly code: string } },
>(bytes: Uint8Array, examine: (envelope: unknown) => T): CommandReading<T> {
  const read = parseJson(bytes);
  if (!read.ok) return { kind: 'refused', id: read.id, reason: read.reason };
  const json = read.json;
  // CommandSchema refuses whatever its parts refuse: it names the first issue as the link always has.
  const refused = (otherwise: () => CommandReading<T>): CommandReading<T> => {
    const check = checkCommand(json);
    return check.ok ? otherwise() : { kind: 'refused', id: check.id, reason: check.reason };
  };
  if ((json as { type?: unknown } | null)?.type !== 'ruleset') {
    const check = checkCommand(json);
    if (!check.ok) return { kind: 'refused', id: check.id, reason: check.reason };
    // CommandSchema's type tells the rest: a value of type `ruleset` never gets here.
    return { kind: 'command', command: check.command as ControlCommand };
  }
  const examineIt = (): CommandReading<T> => {
    const examined = examine((json as { ruleSet: unknown }).ruleSet);
    const e = examined.examination;
    const answer = { kind: 'ruleset' as const, id: idOf(json), examined };
    return !e.ok && (e.code === 'RULESET_MALFORMED' || e.code === 'RULESET_OVER_LIMIT')
      ? refused(() => answer)
      : answer;
  };
  return RuleSetCommandHead.safeParse(json).success ? examineIt() : refused(examineIt);
}

const ROUTES_KEY = Buffer.from('"routes"');
const ID_KEY = Buffer.from('"id"');
/** The longest id {@link peekCommandId} reads. */
const ID_PEEK_MAX = 1024;

/** How many times `"routes"` (one per rule of a rule set as JSON) occurs in `bytes`, counted up to `max`. */
export function countRuleKeys(bytes: Uint8Array, max: number): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let count = 0;
  for (let at = buf.indexOf(ROUTES_KEY); at >= 0 && count < max; at = buf.indexOf(ROUTES_KEY, at + 1))
    count++;
  return count;
}

const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * The id of a command, read from its bytes without parsing them: the string after the first `"id":`
 * (in a valid command only its own `id` key is written so). Only for the ack of a command whose reading
 * failed (the worker crashed); '' when none is found.
 */
export function peekCommandId(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = buf.indexOf(ID_KEY); at >= 0; at = buf.indexOf(ID_KEY, at + 1)) {
    let i = at + ID_KEY.length;
    while (isSpace(buf[i])) i++;
    if (buf[i] !== 0x3a) continue;
    i++;
    while (isSpace(buf[i])) i++;
    if (buf[i] !== 0x22) continue;
    const start = i;
    for (i++; i < buf.length && i - start < ID_PEEK_MAX; i++) {
      if (buf[i] === 0x5c) i++;
      else if (buf[i] === 0x22) {
        try {
          const id: unknown = JSON.parse(buf.toString('utf8', start, i + 1));
          return typeof id === 'string' ? id : '';
        } catch {
          return '';
        }
      }
    }
    return '';
  }
  return '';
}

/** Commands without a rule (no `"routes"`) up to this size are read on the main thread (a drain is ~100 B). */
export const SMALL_CONTROL_MAX_BYTES = 64 * 1024;

/** A command of fewer rules than `minRules` is read on the main thread up to this many bytes a rule. */
export const SMALL_COMMAND_BYTES_PER_RULE = 512;

/**
 * Whether a command's bytes are small enough to read and examine on the main thread (a millisecond or
 * two): no rule and at most {@link SMALL_CONTROL_MAX_BYTES}, or fewer rules than `minRules` and at most
 * `minRules` x {@link SMALL_COMMAND_BYTES_PER_RULE} bytes. A peek, not a check: the command is read and
 * checked whole wherever it goes, and the size bound keeps what an odd encoding could hide from the count
 * (an escaped key) a few ms.
 */
export function isSmallCommand(bytes: Uint8Array, minRules: number): boolean {
  const rules = countRuleKeys(bytes, Math.max(1, minRules));
  if (rules === 0) return bytes.length <= SMALL_CONTROL_MAX_BYTES;
  return rules < minRules && bytes.length <= minRules * SMALL_COMMAND_BYTES_PER_RULE;
}

/** A rule-set record (gzip'd JSON) of fewer rules than `minRules` is at most this many bytes a rule. */
export const SMALL_RECORD_BYTES_PER_RULE = 16;

/**
 * Whether a stored rule-set record (gzip'd) is small enough to read and examine on the main thread: at
 * most `minRules` x {@link SMALL_RECORD_BYTES_PER_RULE} bytes (a 10,000-rule record is about 120 kB).
 */
export const isSmallRecord = (bytes: Uint8Array, minRules: number): boolean =>
  minRules > 0 && bytes.length <= minRules * SMALL_RECORD_BYTES_PER_RULE;
