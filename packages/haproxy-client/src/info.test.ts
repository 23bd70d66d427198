import { describe, expect, it } from 'vitest';
import { fixtureReply } from '../test/support/fixtures.js';
import { HaproxyMalformedReplyError } from './errors.js';
import { parseInfo } from './info.js';

describe('parseInfo', () => {
  const text = fixtureReply('show-info.txt');
  const info = parseInfo(text);

  it('reads the process identity from a 2.6 capture', () => {
    const pid = /^Pid: (\d+)$/m.exec(text)![1];
    expect(info.pid).toBe(Number(pid));
    expect(info.version).toMatch(/^2\.6\./);
    expect(info.stopping).toBe(false);
    expect(info.uptimeSec).toBeGreaterThanOrEqual(0);
    expect(info.currentConnections).toBe(Number(/^CurrConns: (\d+)$/m.exec(text)![1]));
  });

  it('reads the current connections', () => {
    expect(parseInfo(text.replace(/^CurrConns: \d+$/m, 'CurrConns: 42')).currentConnections).toBe(42);
  });

  it('keeps every field, keys with spaces included', () => {
    expect(Object.keys(info.fields)).toHaveLength(text.split('\n').filter((l) => l !== '').length);
    expect(info.fields['Unstoppable Jobs']).toMatch(/^\d+$/);
    expect(info.fields['Name']).toBe('HAProxy');
  });

  it('sees an old worker during a reload', () => {
    expect(parseInfo(text.replace('Stopping: 0', 'Stopping: 1')).stopping).toBe(true);
  });

  it.each([
    ['an error text', 'Permission denied\n'],
    ['a reply without Pid', text.replace(/^Pid: .*$/m, '')],
    ['a reply without CurrConns', text.replace(/^CurrConns: .*$/m, '')],
    ['a non-numeric Stopping', text.replace('Stopping: 0', 'Stopping: maybe')],
  ])('throws HAPROXY_MALFORMED_REPLY for %s', (_name, bad) => {
    expect(() => parseInfo(bad)).toThrow(HaproxyMalformedReplyError);
  });
});
