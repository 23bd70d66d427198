import { describe, expect, it } from 'vitest';
import { FIXTURE_EXPECTED } from '../test/support/fixture-config.js';
import { fixtureReply } from '../test/support/fixtures.js';
import type { HealthSnapshot } from './health.js';
import { buildHealthSnapshot, diffSnapshots, isFrontendUp, isServerUsable } from './health.js';
import { parseInfo } from './info.js';
import { parseStat } from './stat-csv.js';

const info = parseInfo(fixtureReply('show-info.txt'));
const full = parseStat(fixtureReply('show-stat.txt'));
const feBe = parseStat(fixtureReply('show-stat-fe-be.txt'));
const snapshot = buildHealthSnapshot(info, full, { readAt: 1_700_000_000_000, withServers: true });

describe('server and frontend statuses', () => {
  it.each([
    ['UP', true],
    ['UP 1/2', true],
    ['UP 2/3', true],
    ['no check', true],
    ['DOWN', false],
    ['DOWN 1/2', false],
    ['DOWN (agent)', false],
    ['NOLB', false],
    ['NOLB 1/2', false],
    ['DRAIN', false],
    ['DRAIN 1/2', false],
    ['DRAIN (agent)', false],
    ['MAINT', false],
    ['MAINT (via be/s2)', false],
    ['MAINT (resolution)', false],
    ['UPX', false],
  ])('server %j usable: %s', (status, usable) => expect(isServerUsable(status)).toBe(usable));

  it.each([
    ['OPEN', true],
    ['FULL', true],
    ['PAUSED', false],
    ['STOP', false],
    ['WAITING', false],
  ])('frontend %j up: %s', (status, up) => expect(isFrontendUp(status)).toBe(up));
});

describe('buildHealthSnapshot over the 2.6 capture', () => {
  it('carries the process identity and the read time', () => {
    expect(snapshot.process).toEqual({
      pid: info.pid,
      uptimeSec: info.uptimeSec,
      stopping: false,
      version: info.version,
      currentConnections: info.currentConnections,
    });
    expect(snapshot.readAt).toBe(1_700_000_000_000);
  });

  it('marks frontends up when OPEN and down when PAUSED', () => {
    for (const [name, status] of Object.entries(FIXTURE_EXPECTED.frontends)) {
      expect(snapshot.frontends[name]).toEqual({ up: status === 'OPEN', reason: status, sessions: 0 });
    }
  });

  it("follows HAProxy's BACKEND verdict: empty UP, all MAINT DOWN, backup-only UP, weight 0 DOWN", () => {
    for (const [name, status] of Object.entries(FIXTURE_EXPECTED.backends)) {
      expect(snapshot.backends[name]?.up).toBe(status === 'UP');
    }
  });

  it('counts usable servers per backend, backups included', () => {
    expect(snapshot.backends['be_mixed']).toMatchObject({
      serversUp: 3,
      serversTotal: 7,
      reason: 'UP, 3/7 servers usable',
    });
    expect(snapshot.backends['be_empty']).toMatchObject({ up: true, serversUp: 0, serversTotal: 0 });
    expect(snapshot.backends['be_backup_only']).toMatchObject({ up: true, serversUp: 1, serversTotal: 2 });
    expect(snapshot.backends['be_nolb']).toMatchObject({ up: false, serversUp: 0, serversTotal: 1 });
  });

  it('gives every server its status, usability and backup flag', () => {
    for (const [id, status] of Object.entries(FIXTURE_EXPECTED.servers)) {
      const [be, srv] = id.split('/');
      expect(snapshot.backends[be!]?.servers?.[srv!]).toEqual({
        status,
        usable: isServerUsable(status),
        backup: srv === 'bk1' || (be === 'be_backup_only' && srv === 'b1'),
      });
    }
  });

  it('leaves server fields out of a frontends+backends-only read', () => {
    const light = buildHealthSnapshot(info, feBe, { readAt: 0, withServers: false });
    expect(Object.keys(light.backends)).toEqual(Object.keys(snapshot.backends));
    expect(light.backends['be_mixed']).toEqual({ up: true, reason: 'UP' });
    expect(light.frontends).toEqual(snapshot.frontends);
  });
});

