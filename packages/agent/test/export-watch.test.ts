import type { HealthState } from '@rhi/rules-dsl';
import { parse } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import { allowlist } from '../src/core/allowlist.js';
import fc from 'fast-check';
import { diffExports, exportChanges, exportEvents, MAX_EXPORT_EVENTS } from '../src/core/export-changes.js';
import { AgentLoop } from '../src/loop/agent-loop.js';
import type { RouteExport } from '../src/loop/ports.js';
import { FakeClock, FakeInjector, RecordingSink, recordingLogger } from './support/fakes.js';

const rules = parse('198.18.200.1 = b:be_app\n198.18.200.2 = b:be_app\n').ruleSet;
const up: HealthState = { frontends: {}, backends: { be_app: { up: true } } };

/** BIRD as the export check sees it: what each held route is sent to, decided by the test. */
class ExportingInjector extends FakeInjector {
  sentTo: (prefix: string) => string[] = () => ['upstream1'];
  asked = 0;
  answer: 'report' | 'stale' | 'fail' = 'report';
  async exports(): Promise<RouteExport[] | null> {
    this.asked++;
    if (this.answer === 'fail') throw new Error('BIRD is away');
    if (this.answer === 'stale') return null;
    return this.held_.map((r) => {
      const to = this.sentTo(r.prefix);
      return {
        table: r.table,
        prefix: r.prefix,
        family: r.family,
        to,
        problems: to.length ? [] : ['BGP upstream1 does not export it'],
      };
    });
  }
}

async function setup() {
  const clock = new FakeClock();
  const injector = new ExportingInjector();
  const sink = new RecordingSink();
  const { logger, records } = recordingLogger();
  const loop = new AgentLoop({
    injector,
    sink,
    clock,
    logger,
    allowlist: allowlist(['198.18.200.0/24']),
    damping: { rise: { count: 1, ms: 0 }, fall: { count: 1, ms: 0 }, holdDown: null },
    exportCheck: { intervalMs: 10_000, delayMs: 250 },
  });
  await loop.start();
  loop.setRuleSet(rules, { source: 'file', serial: 0 });
  loop.onHealth({ type: 'snapshot', state: up });
  await clock.advance(0);
  return { clock, injector, sink, loop, records };
}

const notExported = (sink: RecordingSink) => sink.events.filter((e) => e.event === 'routeNotExported');

describe('export checks in the loop', () => {
  it('asks BIRD shortly after it took a change, and publishes where each route goes', async () => {
    const { clock, injector, loop, sink } = await setup();
    expect(injector.heldKeys()).toEqual(['vol1%198.18.200.1/32', 'vol1%198.18.200.2/32']);
    expect(injector.asked).toBe(0);
    expect(loop.snapshot().exports).toBeNull();
    await clock.advance(250);
    expect(injector.asked).toBe(1);
    expect(loop.snapshot().exports).toEqual({
      checkedAt: 250,
      routes: [
        expect.objectContaining({ prefix: '198.18.200.1/32', to: ['upstream1'] }),
        expect.objectContaining({ prefix: '198.18.200.2/32', to: ['upstream1'] }),
      ],
    });
    expect(sink.statuses.at(-1)?.exports?.checkedAt).toBe(250);
    expect(notExported(sink)).toEqual([]);
  });

  it('tells once, at warn level, when BIRD holds a route it sends to no router, and when it is sent again', async () => {
    const { clock, injector, sink, records } = await setup();
    injector.sentTo = (prefix) => (prefix === '198.18.200.2/32' ? [] : ['upstream1']);
    await clock.advance(250);
    expect(notExported(sink)).toEqual([
      expect.objectContaining({
        table: 'vol1',
        prefix: '198.18.200.2/32',
        reason: 'BIRD holds it but sends it to no router: BGP upstream1 does not export it',
      }),
    ]);
    expect(records.find((r) => r['event'] === 'routeNotExported')?.['level']).toBe(40);
    await clock.advance(10_250);
    expect(injector.asked).toBe(2);
    expect(notExported(sink)).toHaveLength(1);
    injector.sentTo = () => ['upstream1'];
    await clock.advance(20_250);
    expect(sink.events.filter((e) => e.event === 'routeExported')).toEqual([
      expect.objectContaining({ prefix: '198.18.200.2/32', reason: 'sent again, to upstream1' }),
    ]);
  });

  it('keeps the last answer when a check fails or races an apply, and checks again later', async () => {
    const { clock, injector, loop } = await setup();
    await clock.advance(250);
    const first = loop.snapshot().exports;
    injector.answer = 'fail';
    await clock.advance(10_250);
    injector.answer = 'stale';
    await clock.advance(20_250);
    expect(injector.asked).toBe(3);
    expect(loop.snapshot().exports).toBe(first);
    injector.answer = 'report';
    await clock.advance(30_250);
    expect(loop.snapshot().exports?.checkedAt).toBe(30_250);
  });

  it('stops checking when the loop stops', async () => {
    const { clock, injector, loop } = await setup();
    await loop.stop(false);
    await clock.advance(60_000);
    expect(injector.asked).toBe(0);
  });
});

