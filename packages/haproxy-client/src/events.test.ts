import { describe, expect, it } from 'vitest';
import { fixture } from '../test/support/fixtures.js';
import { parseEventSinks, parseRingEvent } from './events.js';

describe('parseRingEvent', () => {
  const lines = fixture('show-events.txt')
    .split('\n')
    .filter((l) => l !== '');
  const pid = Number(/^Pid: (\d+)$/m.exec(fixture('show-info.txt'))![1]);
  const events = lines.map(parseRingEvent);

  it('reads priority, timestamp and pid of every RFC 5424 line of the capture', () => {
    for (const e of events) {
      expect(e.priority).toBeGreaterThanOrEqual(128);
      expect(e.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
      expect(e.pid).toBe(pid);
    }
  });

  it('names the proxy and server of state-change messages', () => {
    const find = (text: string) => events.find((e) => e.message.startsWith(text));
    expect(find('Server be_mixed/maint1 is going DOWN')).toMatchObject({
      proxy: 'be_mixed',
      server: 'maint1',
    });
    expect(find('Paused frontend fe_paused')).toMatchObject({ proxy: 'fe_paused' });
    expect(find('backend be_drain has no server available!')).toMatchObject({ proxy: 'be_drain' });
    expect(find('Paused frontend')?.server).toBeUndefined();
    expect(parseRingEvent('Backup Server be_app/b1 is DOWN, changed from CLI.')).toMatchObject({
      proxy: 'be_app',
      server: 'b1',
    });
  });

  it('keeps a line in another format whole', () => {
    expect(parseRingEvent('Server be/s1 is UP')).toEqual({
      message: 'Server be/s1 is UP',
      proxy: 'be',
      server: 's1',
    });
    expect(parseRingEvent('hello')).toEqual({ message: 'hello' });
  });
});

describe('parseEventSinks', () => {
  it('lists the sinks of the capture, rings as type buffer', () => {
    expect(parseEventSinks(fixture('show-event-sinks.txt'))).toEqual([
      { name: 'stdout', type: 'fd', dropped: 0, description: 'standard output (fd#1)' },
      { name: 'stderr', type: 'fd', dropped: 0, description: 'standard output (fd#2)' },
      { name: 'buf0', type: 'buffer', dropped: 0, description: 'in-memory ring buffer' },
      { name: 'events', type: 'buffer', dropped: 0, description: 'events' },
    ]);
  });

  it('finds nothing in an error reply', () => {
    expect(parseEventSinks(fixture('errors/permission-denied-events.txt'))).toEqual([]);
  });
});
