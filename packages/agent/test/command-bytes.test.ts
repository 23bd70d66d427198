import { generateKeyPairSync } from 'node:crypto';
import type { SignedRuleSet } from '@rhi/contracts';
import { signRuleSet } from '@rhi/contracts';
import { parse } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import type { RuleSetLimits } from '../src/core/accept-rule-set.js';
import { DEFAULT_RULE_SET_LIMITS, examineSignedEnvelope } from '../src/core/accept-rule-set.js';
import { allowlist } from '../src/core/allowlist.js';
import {
  SMALL_CONTROL_MAX_BYTES,
  countRuleKeys,
  isSmallCommand,
  isSmallRecord,
  parseCommand,
  peekCommandId,
  readCommand,
} from '../src/core/command-bytes.js';
import { bigRuleSet } from './support/big-rule-set.js';

// A command's bytes read two ways: whole on the main thread (`parseCommand`, the link's reading) and in
// the rule-set worker (`readCommand`: the envelope checked once, by `verifySignedRuleSet`). Every command
// either refuses, the worker's reading refuses with the very ack reason the link's gives.

const keys = generateKeyPairSync('ed25519');
const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const trusted = new Map([['ops', keys.publicKey]]);
const stranger = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

const bytes = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const signed = (rules: number, signer = privateKeyPem): SignedRuleSet =>
  JSON.parse(
    JSON.stringify(
      signRuleSet(parse(bigRuleSet(rules).text).ruleSet, { privateKeyPem: signer, keyId: 'ops', serial: 3 }),
    ),
  ) as SignedRuleSet;
const command = (over: Record<string, unknown> = {}) => ({
  schema: 'rhi.v1.command',
  id: 'c-1',
  type: 'ruleset',
  ruleSet: signed(3),
  ...over,
});

/** `readCommand` with the worker's examination, recording the envelopes it was asked to examine. */
function read(input: Uint8Array, limits: RuleSetLimits = DEFAULT_RULE_SET_LIMITS) {
  const examined: unknown[] = [];
  const options = { limits, allowlist: allowlist(['198.18.0.0/15', '2001:db8::/32']) };
  const reading = readCommand(input, (envelope) => {
    examined.push(envelope);
    return examineSignedEnvelope(envelope, trusted, options);
  });
  return { reading, examined };
}

describe('parseCommand', () => {
  it.each([
    ['not JSON', '{"schema": "rhi.v1.command", ', { ok: false, id: '', reason: 'command is not JSON' }],
    [
      'not UTF-8 JSON',
      new Uint8Array([0x7b, 0xff, 0x7d]),
      { ok: false, id: '', reason: 'command is not JSON' },
    ],
    [
      'no id',
      { schema: 'rhi.v1.command', type: 'undrain' },
      { ok: false, id: '', reason: expect.stringMatching(/^malformed command: id /) },
    ],
    [
      'an unknown type',
      { schema: 'rhi.v1.command', id: 'c-2', type: 'reboot' },
      { ok: false, id: 'c-2', reason: expect.stringMatching(/^malformed command: type /) },
    ],
    [
      'a drain of negative sessions',
      { schema: 'rhi.v1.command', id: 'c-3', type: 'drain', waitSessions: -1 },
      { ok: false, id: 'c-3', reason: expect.stringMatching(/^malformed command: waitSessions /) },
    ],
    [
      'a rule set without its hash',
      command({ ruleSet: { ...signed(3), hash: undefined } }),
      { ok: false, id: 'c-1', reason: expect.stringMatching(/^malformed command: ruleSet\.hash /) },
    ],
  ])('refuses %s with the ack reason and the id it has', (_, input, refusal) => {
    expect(parseCommand(input instanceof Uint8Array ? input : bytes(input))).toEqual(refusal);
  });

  it('reads a drain, with its fields', () => {
    expect(parseCommand(bytes({ schema: 'rhi.v1.command', id: 'd', type: 'drain', timeoutSec: 2 }))).toEqual({
      ok: true,
      command: { schema: 'rhi.v1.command', id: 'd', type: 'drain', timeoutSec: 2 },
    });
  });
});

