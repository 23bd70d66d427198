import { describe, expect, it } from 'vitest';
import { ControllerConfigSchema, minimumFor } from '../src/config/schema.js';
import { DropLog } from '../src/drop-log.js';
import { TransitionWindow } from '../src/fleet/transitions.js';

describe('TransitionWindow', () => {
  it('counts each node’s transitions within the window only', () => {
    const w = new TransitionWindow(1000);
    for (const t of [0, 100, 900]) w.add('lb1', 'vol1%198.18.200.1/32', t);
    w.add('lb2', 'vol1%198.18.200.1/32', 950);
    expect(w.counts(950)).toEqual(
      new Map([
        ['lb1', 3],
        ['lb2', 1],
      ]),
    );
    // (50, 1050]: 100 and 900 are in, 0 is out.
    expect(w.counts(1050)).toEqual(
      new Map([
        ['lb1', 2],
        ['lb2', 1],
      ]),
    );
    expect(w.counts(5000)).toEqual(new Map());
  });
});

describe('DropLog', () => {
  it('tells the first drop of a kind at once, then one line per interval with the count in between', () => {
    const log = new DropLog(10_000);
    expect(log.drop('schema', 0)).toEqual({ log: true, suppressed: 0 });
    expect(log.drop('schema', 1)).toEqual({ log: false, suppressed: 0 });
    expect(log.drop('stale', 2)).toEqual({ log: true, suppressed: 0 });
    expect(log.drop('schema', 2)).toEqual({ log: false, suppressed: 0 });
    expect(log.drop('schema', 10_001)).toEqual({ log: true, suppressed: 2 });
  });
});

describe('controller config', () => {
  const base = {
    nats: { servers: ['nats://127.0.0.1:4222'], token: 't' },
    api: { tokens: [{ name: 'ops', role: 'viewer', sha256: 'a'.repeat(64) }] },
  };

  it('takes the smallest config, with its defaults', () => {
    const c = ControllerConfigSchema.parse(base);
    expect(c.api.listen).toBe('127.0.0.1:9190');
    expect(c.fleet.heartbeatMs).toBe(5000);
    expect(c.nats.replicas).toBe(1);
  });

  it('refuses an open API, unauthenticated NATS and a token given in clear, naming the path', () => {
    const issues = (v: unknown) =>
      ControllerConfigSchema.safeParse(v).error?.issues.map((i) => i.path.join('.'));
    expect(issues({ ...base, api: { tokens: [] } })).toEqual(['api.tokens']);
    expect(issues({ ...base, nats: { servers: ['nats://127.0.0.1:4222'] } })).toEqual(['nats']);
    expect(
      issues({ ...base, api: { tokens: [{ name: 'ops', role: 'viewer', sha256: 'my-secret-token' }] } }),
    ).toEqual(['api.tokens.0.sha256']);
  });

  it('takes the most specific minimum: the VIP, its table, the default', () => {
    const min = minimumFor({ default: 1, tables: { vol2: 3 }, vips: { 'vol2%198.18.200.1/32': 5 } });
    expect(min('vol2%198.18.200.1/32')).toBe(5);
    expect(min('vol2%198.18.200.2/32')).toBe(3);
    expect(min('vol1%198.18.200.2/32')).toBe(1);
  });
});
