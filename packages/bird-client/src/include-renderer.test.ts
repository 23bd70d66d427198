import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IncludeRenderer } from './include-renderer.js';
import {
  renderableLayout,
  renderInclude,
  type DesiredRoute,
  type IncludeLayout,
  type RefusedRoute,
  type RefusedTable,
  type RenderedInclude,
} from './render-include.js';
import { changesSince } from './route-diff.js';

const widened = (...args: Parameters<typeof renderableLayout>) => {
  const { layout, refused } = renderableLayout(...args);
  return { layout, tables: refused };
};

/** Layouts a sequence switches between; most steps keep the previous one. */
const layouts: { layout: IncludeLayout; tables: readonly RefusedTable[] }[] = [
  {
    layout: { tables: { vol1: { ipv6: { via: '2001:db8::1' } }, vol2: { ipv4: { via: '198.18.0.254' } } } },
    tables: [],
  },
  // vol2's IPv4 next hop changes, vol3 joins.
  {
    layout: { tables: { vol1: {}, vol2: { ipv4: { via: '198.18.0.253' } }, vol3: {} } },
    tables: [],
  },
  // The same next hop spelled differently: same text, another next hop object.
  {
    layout: { tables: { vol1: { ipv6: { via: '2001:db8:0::1' } }, vol2: { ipv4: { via: '198.18.0.254' } } } },
    tables: [],
  },
  widened(
    { tables: { vol1: { ipv6: { type: 'blackhole' } } } },
    ['vol2', 'vol1_v6', 'vol3'],
    new Map([['vol3', 'protocol']]),
  ),
  { layout: { tables: { vol1: {}, vol1_v6: {} }, dialect: 'bird1', families: ['ipv4'] }, tables: [] },
  {
    layout: {
      tables: { vol1: {}, vol2: {} },
      dialect: 'bird1',
      families: ['ipv6'],
      defaultNextHop: { device: 'dummy0' },
    },
    tables: [],
  },
  {
    layout: { tables: { vol2: {}, vol1: {} }, protocolNames: { ipv4: 'r_{table}', ipv6: 'r6_{table}' } },
    tables: [],
  },
  // Cannot be rendered: an IPv6 next hop for IPv4.
  { layout: { tables: { vol1: { ipv4: { via: '2001:db8::1' } } } }, tables: [] },
];

const prefix4 = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.nat(4), fc.nat(7)).map(([a, b]) => `198.18.${a}.${b}/32`) },
  { weight: 1, arbitrary: fc.constantFrom('198.18.1.0/24', '198.18.0.3', '198.18.0.1/24', '198.18.00.1/32') },
);
const prefix6 = fc.oneof(
  { weight: 6, arbitrary: fc.nat(7).map((x) => `2001:db8::${x}/128`) },
  { weight: 1, arbitrary: fc.constantFrom('2001:0db8:0::3/128', '2001:db8::/64', '2001:db8::1/64', '::') },
);
const bgp = fc.record(
  {
    med: fc.constantFrom(0, 10, 20, 2 ** 32),
    localPref: fc.constantFrom(100, 200),
    communities: fc.array(fc.constantFrom('65000:1', '65000:2', '1:0', '65536:1'), { maxLength: 3 }),
    largeCommunities: fc.array(fc.constantFrom('65000:1:2', '1:2:3', '1:2'), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const route: fc.Arbitrary<DesiredRoute> = fc
  .record({
    table: fc.constantFrom('vol1', 'vol1', 'vol1', 'vol2', 'vol2', 'vol3', 'vol1_v6', 'vol9', 'vol-1'),
    v6: fc.boolean(),
    swapped: fc.nat(15),
    p4: prefix4,
    p6: prefix6,
    bgp: fc.option(bgp, { freq: 2 }),
  })
  .map(({ table, v6, swapped, p4, p6, bgp }) => ({
    table,
    prefix: v6 === (swapped === 0) ? p4 : p6,
    family: v6 ? 'ipv6' : 'ipv4',
    ...(bgp === null ? {} : { bgp }),
  }));

/** One step's edit of the previous desired set. */
const step = fc.record({
  /** Per previous route: 0 drops it, 1 replaces it by an equal new object, else it stays (the same object). */
  fate: fc.array(fc.nat(15), { maxLength: 80 }),
  adds: fc.array(
    fc.record({
      at: fc.nat(),
      route,
      again: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }),
    }),
    {
      maxLength: 5,
    },
  ),
  reverse: fc.nat(20).map((n) => n === 0),
  /** Mostly the same layout (the incremental path); sometimes another one. */
  layout: fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.nat(layouts.length - 1) },
  ),
});

const clone = (r: DesiredRoute): DesiredRoute => structuredClone(r);

