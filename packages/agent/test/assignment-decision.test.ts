import { generateKeyPairSync } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { encodeRuleSetRecord, RuleSetAckSchema } from '@rhi/contracts';
import type { RuleSetAssignment } from '@rhi/contracts';
import { parse } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import type { Acceptance } from '../src/core/accept-rule-set.js';
import type { AssignmentMemory, AssignmentOutcome, AssignmentRead } from '../src/core/assignment-decision.js';
import {
  checkRecord,
  decideAssignment,
  EMPTY_ASSIGNMENT_MEMORY,
  forgetHandled,
  readAssignment,
  rememberOutcome,
  ruleSetAck,
  verdictOutcome,
} from '../src/core/assignment-decision.js';
import { feedSelection } from '../src/core/feed-selection.js';
import { assignmentOf, ruleSetRecord } from './support/rule-set-records.js';

const privateKeyPem = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const bytes = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const assigned = (serial: number, hash: string, over: Partial<RuleSetAssignment> = {}): AssignmentRead =>
  readAssignment(bytes(assignmentOf('lb-1', { serial, hash }, over)), 'lb-1');
const memory = (over: Partial<AssignmentMemory>): AssignmentMemory => ({
  ...EMPTY_ASSIGNMENT_MEMORY,
  ...over,
});
const rejection = (serial: number, hash: string, code = 'RULESET_UNTRUSTED_KEY'): AssignmentOutcome => ({
  serial,
  hash,
  result: 'rejected',
  code,
  reason: `refused ${serial}`,
});
const textOf = (read: AssignmentRead) => {
  if (read.kind === 'absent') throw new Error('expected a value');
  return read.text;
};

describe('reading an assignment', () => {
  it('is absent without a value', () => {
    expect(readAssignment(null, 'lb-1')).toEqual({ kind: 'absent' });
  });

  it('takes an assignment for its node, keeping the text as read', () => {
    const value = assignmentOf('lb-1', { serial: 4, hash: H1 }, { rollout: 'r-7' });
    expect(readAssignment(bytes(value), 'lb-1')).toEqual({
      kind: 'assigned',
      text: JSON.stringify(value),
      assignment: value,
    });
  });

  it('refuses one for another node, naming both, with its serial and hash', () => {
    expect(readAssignment(bytes(assignmentOf('lb-2', { serial: 4, hash: H1 })), 'lb-1')).toMatchObject({
      kind: 'invalid',
      reason: "the assignment stored for node 'lb-1' names node 'lb-2'",
      target: { serial: 4, hash: H1 },
    });
  });

  it('refuses text that is not JSON, naming no serial', () => {
    expect(readAssignment(bytes('{"serial": 4'), 'lb-1')).toEqual({
      kind: 'invalid',
      text: '{"serial": 4',
      reason: 'the assignment is not JSON',
      target: null,
    });
  });

  it('refuses a malformed assignment with the first problem, and its serial and hash when both are usable', () => {
    const { schema: _schema, ...noSchema } = assignmentOf('lb-1', { serial: 4, hash: H1 });
    expect(readAssignment(bytes(noSchema), 'lb-1')).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/^malformed assignment: schema: /),
      target: { serial: 4, hash: H1 },
    });
    const target = (value: unknown) => {
      const read = readAssignment(bytes(value), 'lb-1');
      return read.kind === 'invalid' ? read.target : 'not refused';
    };
    expect(target({ serial: 4, hash: H1 })).toEqual({ serial: 4, hash: H1 });
    expect(target({ serial: 0, hash: H1 })).toBeNull();
    expect(target({ serial: 1, hash: H1 })).toEqual({ serial: 1, hash: H1 });
    expect(target({ serial: 1.5, hash: H1 })).toBeNull();
    expect(target({ serial: '4', hash: H1 })).toBeNull();
    expect(target({ serial: 2 ** 60, hash: H1 })).toBeNull();
    expect(target({ serial: 4, hash: 'A'.repeat(64) })).toBeNull();
    expect(target({ serial: 4, hash: 'a'.repeat(63) })).toBeNull();
    expect(target({ serial: 4 })).toBeNull();
    expect(target([4, H1])).toBeNull();
    expect(target(null)).toBeNull();
    expect(readAssignment(bytes('[]'), 'lb-1')).toMatchObject({ reason: expect.stringContaining('(root)') });
  });
});

