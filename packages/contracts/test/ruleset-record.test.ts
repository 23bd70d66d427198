import { generateKeyPairSync } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { parse } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import {
  ContractInvalidTokenError,
  decodeRuleSetRecord,
  encodeRuleSetRecord,
  kvDirectGetSubject,
  kvSubject,
  RuleSetRecordUnreadableError,
  ruleSetKeys,
  signRuleSet,
  summaryOf,
  type RuleSetRecord,
} from '../src/index.js';

const { privateKey } = generateKeyPairSync('ed25519');
const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const source = '# edge VIPs\n198.18.200.1 = all(b:be_static, b:be_app)\n';
const { ruleSet } = parse(source);
const signed = signRuleSet(ruleSet, { privateKeyPem, keyId: 'ops-2026', serial: 3 });
const record: RuleSetRecord = {
  schema: 'rhi.v1.ruleset.record',
  serial: 3,
  hash: signed.hash,
  author: 'ops',
  message: 'add the edge VIP',
  createdAt: '2026-12-03T07:00:00.000Z',
  target: { kind: 'selector', selector: 'role=edge,site=par1' },
  rules: 1,
  routes: 1,
  bytes: Buffer.byteLength(source),
  keyId: 'ops-2026',
  copyOf: null,
  source,
  signed,
};

const reason = (bytes: Uint8Array) => {
  try {
    decodeRuleSetRecord(bytes, 'set.3');
    return 'read';
  } catch (err) {
    expect(err).toBeInstanceOf(RuleSetRecordUnreadableError);
    return (err as Error).message;
  }
};

describe('stored rule-set records', () => {
  it('read back as they were written, text and signed rules included', () => {
    expect(decodeRuleSetRecord(encodeRuleSetRecord(record), 'set.3')).toEqual(record);
  });

  it('have a summary without the text and the rules', () => {
    const summary = summaryOf(record);
    expect(summary).not.toHaveProperty('source');
    expect(summary).not.toHaveProperty('signed');
    expect(summary).toMatchObject({ schema: 'rhi.v1.ruleset.summary', serial: 3, author: 'ops' });
  });

  it('refuse, naming the key, bytes that are not gzip, not JSON, or a record of another serial', () => {
    expect(reason(Buffer.from('{}'))).toMatch(/^rule-set record set\.3 cannot be read: .*header/);
    expect(reason(gzipSync('not json'))).toMatch(/set\.3 cannot be read: .*JSON/);
    expect(reason(gzipSync(JSON.stringify({ ...record, serial: 4 })))).toMatch(
      /set\.3 cannot be read: signed: the signed rule set is of another serial or hash/,
    );
    expect(reason(gzipSync(JSON.stringify({ ...record, message: '' })))).toMatch(/: message: /);
  });

  it('are never unpacked past 64 MiB (a gzip bomb costs no more)', () => {
    const bomb = gzipSync(Buffer.alloc(65 * 1024 * 1024, 0x20));
    expect(reason(bomb)).toMatch(/set\.3 cannot be read: .*(buffer|length|larger)/i);
  });

  it('are kept under keys that NATS subjects can carry', () => {
    expect(ruleSetKeys.record(12)).toBe('set.12');
    expect(ruleSetKeys.assignment('lb-par1-01')).toBe('assign.lb-par1-01');
    expect(() => ruleSetKeys.assignment('lb.par1')).toThrow(ContractInvalidTokenError);
    expect(kvSubject('rhi_v1_rulesets', 'assign.a')).toBe('$KV.rhi_v1_rulesets.assign.a');
    expect(kvDirectGetSubject('rhi_v1_rulesets', 'set.1')).toBe(
      '$JS.API.DIRECT.GET.KV_rhi_v1_rulesets.$KV.rhi_v1_rulesets.set.1',
    );
  });
});
