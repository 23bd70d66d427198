import { describe, expect, it } from 'vitest';
import { errorFixtures, fixture } from '../test/support/fixtures.js';
import type { HaproxyErrorCode } from './errors.js';
import { HaproxyError, parseCommandError } from './errors.js';

const expected: Readonly<Record<string, HaproxyErrorCode | null>> = {
  'errors/success.txt': null,
  'errors/already-enabled.txt': null,
  'errors/bad-state.txt': null,
  'errors/bad-weight.txt': null,
  'errors/no-such-server.txt': 'HAPROXY_UNKNOWN_SERVER',
  'errors/no-such-backend.txt': 'HAPROXY_UNKNOWN_PROXY',
  'errors/no-such-frontend.txt': 'HAPROXY_UNKNOWN_PROXY',
  'errors/no-such-proxy.txt': 'HAPROXY_UNKNOWN_PROXY',
  'errors/cant-find-backend.txt': 'HAPROXY_UNKNOWN_PROXY',
  'errors/permission-denied.txt': 'HAPROXY_PERMISSION_DENIED',
  'errors/permission-denied-events.txt': 'HAPROXY_PERMISSION_DENIED',
  'errors/unknown-command.txt': 'HAPROXY_UNKNOWN_COMMAND',
  'errors/no-such-event-sink.txt': 'HAPROXY_UNKNOWN_RING',
  'errors/not-a-ring.txt': 'HAPROXY_UNKNOWN_RING',
};

describe('parseCommandError over captured replies', () => {
  it('names the ring of a show events that HAProxy refused, and whether the sink exists', () => {
    expect(
      parseCommandError('show events evnets -w -n', fixture('errors/no-such-event-sink.txt')),
    ).toMatchObject({
      code: 'HAPROXY_UNKNOWN_RING',
      ring: 'evnets',
      notARing: false,
      message: 'HAProxy has no ring "evnets" (No such event sink)',
    });
    expect(parseCommandError('show events stdout -w -n', fixture('errors/not-a-ring.txt'))).toMatchObject({
      ring: 'stdout',
      notARing: true,
      message: 'HAProxy\'s sink "stdout" is not a ring (Nothing to report for this sink)',
    });
  });

  it('has an expectation for every captured error reply', () => {
    expect(Object.keys(expected).sort()).toEqual(errorFixtures().sort());
  });

  it.each(Object.entries(expected))('%s → %s', (name, code) => {
    const error = parseCommandError('cmd arg', fixture(name));
    expect(error?.code ?? null).toBe(code);
    if (error) {
      expect(error).toBeInstanceOf(HaproxyError);
      expect(error).toMatchObject({ command: 'cmd arg' });
    }
  });
});