describe('deciding what to do about an assignment', () => {
  it('does nothing without an assignment, whatever it handled before', () => {
    const handled = memory({ handled: { text: 'x', outcome: null }, rejected: rejection(3, H1) });
    expect(decideAssignment({ kind: 'absent' }, { serial: 3, hash: H1 }, handled)).toEqual({
      do: 'nothing',
      why: 'absent',
    });
  });

  it('fetches a serial neither in force nor refused', () => {
    const read = assigned(4, H2);
    const fetch = { do: 'fetch', assignment: assignmentOf('lb-1', { serial: 4, hash: H2 }) };
    expect(decideAssignment(read, null, EMPTY_ASSIGNMENT_MEMORY)).toEqual(fetch);
    expect(decideAssignment(read, { serial: 3, hash: H1 }, EMPTY_ASSIGNMENT_MEMORY)).toEqual(fetch);
    // The same serial with other rules than those in force: judged (and refused as a replay there).
    expect(decideAssignment(assigned(3, H2), { serial: 3, hash: H1 }, EMPTY_ASSIGNMENT_MEMORY)).toEqual({
      do: 'fetch',
      assignment: assignmentOf('lb-1', { serial: 3, hash: H2 }),
    });
  });

  it('acks the serial in force as applied without fetching it', () => {
    expect(decideAssignment(assigned(3, H1), { serial: 3, hash: H1 }, EMPTY_ASSIGNMENT_MEMORY)).toEqual({
      do: 'answer',
      why: 'inForce',
      outcome: { serial: 3, hash: H1, result: 'applied' },
    });
  });

  it('acks a re-issue of the rules in force once applied, though the serial in force stayed the earlier one', () => {
    const inForce = { serial: 3, hash: H1 };
    expect(decideAssignment(assigned(5, H1), inForce, EMPTY_ASSIGNMENT_MEMORY).do).toBe('fetch');
    expect(decideAssignment(assigned(5, H1), inForce, memory({ applied: { serial: 5, hash: H1 } }))).toEqual({
      do: 'answer',
      why: 'inForce',
      outcome: { serial: 5, hash: H1, result: 'applied' },
    });
    // Applied once, but other rules are in force now (a push): judged again.
    expect(
      decideAssignment(
        assigned(5, H1),
        { serial: 6, hash: H2 },
        memory({ applied: { serial: 5, hash: H1 } }),
      ),
    ).toMatchObject({ do: 'fetch' });
    expect(
      decideAssignment(assigned(5, H1), inForce, memory({ applied: { serial: 4, hash: H1 } })),
    ).toMatchObject({ do: 'fetch' });
  });

  it('answers a serial refused before with the same refusal, never judging it again', () => {
    const refused = rejection(4, H2);
    expect(decideAssignment(assigned(4, H2), { serial: 3, hash: H1 }, memory({ rejected: refused }))).toEqual(
      {
        do: 'answer',
        why: 'rejectedBefore',
        outcome: refused,
      },
    );
    // Another assignment of it (a new assignedAt) gets the same answer.
    expect(
      decideAssignment(
        assigned(4, H2, { assignedAt: '2026-12-04T00:00:00.000Z' }),
        null,
        memory({ rejected: refused }),
      ),
    ).toMatchObject({ do: 'answer', outcome: refused });
    // The same serial with other rules, or another serial: judged.
    expect(decideAssignment(assigned(4, H1), null, memory({ rejected: refused })).do).toBe('fetch');
    expect(decideAssignment(assigned(5, H2), null, memory({ rejected: refused })).do).toBe('fetch');
  });

  it('refuses an invalid assignment, with its serial when it names one', () => {
    const other = readAssignment(bytes(assignmentOf('lb-2', { serial: 4, hash: H1 })), 'lb-1');
    expect(decideAssignment(other, null, EMPTY_ASSIGNMENT_MEMORY)).toEqual({
      do: 'answer',
      why: 'invalid',
      outcome: {
        serial: 4,
        hash: H1,
        result: 'rejected',
        code: 'RULESET_ASSIGNMENT_INVALID',
        reason: "the assignment stored for node 'lb-1' names node 'lb-2'",
      },
    });
    // Even when it names the serial in force: the assignment is wrong, not the serial.
    expect(decideAssignment(other, { serial: 4, hash: H1 }, EMPTY_ASSIGNMENT_MEMORY)).toMatchObject({
      why: 'invalid',
    });
    expect(decideAssignment(readAssignment(bytes('nope'), 'lb-1'), null, EMPTY_ASSIGNMENT_MEMORY)).toEqual({
      do: 'answer',
      why: 'invalid',
      outcome: null,
    });
  });

  it('leaves a value already handled on this connection alone, unless its record was missing', () => {
    const read = assigned(4, H2);
    const handled = (outcome: AssignmentOutcome | null) =>
      memory({ handled: { text: textOf(read), outcome } });
    expect(decideAssignment(read, null, handled(rejection(4, H2, 'RULESET_RECORD_UNREADABLE')))).toEqual({
      do: 'nothing',
      why: 'handled',
    });
    expect(
      decideAssignment(read, { serial: 4, hash: H2 }, handled({ serial: 4, hash: H2, result: 'applied' })),
    ).toEqual({ do: 'nothing', why: 'handled' });
    const invalid = readAssignment(bytes('nope'), 'lb-1');
    expect(decideAssignment(invalid, null, memory({ handled: { text: 'nope', outcome: null } }))).toEqual({
      do: 'nothing',
      why: 'handled',
    });
    expect(decideAssignment(read, null, handled(rejection(4, H2, 'RULESET_RECORD_MISSING')))).toMatchObject({
      do: 'fetch',
    });
    // Another value (written again) is not the one handled.
    const again = assigned(4, H2, { assignedAt: '2026-12-04T00:00:00.000Z' });
    expect(decideAssignment(again, null, handled(rejection(4, H2, 'RULESET_RECORD_UNREADABLE'))).do).toBe(
      'fetch',
    );
  });
});

