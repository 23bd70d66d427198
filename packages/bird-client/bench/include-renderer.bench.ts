import { describe, test } from 'vitest';
import { IncludeRenderer } from '../src/include-renderer.js';
import {
  renderInclude,
  type DesiredRoute,
  type IncludeLayout,
  type RenderedInclude,
} from '../src/render-include.js';
import { changesSince } from '../src/route-diff.js';

/**
 * CPU only, no BIRD: what `set()` computes for a one-route change before it writes the include. "from
 * scratch" is what `set()` did before the incremental renderer (renderInclude, then changesSince against
 * the last apply, then the text compare); "incremental" is what it does now. Each iteration adds or
 * removes one route; the others are the same objects every time, as the agent passes them.
 */
const layout: IncludeLayout = { tables: { vol1: {}, vol2: { ipv4: { via: '198.18.0.254' } } } };
const route = (i: number): DesiredRoute => ({
  table: 'vol1',
  prefix: `198.18.${128 + (i >> 8)}.${i & 255}/32`,
  family: 'ipv4',
  ...(i % 3 === 0 ? { bgp: { med: 10, communities: ['65000:1'] } } : {}),
});
const OPTIONS = { time: 1000, iterations: 50, warmupIterations: 5 };

for (const n of [1, 1000, 10_000]) {
  describe(`${n} routes`, () => {
    const base = Array.from({ length: n }, (_, i) => route(i + 1));
    const toggled = route(0);

    test(`planning a one-route change, ${n} routes`, { timeout: 120_000 }, async ({ bench }) => {
      const present = [false, false, false];
      let before: RenderedInclude = renderInclude(base, layout, { refused: [] });
      const renderer = new IncludeRenderer();
      let applied = renderer.render(base, layout).rendered;
      const copies = new IncludeRenderer();
      copies.render(base, layout);
      await bench.compare(
        bench(`from scratch (renderInclude + changesSince), ${n} routes`, () => {
          present[0] = !present[0];
          const rendered = renderInclude(present[0] ? [...base, toggled] : base, layout, { refused: [] });
          const plan = changesSince(before, rendered);
          if (rendered.text === before.text || plan.size === 0) throw new Error('no change');
          before = rendered;
        }),
        bench(`incremental (IncludeRenderer), ${n} routes`, () => {
          present[1] = !present[1];
          const r = renderer.render(present[1] ? [...base, toggled] : base, layout);
          if (r.since !== applied || r.changes.size === 0) throw new Error('no change');
          applied = r.rendered;
        }),
        bench(`incremental, every route a new object each time, ${n} routes`, () => {
          present[2] = !present[2];
          const routes = base.map((r) => ({ ...r }));
          const r = copies.render(present[2] ? [...routes, toggled] : routes, layout);
          if (r.changes.size === 0) throw new Error('no change');
        }),
        OPTIONS,
      );
      if (n === 10_000) {
        const lines = renderInclude(base, layout)
          .text.split('\n')
          .filter((l) => l.startsWith('  route'));
        await bench(`join of ${lines.length} cached route lines`, () => {
          if (lines.join('\n').length === 0) throw new Error('empty');
        }).run(OPTIONS);
        renderer.render(base, layout);
        let same = 0;
        await bench(`incremental, nothing changed, ${n} routes`, () => {
          const r = renderer.render(base, layout);
          if (r.rendered !== r.since) throw new Error('changed');
          same++;
        }).run({ ...OPTIONS, warmupIterations: 1 });
        if (same === 0) throw new Error('not run');
      }
    });
  });
}
