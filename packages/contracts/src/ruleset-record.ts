import { gunzipSync, gzipSync } from 'node:zlib';
import { z, type ZodType } from 'zod';
import { RuleSetTargetSchema } from './rollout.js';
import type { SignedRuleSet } from './schemas.js';
import { ContractInvalidTokenError, TOKEN, WIRE_VERSION } from './subjects.js';

const isoTime = z.iso.datetime();
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
const serial = z.number().int().min(1);
const count = z.number().int().min(0);

/**
 * Keys of the rule-set bucket (`jetstream.ruleSetBucket`). A serial's summary and record are written once
 * and never changed; `head` names the newest serial and only moves forward (compare-and-set).
 */
export const ruleSetKeys = {
  /** The newest serial stored, as a `RuleSetRef`. */
  head: 'head',
  /** One serial's {@link RuleSetRecord} (gzip'd JSON, see {@link encodeRuleSetRecord}). */
  record: (serial: number) => `set.${serial}`,
  /** One serial's {@link RuleSetSummary} (JSON): what a history lists, without the rules. */
  summary: (serial: number) => `meta.${serial}`,
  /** The rule set assigned to one node (`RuleSetAssignment`). */
  assignment: (node: string) => {
    if (!TOKEN.test(node)) throw new ContractInvalidTokenError('node', node);
    return `assign.${node}`;
  },
} as const;

/** What a history shows of one stored rule set: everything but its text and its signed rules. */
export const RuleSetSummarySchema = z.strictObject({
  schema: z.literal(`${WIRE_VERSION}.ruleset.summary`),
  serial,
  /** sha256 of the rules' canonical text: equal hashes, equal rules. */
  hash: sha256Hex,
  /** The API token's name that stored it (or `controller` for a rollback's copy). */
  author: z.string().min(1).max(128),
  /** Why: the operator's message. */
  message: z.string().min(1).max(1024),
  createdAt: isoTime,
  target: RuleSetTargetSchema,
  rules: count,
  /** Routes the rules name (table%prefix). */
  routes: count,
  /** Bytes of the text as uploaded. */
  bytes: count,
  /** The key that signed it. */
  keyId: z.string().min(1).max(128),
  /** A rollback's copy of an earlier serial's rules: that serial; else null. */
  copyOf: serial.nullable(),
});
export type RuleSetSummary = z.infer<typeof RuleSetSummarySchema>;

/**
 * One stored rule set: its summary, the text as uploaded (comments and layout kept) and the signed rules
 * an agent verifies. `signed` is only checked for being an object here: readers that act on it verify it
 * with `verifySignedRuleSet`, which checks all of it.
 */
export const RuleSetRecordSchema = z
  .strictObject({
    ...RuleSetSummarySchema.shape,
    schema: z.literal(`${WIRE_VERSION}.ruleset.record`),
    source: z.string(),
    signed: z.custom<SignedRuleSet>(
      (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
      'the signed rule set (an object)',
    ),
  })
  .refine((r) => r.signed.serial === r.serial && r.signed.hash === r.hash, {
    message: 'the signed rule set is of another serial or hash',
    path: ['signed'],
  });
export type RuleSetRecord = z.infer<typeof RuleSetRecordSchema>;

/** The summary of a record. */
export function summaryOf(record: RuleSetRecord): RuleSetSummary {
  const { schema: _schema, source: _source, signed: _signed, ...rest } = record;
  return { schema: `${WIRE_VERSION}.ruleset.summary`, ...rest };
}

/** A stored record is never unpacked past this (a gzip bomb costs no more). */
export const RULESET_RECORD_MAX_BYTES = 64 * 1024 * 1024;

/** Why stored bytes are not a record. */
export class RuleSetRecordUnreadableError extends Error {
  readonly code = 'RULESET_RECORD_UNREADABLE';
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`rule-set record ${key} cannot be read: ${reason}`);
    this.name = 'RuleSetRecordUnreadableError';
  }
}

/** The bytes a record is stored as: gzip'd JSON (a 10,000-rule set's 3 MB of JSON takes ~120 kB). */
export function encodeRuleSetRecord(record: RuleSetRecord): Uint8Array {
  return gzipSync(JSON.stringify(record));
}

/**
 * Reads gzip'd JSON (unpacked to at most {@link RULESET_RECORD_MAX_BYTES}) that `schema` must take: the
 * value, or what is wrong (the gzip or JSON error, or the first schema issue with its path).
 */
export function readGzipJson<T>(
  bytes: Uint8Array,
  schema: ZodType<T>,
): { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(gunzipSync(bytes, { maxOutputLength: RULESET_RECORD_MAX_BYTES }).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, reason: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` };
}

/** Reads a stored record; throws {@link RuleSetRecordUnreadableError} naming `key` and what is wrong. */
export function decodeRuleSetRecord(bytes: Uint8Array, key: string): RuleSetRecord {
  const read = readGzipJson(bytes, RuleSetRecordSchema);
  if (!read.ok) throw new RuleSetRecordUnreadableError(key, read.reason);
  return read.value;
}
