import { describe, expect, it } from 'vitest';
import { StatusRequests } from '../src/fleet/status-requests.js';

describe('StatusRequests', () => {
  const requests = () => new StatusRequests({ graceMs: 500, retryMs: 5000 });

  it('asks a node behind past the grace, then again only after the retry time', () => {
    const r = requests();
    expect(r.heartbeat('lb1', true, 0)).toBe(false);
    expect(r.heartbeat('lb1', true, 499)).toBe(false);
    expect(r.heartbeat('lb1', true, 1000)).toBe(true);
    expect(r.heartbeat('lb1', true, 2000)).toBe(false);
    expect(r.heartbeat('lb1', true, 5999)).toBe(false);
    expect(r.heartbeat('lb1', true, 6000)).toBe(true);
  });

  it('forgets a node once its status arrives or a heartbeat finds it current', () => {
    const r = requests();
    r.heartbeat('lb1', true, 0);
    r.heartbeat('lb2', true, 0);
    expect(r.size).toBe(2);
    r.status('lb1');
    r.heartbeat('lb2', false, 100);
    expect(r.size).toBe(0);
    // Behind again later: the grace starts over.
    expect(r.heartbeat('lb1', true, 1000)).toBe(false);
    expect(r.heartbeat('lb1', true, 1600)).toBe(true);
  });

  it('keeps nodes apart', () => {
    const r = requests();
    r.heartbeat('lb1', true, 0);
    expect(r.heartbeat('lb2', true, 1000)).toBe(false);
    expect(r.heartbeat('lb1', true, 1000)).toBe(true);
  });
});
