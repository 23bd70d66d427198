import { describe, expect, it } from 'vitest';
import { fixtureReply } from '../test/support/fixtures.js';
import { HaproxyMalformedReplyError } from './errors.js';
import { parseServersState } from './servers-state.js';

describe('parseServersState', () => {
  const text = fixtureReply('show-servers-state.txt');
  const rows = parseServersState(text);
  const row = (backend: string, server: string) =>
    rows.find((r) => r.backend === backend && r.server === server)!;

  it('returns one row per server line of the 2.6 capture', () => {
    expect(rows).toHaveLength(text.split('\n').filter((l) => l !== '').length - 2);
    expect(rows.every((r) => r.address === '127.0.0.1')).toBe(true);
  });

  it('decodes operational and admin states', () => {
    expect(row('be_mixed', 'up1')).toMatchObject({
      operationalState: 'running',
      maintenance: false,
      drain: false,
    });
    expect(row('be_mixed', 'down1')).toMatchObject({ operationalState: 'stopped', maintenance: false });
    expect(row('be_mixed', 'maint1')).toMatchObject({ maintenance: true, adminState: 1 });
    expect(row('be_mixed', 'trk1')).toMatchObject({ maintenance: true, adminState: 2 });
    expect(row('be_mixed', 'drain1')).toMatchObject({
      operationalState: 'running',
      drain: true,
      adminState: 8,
    });
    expect(row('be_nolb', 's1').operationalState).toBe('stopping');
    expect(row('be_weight0', 's1')).toMatchObject({ userWeight: 0, initialWeight: 1 });
  });

  it('keeps every column by name', () => {
    expect(row('be_mixed', 'up1').fields['srv_port']).toMatch(/^\d+$/);
  });

  it.each([
    ['an error text', "Can't find backend.\n"],
    ['a missing header', '1\n'],
    ['another format version', text.replace(/^1\n/, '2\n')],
    ['a short row', `${text}5 be 1\n`],
    ['a bad op state', text.replace(/^(5 be_mixed 1 up1 127\.0\.0\.1) 2/m, '$1 7')],
  ])('throws HAPROXY_MALFORMED_REPLY for %s', (_name, bad) => {
    expect(() => parseServersState(bad)).toThrow(HaproxyMalformedReplyError);
  });
});