describe('checking the record fetched', () => {
  const record = ruleSetRecord('198.18.200.1 = all(b:be_app)\n', 4, { privateKeyPem, keyId: 'ops' });
  const assignment = assignmentOf('lb-1', record);

  it('hands over the signed rule set of a record that is the one assigned', () => {
    expect(checkRecord(assignment, encodeRuleSetRecord(record), 'set.4')).toEqual({
      ok: true,
      signed: record.signed,
    });
  });

  it('refuses a missing record', () => {
    expect(checkRecord(assignment, null, 'set.4')).toEqual({
      ok: false,
      outcome: {
        serial: 4,
        hash: record.hash,
        result: 'rejected',
        code: 'RULESET_RECORD_MISSING',
        reason: 'no rule set is stored under set.4',
      },
    });
  });

  it('refuses a record that cannot be read, saying why', () => {
    for (const stored of [bytes('not gzip'), gzipSync('{"schema": "rhi.v1.ruleset.record"}')]) {
      expect(checkRecord(assignment, stored, 'set.4')).toMatchObject({
        ok: false,
        outcome: {
          serial: 4,
          result: 'rejected',
          code: 'RULESET_RECORD_UNREADABLE',
          reason: expect.stringMatching(/^rule-set record set\.4 cannot be read: /),
        },
      });
    }
  });

  it('refuses a record of another hash or serial than the assignment says', () => {
    const stored = encodeRuleSetRecord(record);
    for (const other of [
      assignmentOf('lb-1', { serial: 4, hash: H1 }),
      assignmentOf('lb-1', { serial: 5, hash: record.hash }),
    ]) {
      expect(checkRecord(other, stored, 'set.4')).toEqual({
        ok: false,
        outcome: {
          serial: other.serial,
          hash: other.hash,
          result: 'rejected',
          code: 'RULESET_RECORD_MISMATCH',
          reason: `set.4 holds serial 4 with hash ${record.hash}; the assignment names serial ${other.serial} with hash ${other.hash}`,
        },
      });
    }
  });
});

describe('the outcome of a judged rule set', () => {
  const target = { serial: 4, hash: H2 };
  const accepted = (warnings: string[]): Acceptance => ({
    ok: true,
    ruleSet: parse('198.18.200.1 = true\n').ruleSet,
    hash: H2,
    serial: 4,
    unchanged: false,
    selection: feedSelection(null),
    warnings,
  });

  it('is applied, with the warnings as its reason when there are any', () => {
    expect(verdictOutcome(target, accepted([]))).toEqual({ ...target, result: 'applied' });
    expect(verdictOutcome(target, accepted(['a', 'b']))).toEqual({
      ...target,
      result: 'applied',
      reason: 'a; b',
    });
  });

  it("is refused with the verdict's code and reason", () => {
    expect(verdictOutcome(target, { ok: false, code: 'RULESET_REPLAYED', reason: 'old' })).toEqual({
      ...target,
      result: 'rejected',
      code: 'RULESET_REPLAYED',
      reason: 'old',
    });
  });
});

