import { HEALTH_REPORT_MAX_BYTES, HealthReportSchema } from '@rhi/contracts';
import type { HealthState } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import { compactHealth, healthReport } from '../src/core/health-report.js';

const none = { frontends: [], backends: [] };
const byteLength = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)).length;

/** A node with `n` frontends and `n` backends, each with a long name. */
const many = (n: number): HealthState => {
  const frontends: Record<string, { up: boolean }> = {};
  const backends: Record<string, { up: boolean; serversUp: number; serversTotal: number }> = {};
  for (let i = 0; i < n; i++) {
    const pad = String(i).padStart(6, '0');
    frontends[`fe_${pad}_${'x'.repeat(100)}`] = { up: i % 2 === 0 };
    backends[`be_${pad}_${'y'.repeat(100)}`] = { up: true, serversUp: i % 5, serversTotal: 4 + (i % 5) };
  }
  return { frontends, backends };
};

describe('health report', () => {
  it('keeps up per frontend, up and usable/total servers per backend, and the worker', () => {
    const body = compactHealth(
      {
        type: 'snapshot',
        pid: 42,
        state: {
          frontends: { fe_web: { up: false, reason: 'STOP' } },
          backends: {
            be_app: { up: true, reason: 'UP', serversUp: 2, serversTotal: 3 },
            be_static: { up: false },
          },
        },
      },
      none,
      'lb-1',
    );
    expect(body).toEqual({
      reachable: true,
      pid: 42,
      frontends: { fe_web: { up: false } },
      backends: {
        be_app: { up: true, serversUp: 2, serversTotal: 3 },
        // Without server rows (no capacity rule): 0 of 0.
        be_static: { up: false, serversUp: 0, serversTotal: 0 },
      },
      omitted: { frontends: 0, backends: 0 },
    });
    const report = healthReport('lb-1', body, 7, Date.UTC(2026, 10, 24));
    expect(HealthReportSchema.parse(report)).toEqual({
      schema: 'rhi.v1.health',
      node: 'lb-1',
      time: '2026-11-24T00:00:00.000Z',
      seq: 7,
      ...body,
    });
  });

  it('carries the inventory of the worker it was read from, whole and under the limit, or not at all', () => {
    const reading = {
      type: 'snapshot' as const,
      pid: 42,
      state: { frontends: { fe_web: { up: true } }, backends: { be_app: { up: true } } },
    };
    const inventory = { pid: 42, frontends: ['fe_web'], backends: ['be_app', 'be_new'] };
    const body = compactHealth(reading, none, 'lb-1', HEALTH_REPORT_MAX_BYTES, inventory);
    expect(body.proxies).toEqual({ frontends: ['fe_web'], backends: ['be_app', 'be_new'] });
    expect(HealthReportSchema.parse(healthReport('lb-1', body, 1, 0)).proxies).toEqual(body.proxies);
    // Another worker (HAProxy reloaded since the full read): not its inventory.
    expect(
      compactHealth(reading, none, 'lb-1', HEALTH_REPORT_MAX_BYTES, { ...inventory, pid: 43 }).proxies,
    ).toBeUndefined();
    // A name the contract cannot carry: the inventory would be wrong without it, so none.
    expect(
      compactHealth(reading, none, 'lb-1', HEALTH_REPORT_MAX_BYTES, {
        ...inventory,
        backends: ['x'.repeat(300)],
      }).proxies,
    ).toBeUndefined();
    // Too big to fit: none, and the report stays under the limit.
    const huge = {
      pid: 42,
      frontends: [],
      backends: Array.from({ length: 3000 }, (_, i) => `be_${i}_${'z'.repeat(100)}`),
    };
    const capped = compactHealth(reading, none, 'lb-1', HEALTH_REPORT_MAX_BYTES, huge);
    expect(capped.proxies).toBeUndefined();
    const big = compactHealth(reading, none, 'lb-1', 400_000, huge);
    expect(big.proxies?.backends).toHaveLength(3000);
    expect(byteLength(healthReport('lb-1', big, Number.MAX_SAFE_INTEGER, 0))).toBeLessThanOrEqual(400_000);
  });

  it('says HAProxy cannot be read with empty maps', () => {
    const body = compactHealth({ type: 'unreachable', error: 'ECONNREFUSED' }, none, 'lb-1');
    expect(body).toEqual({
      reachable: false,
      frontends: {},
      backends: {},
      omitted: { frontends: 0, backends: 0 },
    });
    expect(HealthReportSchema.safeParse(healthReport('lb-1', body, 0, 0)).success).toBe(true);
  });

  it('is the same for the same health, whatever the order HAProxy listed the proxies in', () => {
    const a = compactHealth(
      { type: 'snapshot', state: { frontends: { b: { up: true }, a: { up: true } }, backends: {} } },
      none,
      'lb-1',
    );
    const b = compactHealth(
      { type: 'snapshot', state: { frontends: { a: { up: true }, b: { up: true } }, backends: {} } },
      none,
      'lb-1',
    );
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('stays under the limit for a node with many proxies, keeping the named ones and counting the rest', () => {
    const state = many(2000);
    const named = {
      frontends: ['fe_001999_' + 'x'.repeat(100), 'fe_absent'],
      backends: ['be_001998_' + 'y'.repeat(100)],
    };
    const body = compactHealth({ type: 'snapshot', pid: 1, state }, named, 'lb-1');
    const report = healthReport('lb-1', body, Number.MAX_SAFE_INTEGER, Date.now());
    expect(byteLength(report)).toBeLessThanOrEqual(HEALTH_REPORT_MAX_BYTES);
    expect(HealthReportSchema.safeParse(report).success).toBe(true);
    const kept = Object.keys(body.frontends).length + Object.keys(body.backends).length;
    expect(kept + body.omitted.frontends + body.omitted.backends).toBe(4000);
    expect(body.omitted.frontends + body.omitted.backends).toBeGreaterThan(0);
    // The named ones are kept though they sort last.
    expect(body.frontends[named.frontends[0]!]).toEqual({ up: false });
    expect(body.backends[named.backends[0]!]).toEqual({ up: true, serversUp: 3, serversTotal: 7 });
    // Little room is wasted: one more proxy would not have fit.
    expect(byteLength(report)).toBeGreaterThan(HEALTH_REPORT_MAX_BYTES - 400);
  });

  it('bounds to a smaller limit the same way, and leaves out a name the contract cannot carry', () => {
    const state: HealthState = {
      frontends: { ['f'.repeat(300)]: { up: true }, fe_a: { up: true }, fe_b: { up: true } },
      backends: {},
    };
    const body = compactHealth(
      { type: 'snapshot', state },
      { frontends: ['fe_b'], backends: [] },
      'lb-1',
      240,
    );
    expect(body.frontends).toEqual({ fe_b: { up: true } });
    expect(body.omitted).toEqual({ frontends: 2, backends: 0 });
    expect(byteLength(healthReport('lb-1', body, 0, 0))).toBeLessThanOrEqual(240);
  });
});
