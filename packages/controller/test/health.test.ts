import { describe, expect, it } from 'vitest';
import { HealthBook, judgeHealth } from '../src/fleet/health.js';
import { healthReport } from './support/health.js';
import { iso, T0 } from './support/statuses.js';

describe('judgeHealth', () => {
  const subject = 'rhi.v1.health.lb1';

  it('keeps a valid report from the node its subject names', () => {
    expect(judgeHealth(subject, healthReport('lb1'), undefined)).toEqual({
      ok: true,
      report: healthReport('lb1'),
    });
  });

  it.each([
    ['not an object', 'garbage', /\(message\)/],
    ['an unknown field', { ...healthReport('lb1'), extra: 1 }, /\(message\)|extra/],
    [
      'more servers up than there are',
      healthReport('lb1', { backends: { be_app: { up: true, serversUp: 4, serversTotal: 3 } } }),
      /backends\.be_app: serversUp is larger than serversTotal/,
    ],
    ['a negative seq', healthReport('lb1', { seq: -1 }), /seq/],
  ])('drops %s for the schema, naming the place', (_what, payload, detail) => {
    const verdict = judgeHealth(subject, payload, undefined);
    expect(verdict).toMatchObject({ ok: false, reason: 'schema' });
    expect(verdict.ok ? '' : verdict.detail).toMatch(detail);
    expect(verdict.ok ? '' : verdict.detail).toContain(subject);
  });

  it('drops a report published on another node’s subject', () => {
    expect(judgeHealth('rhi.v1.health.lb2', healthReport('lb1'), undefined)).toMatchObject({
      ok: false,
      reason: 'subject',
    });
  });

  it('drops a report not newer than the one kept (time, then seq)', () => {
    const kept = healthReport('lb1', { seq: 5 });
    expect(judgeHealth(subject, healthReport('lb1', { seq: 5 }), kept)).toMatchObject({ reason: 'stale' });
    expect(judgeHealth(subject, healthReport('lb1', { seq: 4 }), kept)).toMatchObject({ reason: 'stale' });
    expect(judgeHealth(subject, healthReport('lb1', { seq: 6 }), kept).ok).toBe(true);
    // A restarted agent counts from 0 again, later.
    expect(judgeHealth(subject, healthReport('lb1', { seq: 0, time: iso(T0 + 1) }), kept).ok).toBe(true);
  });
});

describe('HealthBook', () => {
  it('keeps the latest accepted report per node and nothing of dropped ones', () => {
    const book = new HealthBook();
    book.ingest('rhi.v1.health.lb1', healthReport('lb1', { seq: 2 }));
    book.ingest('rhi.v1.health.lb1', healthReport('lb1', { seq: 1, reachable: false }));
    book.ingest('rhi.v1.health.lb2', healthReport('lb1', { seq: 9 }));
    expect(book.get('lb1')?.seq).toBe(2);
    expect(book.get('lb2')).toBeUndefined();
    expect(book.size).toBe(1);
  });
});