describe('readCommand', () => {
  const good = signed(3);
  const refused: [string, Uint8Array, RuleSetLimits?][] = [
    ['not JSON', bytes('not json')],
    ['JSON null', bytes('null')],
    ['an array', bytes([command()])],
    ['a head with a key too many', bytes(command({ extra: 1 }))],
    ['a head of another schema', bytes(command({ schema: 'rhi.v2.command' }))],
    ['a head with an empty id', bytes(command({ id: '' }))],
    ['a head with no id', bytes({ ...command(), id: undefined })],
    ['no envelope', bytes({ ...command(), ruleSet: undefined })],
    ['an envelope that is a string', bytes(command({ ruleSet: 'signed' }))],
    ['an envelope without its hash', bytes(command({ ruleSet: { ...good, hash: undefined } }))],
    ['an envelope of serial 0', bytes(command({ ruleSet: { ...good, serial: 0 } }))],
    ['an envelope with a key too many', bytes(command({ ruleSet: { ...good, extra: true } }))],
    [
      'a rule of the wrong shape',
      bytes(command({ ruleSet: { ...good, ruleSet: { ...good.ruleSet, rules: [{ routes: 1 }] } } })),
    ],
    // verifySignedRuleSet counts the rules before it checks their shape: the link's reason all the same.
    [
      'an envelope over maxRules without its hash',
      bytes(command({ ruleSet: { ...good, hash: undefined } })),
      { ...DEFAULT_RULE_SET_LIMITS, maxRules: 2 },
    ],
    ['a malformed drain', bytes({ schema: 'rhi.v1.command', id: 'd', type: 'drain', reason: 7 })],
    [
      'an undrain with a key too many',
      bytes({ schema: 'rhi.v1.command', id: 'u', type: 'undrain', now: true }),
    ],
  ];
  it.each(refused)('refuses %s as the link refuses it', (_, input, limits) => {
    const link = parseCommand(input);
    expect(link.ok).toBe(false);
    if (link.ok) return;
    expect(read(input, limits).reading).toEqual({ kind: 'refused', id: link.id, reason: link.reason });
  });

  it('examines a signed rule set once, as the command carries it, and says its id', () => {
    const { reading, examined } = read(bytes(command({ id: 'push-7', ruleSet: good })));
    expect(examined).toEqual([good]);
    expect(reading).toMatchObject({
      kind: 'ruleset',
      id: 'push-7',
      examined: { examination: { ok: true, candidate: { serial: 3, ruleCount: 3 } }, envelope: good },
    });
  });

  it('leaves a well-formed rule set the link would take to its examination, refusals too', () => {
    const untrusted = read(bytes(command({ ruleSet: signed(3, stranger) }))).reading;
    expect(untrusted).toMatchObject({
      kind: 'ruleset',
      id: 'c-1',
      examined: { examination: { ok: false, code: 'RULESET_BAD_SIGNATURE' } },
    });
    const over = read(bytes(command({ ruleSet: good })), { ...DEFAULT_RULE_SET_LIMITS, maxRules: 2 }).reading;
    expect(parseCommand(bytes(command({ ruleSet: good }))).ok).toBe(true);
    expect(over).toMatchObject({
      kind: 'ruleset',
      examined: { examination: { ok: false, code: 'RULESET_OVER_LIMIT' } },
    });
  });

  it('reads a control command whole and examines nothing', () => {
    const drain = { schema: 'rhi.v1.command', id: 'd-1', type: 'drain', waitSessions: 0, reason: 'kernel' };
    const { reading, examined } = read(bytes(drain));
    expect(reading).toEqual({ kind: 'command', command: drain });
    expect(examined).toEqual([]);
  });
});

describe('peeking at a command without parsing it', () => {
  it.each([
    ['the id', '{"schema":"rhi.v1.command","id":"c-9","type":"ruleset"}', 'c-9'],
    ['an id among spaces', '{ "id" :\n "c 10" }', 'c 10'],
    ['an id with escapes', String.raw`{"id":"a\"b\\c"}`, 'a"b\\c'],
    ['the first "id" that is a string', '{"id":7,"x":{"id":"inner"}}', 'inner'],
    ['no id', '{"schema":"rhi.v1.command"}', ''],
    ['an unterminated id', '{"id":"abc', ''],
    ['not JSON at all', 'garbage', ''],
  ])('reads %s', (_, text, id) => {
    expect(peekCommandId(bytes(text))).toBe(id);
  });

  it('counts the rules of a rule set up to a bound, in a view into a larger buffer', () => {
    const json = bytes(command({ ruleSet: signed(50) }));
    const view = new Uint8Array(json.length + 20).subarray(10, 10 + json.length);
    view.set(json);
    expect(countRuleKeys(view, 1000)).toBe(50);
    expect(countRuleKeys(view, 20)).toBe(20);
    expect(countRuleKeys(bytes({ type: 'undrain' }), 10)).toBe(0);
  });

  it('says which commands are small enough for the main thread', () => {
    const drain = bytes({ schema: 'rhi.v1.command', id: 'd', type: 'drain' });
    expect(isSmallCommand(drain, 200)).toBe(true);
    // A control command is read there even when every rule set goes to the worker.
    expect(isSmallCommand(drain, 0)).toBe(true);
    expect(isSmallCommand(bytes({ type: 'drain', reason: 'x'.repeat(SMALL_CONTROL_MAX_BYTES) }), 200)).toBe(
      false,
    );
    const small = bytes(command({ ruleSet: signed(10) }));
    expect(isSmallCommand(small, 200)).toBe(true);
    expect(isSmallCommand(small, 10)).toBe(false);
    expect(isSmallCommand(small, 0)).toBe(false);
    // Few rules but many bytes (what an escaped key could hide from the count) go to the worker.
    expect(isSmallCommand(bytes(command({ ruleSet: signed(10), pad: 'x'.repeat(200 * 512) })), 200)).toBe(
      false,
    );
    expect(isSmallRecord(new Uint8Array(200 * 16), 200)).toBe(true);
    expect(isSmallRecord(new Uint8Array(200 * 16 + 1), 200)).toBe(false);
    expect(isSmallRecord(new Uint8Array(10), 0)).toBe(false);
  });
});