describe('exportChanges', () => {
  const route = (i: number, to: string[]): RouteExport => ({
    table: 'vol1',
    prefix: `198.18.200.${i}/32`,
    family: 'ipv4',
    to,
    problems: to.length ? [] : ['no routing protocol (BGP, OSPF, RIP, Babel) carries ipv4 routes'],
  });

  it('reports routes not sent at the first check, and nothing for routes that were fine', () => {
    expect(exportChanges(null, [route(1, ['upstream1']), route(2, [])]).map((e) => e.prefix)).toEqual([
      '198.18.200.2/32',
    ]);
    expect(exportChanges([route(1, ['a'])], [route(1, ['a', 'b'])])).toEqual([]);
  });

  it('summarises beyond the first routes, so that a session down at 10,000 routes is not 10,000 lines', () => {
    const many = Array.from({ length: 100 }, (_, i) => route(i, []));
    const events = exportChanges(null, many);
    expect(events).toHaveLength(MAX_EXPORT_EVENTS + 1);
    expect(events.at(-1)).toEqual({
      event: 'routeNotExported',
      reason: `and ${100 - MAX_EXPORT_EVENTS} more routes BIRD holds but sends to no router (rhi-agent status lists them)`,
    });
    const back = exportChanges(
      many,
      many.map((r) => ({ ...r, to: ['upstream1'] })),
    );
    expect(back).toHaveLength(MAX_EXPORT_EVENTS + 1);
    expect(back.every((e) => e.event === 'routeExported')).toBe(true);
  });
});

describe('diffExports', () => {
  const exportArb = fc.record({ to: fc.subarray(['up1', 'up2']), problem: fc.boolean() });
  /** A check's answer: some of 12 routes, in BIRD's (sorted) order, each sent somewhere or nowhere. */
  const checkArb = fc
    .array(fc.option(exportArb, { nil: undefined }), { minLength: 12, maxLength: 12 })
    .map((xs) =>
      xs.flatMap((x, i): RouteExport[] =>
        x === undefined
          ? []
          : [
              {
                table: 'vol1',
                prefix: `198.18.200.${i}/32`,
                family: 'ipv4',
                to: x.to,
                problems: x.problem ? ['p'] : [],
              },
            ],
      ),
    );

  it('keeps each unchanged route (and the whole list when nothing changed) and finds every changed one', () => {
    fc.assert(
      fc.property(checkArb, checkArb, (before, afterShape) => {
        // Routes equal in content to the ones before come as new objects, as BIRD's answers do.
        const after = afterShape.map((r) => ({ ...r, to: [...r.to], problems: [...r.problems] }));
        const { routes, changed } = diffExports(before, after);
        const was = new Map(before.map((r) => [r.prefix, r]));
        const same = (a: RouteExport | undefined, b: RouteExport) => JSON.stringify(a) === JSON.stringify(b);
        expect(routes).toEqual(after);
        after.forEach((r, j) => {
          const old = was.get(r.prefix);
          if (same(old, r)) expect(routes[j]).toBe(old);
          else expect(routes[j]).toBe(r);
        });
        expect(changed).toEqual(
          after.filter((r) => !same(was.get(r.prefix), r)).map((r) => [was.get(r.prefix), r]),
        );
        if (changed.length === 0 && after.length === before.length) expect(routes).toBe(before);
        expect(exportChanges(before, after)).toEqual(exportEvents(changed));
      }),
      { numRuns: 500 },
    );
  });
});
