import { describe, expect, it } from 'vitest';
import { fixtureReply } from '../test/support/fixtures.js';
import { BirdReplyReader } from './reply-reader.js';
import { parseBanner, parseShowStatus } from './parse-status.js';

describe('parseShowStatus', () => {
  it('reads version, router id, times and state from BIRD 2.0.12', () => {
    expect(parseShowStatus(fixtureReply('show-status'))).toEqual({
      version: '2.0.12',
      routerId: '198.18.0.1',
      hostname: expect.any(String),
      serverTime: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/),
      lastReboot: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/),
      lastReconfiguration: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/),
      state: 'up',
      stateText: 'Daemon is up and running',
    });
  });

  it.each([
    ['Reconfiguration in progress', 'reconfiguring'],
    ['Shutdown in progress', 'shutting-down'],
    ['Something new', 'unknown'],
  ])('maps the final line "%s" to %s', (text, state) => {
    const [event] = new BirdReplyReader().push(`1000-BIRD 2.0.12\n0013 ${text}\n`);
    expect(event?.kind === 'reply' && parseShowStatus(event.reply).state).toBe(state);
  });
});

describe('parseBanner', () => {
  it('reads the version from the greeting', () => {
    expect(parseBanner(fixtureReply('banner'))).toBe('2.0.12');
  });

  it('returns undefined for a reply that is not a greeting', () => {
    expect(parseBanner(fixtureReply('eval'))).toBeUndefined();
  });
});