describe('remembering an outcome', () => {
  const applied: AssignmentOutcome = { serial: 4, hash: H2, result: 'applied' };

  it('remembers an applied serial, and acks it once per value and connection', () => {
    const first = rememberOutcome(EMPTY_ASSIGNMENT_MEMORY, 'v1', applied);
    expect(first).toEqual({
      publish: true,
      memory: { applied: { serial: 4, hash: H2 }, rejected: null, handled: { text: 'v1', outcome: applied } },
    });
    expect(rememberOutcome(first.memory, 'v1', applied).publish).toBe(false);
    expect(rememberOutcome(first.memory, 'v2', applied).publish).toBe(true);
    expect(rememberOutcome(forgetHandled(first.memory), 'v1', applied).publish).toBe(true);
    expect(rememberOutcome(first.memory, 'v1', { ...applied, reason: 'a warning' }).publish).toBe(true);
    const warned = rememberOutcome(first.memory, 'v1', { ...applied, reason: 'x' }).memory;
    expect(rememberOutcome(warned, 'v1', { ...applied, result: 'rejected', reason: 'x' }).publish).toBe(true);
  });

  it('acks a changed answer for the same value: a missing record written since', () => {
    const missing = rememberOutcome(
      EMPTY_ASSIGNMENT_MEMORY,
      'v1',
      rejection(4, H2, 'RULESET_RECORD_MISSING'),
    );
    expect(rememberOutcome(missing.memory, 'v1', rejection(4, H2, 'RULESET_RECORD_MISSING')).publish).toBe(
      false,
    );
    expect(rememberOutcome(missing.memory, 'v1', applied).publish).toBe(true);
    expect(rememberOutcome(missing.memory, 'v1', rejection(5, H2, 'RULESET_RECORD_MISSING')).publish).toBe(
      true,
    );
    expect(rememberOutcome(missing.memory, 'v1', rejection(4, H1, 'RULESET_RECORD_MISSING')).publish).toBe(
      true,
    );
    expect(rememberOutcome(missing.memory, 'v1', rejection(4, H2, 'RULESET_RECORD_MISMATCH')).publish).toBe(
      true,
    );
    expect(
      rememberOutcome(missing.memory, 'v1', {
        ...rejection(4, H2, 'RULESET_RECORD_MISSING'),
        reason: 'other',
      }).publish,
    ).toBe(true);
  });

  it('remembers a refusal after judging, and of an unusable record, so that the serial is not judged again', () => {
    for (const code of ['RULESET_UNTRUSTED_KEY', 'RULESET_RECORD_UNREADABLE', 'RULESET_RECORD_MISMATCH']) {
      const refused = rejection(4, H2, code);
      const after = rememberOutcome(memory({ applied: { serial: 3, hash: H1 } }), 'v1', refused);
      expect(after).toEqual({
        publish: true,
        memory: {
          applied: { serial: 3, hash: H1 },
          rejected: refused,
          handled: { text: 'v1', outcome: refused },
        },
      });
    }
  });

  it('does not remember a missing record or an invalid assignment as a refused serial', () => {
    const before = memory({ rejected: rejection(2, H1) });
    for (const code of ['RULESET_RECORD_MISSING', 'RULESET_ASSIGNMENT_INVALID']) {
      const refused = rejection(4, H2, code);
      expect(rememberOutcome(before, 'v1', refused)).toEqual({
        publish: true,
        memory: { ...before, handled: { text: 'v1', outcome: refused } },
      });
    }
  });

  it('keeps a value with nothing to ack as handled, publishing nothing', () => {
    const before = memory({ applied: { serial: 3, hash: H1 }, rejected: rejection(2, H1) });
    expect(rememberOutcome(before, 'nope', null)).toEqual({
      publish: false,
      memory: { ...before, handled: { text: 'nope', outcome: null } },
    });
  });

  it('forgets only what was handled at a (re)connect', () => {
    const before = memory({
      applied: { serial: 3, hash: H1 },
      rejected: rejection(2, H1),
      handled: { text: 'v1', outcome: applied },
    });
    expect(forgetHandled(before)).toEqual({ ...before, handled: null });
  });
});

describe('the ack of an outcome', () => {
  it('is a RuleSetAck of the node, with the code and reason when there are any', () => {
    const ack = ruleSetAck('lb-1', { serial: 4, hash: H2, result: 'applied' }, Date.UTC(2026, 11, 3, 7));
    expect(ack).toEqual({
      schema: 'rhi.v1.ruleset.ack',
      node: 'lb-1',
      serial: 4,
      hash: H2,
      result: 'applied',
      time: '2026-12-03T07:00:00.000Z',
    });
    expect(RuleSetAckSchema.parse(ack)).toEqual(ack);
    const refused = ruleSetAck('lb-1', rejection(4, H2), 0);
    expect(refused).toMatchObject({ code: 'RULESET_UNTRUSTED_KEY', reason: 'refused 4' });
    expect(RuleSetAckSchema.parse(refused)).toEqual(refused);
  });

  it("cuts a code and a reason to the contract's bounds", () => {
    const long = ruleSetAck(
      'lb-1',
      { serial: 4, hash: H2, result: 'rejected', code: 'C'.repeat(80), reason: 'r'.repeat(5000) },
      0,
    );
    expect(long.code).toHaveLength(64);
    expect(long.reason).toHaveLength(1024);
    expect(long.reason?.endsWith('…')).toBe(true);
    expect(RuleSetAckSchema.parse(long)).toEqual(long);
    const exact = ruleSetAck(
      'lb-1',
      { ...rejection(4, H2), code: 'C'.repeat(64), reason: 'r'.repeat(1024) },
      0,
    );
    expect(exact.code).toBe('C'.repeat(64));
    expect(exact.reason).toBe('r'.repeat(1024));
  });
});
