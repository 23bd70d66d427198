import { describe, expect, it } from 'vitest';
import { ValuePool } from '../src/fleet/value-pool.js';

const tree = () => ({
  term: 'all(b:be_static,b:be_app)',
  value: true,
  children: [{ term: 'b:be_app', value: true, children: [] as unknown[] }],
});

describe('ValuePool', () => {
  it('gives equal values one instance, and leaves different ones apart', () => {
    const pool = new ValuePool();
    const a = pool.share({ routes: [tree()], labels: { site: 'par1' } });
    const b = pool.share({ routes: [tree()], labels: { site: 'ams1' } });
    expect(b.routes).toBe(a.routes);
    expect(b.routes[0]).toBe(a.routes[0]);
    expect(b.labels).not.toBe(a.labels);
    expect(b).toEqual({ routes: [tree()], labels: { site: 'ams1' } });
    // A part that differs deep down keeps the equal parts above it shared below.
    const c = pool.share({ routes: [{ ...tree(), value: false }] });
    expect(c.routes).not.toBe(a.routes);
    expect(c.routes[0]!.children).toBe(a.routes[0]!.children);
  });

  it('does not take keys in another order for the same value', () => {
    const pool = new ValuePool();
    const a = pool.share({ x: 1, y: 2 });
    const b = pool.share({ y: 2, x: 1 });
    expect(b).not.toBe(a);
    expect(Object.keys(b)).toEqual(['y', 'x']);
  });

  it('starts again past its limit, values shared before staying as they are', () => {
    const pool = new ValuePool(4);
    const a = pool.share({ k: ['v'] }); // 3 entries: 'v', ['v'], { k }
    expect(pool.share({ k: ['v'] })).toBe(a);
    pool.share({ i: '0' }); // 5 entries: past the limit, the next share starts again
    const b = pool.share({ k: ['v'] });
    expect(b).toEqual(a);
    expect(b).not.toBe(a);
    expect(pool.share({ k: ['v'] })).toBe(b);
  });
});