function fromScratch(
  routes: readonly DesiredRoute[],
  { layout, tables }: (typeof layouts)[number],
): { rendered: RenderedInclude; refused: RefusedRoute[] } | { error: string } {
  const refused: RefusedRoute[] = [];
  try {
    return { rendered: renderInclude(routes, layout, { refused, tables }), refused };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe('IncludeRenderer', () => {
  it('renders every step of a sequence of desired sets as renderInclude does, with the change plan since the last', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 3, 256),
        fc.constantFrom(1, 2, 5, 128),
        fc.nat(layouts.length - 2),
        fc.array(route, { maxLength: 40 }),
        fc.array(step, { minLength: 1, maxLength: 12 }),
        (spliceLimit, chunkLines, first, initial, steps) => {
          const renderer = new IncludeRenderer({ spliceLimit, chunkLines });
          let choice = layouts[first] ?? layouts[0];
          let routes: DesiredRoute[] = initial;
          let before: RenderedInclude | undefined;
          let seen: DesiredRoute[] = [...initial];
          const check = () => {
            const want = fromScratch(routes, choice ?? { layout: { tables: {} }, tables: [] });
            if ('error' in want) {
              expect(() => renderer.render(routes, choice?.layout ?? { tables: {} }, choice?.tables)).toThrow(
                want.error,
              );
              before = undefined;
              return;
            }
            const got = renderer.render(routes, choice?.layout ?? { tables: {} }, choice?.tables);
            expect(got.rendered.text).toBe(want.rendered.text);
            expect(got.rendered.protocols).toEqual(want.rendered.protocols);
            expect(got.refused.map((r) => r.reason)).toEqual(want.refused.map((r) => r.reason));
            expect(got.refused.every((r, i) => r.route === want.refused[i]?.route)).toBe(true);
            expect(got.since).toBe(before);
            if (before === undefined) {
              expect(got.changes).toEqual(new Map(want.rendered.protocols.map((p) => [p.name, undefined])));
            } else {
              expect(got.changes).toEqual(changesSince(before, want.rendered));
              if (got.rendered === before) expect(got.changes.size).toBe(0);
            }
            before = got.rendered;
          };
          check();
          for (const s of steps) {
            const next: DesiredRoute[] = [];
            routes.forEach((r, i) => {
              const fate = s.fate[i] ?? 2;
              if (fate === 1) next.push(clone(r));
              else if (fate !== 0) next.push(r);
            });
            for (const add of s.adds) {
              const again = add.again === null ? undefined : seen[add.again % seen.length];
              const r = again ?? add.route;
              next.splice(add.at % (next.length + 1), 0, r);
              seen.push(r);
            }
            if (s.reverse) next.reverse();
            if (s.layout !== null) choice = layouts[s.layout];
            routes = next;
            seen = seen.slice(-200);
            check();
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('hands back the previous rendering when nothing changed, and renders a one-route change', () => {
    const layout: IncludeLayout = { tables: { vol1: {} } };
    const renderer = new IncludeRenderer();
    const routes: DesiredRoute[] = Array.from({ length: 100 }, (_, i) => ({
      table: 'vol1',
      prefix: `198.18.0.${i}/32`,
      family: 'ipv4',
    }));
    const first = renderer.render(routes, layout).rendered;
    const same = renderer.render([...routes].reverse(), layout);
    expect(same.rendered).toBe(first);
    expect(same.changes.size).toBe(0);
    const added: DesiredRoute = { table: 'vol1', prefix: '198.18.1.0/24', family: 'ipv4', bgp: { med: 5 } };
    const next = renderer.render([...routes, added], layout);
    expect(next.since).toBe(first);
    expect(next.rendered.text).toBe(renderInclude([...routes, added], layout).text);
    expect(next.changes.get('vol1')?.upserted.map((r) => r.prefix)).toEqual(['198.18.1.0/24']);
    expect(next.changes.get('vol1')?.removed).toEqual([]);
    expect(next.rendered.protocols[1]).toBe(first.protocols[1]);
  });

  it('validates a route object again when one of its fields was reassigned', () => {
    const layout: IncludeLayout = { tables: { vol1: {} } };
    const renderer = new IncludeRenderer();
    const route: { -readonly [K in keyof DesiredRoute]: DesiredRoute[K] } = {
      table: 'vol1',
      prefix: '198.18.0.1/32',
      family: 'ipv4',
    };
    renderer.render([route], layout);
    route.prefix = '198.18.0.2/32';
    expect(renderer.render([route], layout).rendered.text).toBe(renderInclude([route], layout).text);
    route.bgp = { med: 7 };
    expect(renderer.render([route], layout).rendered.text).toBe(renderInclude([route], layout).text);
  });

  it('throws what renderInclude throws for a layout it cannot render, then starts afresh', () => {
    const renderer = new IncludeRenderer();
    const routes: DesiredRoute[] = [{ table: 'vol1', prefix: '198.18.0.1/32', family: 'ipv4' }];
    renderer.render(routes, { tables: { vol1: {} } });
    const broken: IncludeLayout = { tables: { 'vol-1': {} } };
    expect(() => renderInclude(routes, broken)).toThrow(/must be a BIRD symbol/);
    expect(() => renderer.render(routes, broken)).toThrow(/must be a BIRD symbol/);
    expect(renderer.render(routes, { tables: { vol1: {} } }).since).toBeUndefined();
  });
});