describe('buildHealthSnapshot limited to some proxies', () => {
  const proxies = { frontends: ['fe_paused', 'li_sockets', 'fe_gone'], backends: ['be_down', 'be_gone'] };
  const limited = buildHealthSnapshot(info, full, { readAt: 0, withServers: true, proxies });

  it('keeps only the requested proxies, unchanged', () => {
    expect(limited.frontends).toEqual({
      fe_paused: snapshot.frontends['fe_paused'],
      li_sockets: snapshot.frontends['li_sockets'],
    });
    expect(limited.backends).toEqual({ be_down: snapshot.backends['be_down'] });
  });

  it('lists requested names HAProxy lacks as missing, per kind', () => {
    expect(limited.missing).toEqual({ frontends: ['fe_gone'], backends: ['be_gone'] });
    // li_sockets is a listen section but was asked for as a frontend only.
    expect(limited.backends['li_sockets']).toBeUndefined();
    expect(snapshot.missing).toBeUndefined();
  });
});

describe('frontend sessions', () => {
  // The captured frontends have no sessions: give fe_open 7 current sessions (scur, column 4).
  const busy = fixtureReply('show-stat-fe-be.txt').replace(
    /^fe_open,FRONTEND,,,0,/m,
    'fe_open,FRONTEND,,,7,',
  );
  const withSessions = buildHealthSnapshot(info, parseStat(busy), { readAt: 0, withServers: false });

  it('reads scur into sessions', () => {
    expect(withSessions.frontends['fe_open']).toEqual({ up: true, reason: 'OPEN', sessions: 7 });
    expect(withSessions.frontends['fe_paused']?.sessions).toBe(0);
  });

  it('is not a change unless asked for', () => {
    const before = buildHealthSnapshot(info, feBe, { readAt: 0, withServers: false });
    expect(diffSnapshots(before, withSessions).any).toBe(false);
    expect(diffSnapshots(before, withSessions, { sessions: true })).toMatchObject({
      any: true,
      frontends: { changed: ['fe_open'], appeared: [], vanished: [] },
    });
  });

  it("counts a change of the worker's current connections only when asked for", () => {
    const before = buildHealthSnapshot(info, feBe, { readAt: 0, withServers: false });
    const after = { ...before, process: { ...before.process, currentConnections: 3 } };
    expect(diffSnapshots(before, after)).toMatchObject({ any: false, connectionsChanged: false });
    expect(diffSnapshots(before, after, { sessions: true })).toMatchObject({
      any: true,
      connectionsChanged: true,
      processChanged: false,
    });
    expect(diffSnapshots(before, before, { sessions: true })).toMatchObject({
      any: false,
      connectionsChanged: false,
    });
  });
});

describe('diffSnapshots', () => {
  const change = (patch: (s: HealthSnapshot) => HealthSnapshot) => diffSnapshots(snapshot, patch(snapshot));

  it('sees everything as appeared on the first read', () => {
    const d = diffSnapshots(undefined, snapshot);
    expect(d.any).toBe(true);
    expect(d.backends.appeared).toEqual(Object.keys(snapshot.backends));
  });

  it('ignores the read time and uptime', () => {
    const d = change((s) => ({ ...s, readAt: s.readAt + 1, process: { ...s.process, uptimeSec: 99 } }));
    expect(d.any).toBe(false);
  });

  it('reports a server status change in its backend', () => {
    const d = change((s) => ({
      ...s,
      backends: {
        ...s.backends,
        be_mixed: {
          ...s.backends['be_mixed']!,
          servers: {
            ...s.backends['be_mixed']!.servers,
            up1: { status: 'UP 1/2', usable: true, backup: false },
          },
        },
      },
    }));
    expect(d).toMatchObject({ any: true, backends: { changed: ['be_mixed'], appeared: [], vanished: [] } });
  });

  it('reports proxies that vanished or appeared (a rename after a reload)', () => {
    const d = change((s) => {
      const { fe_open, ...frontends } = s.frontends;
      return { ...s, frontends: { ...frontends, fe_renamed: fe_open! } };
    });
    expect(d.frontends).toEqual({ appeared: ['fe_renamed'], vanished: ['fe_open'], changed: [] });
    expect(d.any).toBe(true);
  });

  it('reports a new worker pid or a stopping worker', () => {
    expect(change((s) => ({ ...s, process: { ...s.process, pid: s.process.pid + 1 } })).processChanged).toBe(
      true,
    );
    expect(change((s) => ({ ...s, process: { ...s.process, stopping: true } })).processChanged).toBe(true);
  });
});
