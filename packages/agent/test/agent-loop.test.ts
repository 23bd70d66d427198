import type { HealthState } from '@rhi/rules-dsl';
import { format, parse } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import { allowlist } from '../src/core/allowlist.js';
import type { DampingConfig } from '../src/core/damping.js';
import { AgentLoop, BIRD_LOST_RECHECK_MS } from '../src/loop/agent-loop.js';
import { InjectorFailure } from '../src/loop/ports.js';
import { FakeClock, FakeInjector, RecordingSink, recordingLogger, settle } from './support/fakes.js';

const rules = parse(
  '198.18.200.1 = all(f:fe_web, b:be_app)\nvol2%198.18.200.2 = any(b:be_app, b:be_app2)\n198.18.99.1 = true\n',
).ruleSet;
const damping: DampingConfig = { rise: { count: 1, ms: 1000 }, fall: { count: 1, ms: 0 }, holdDown: null };
const health = (app: boolean, app2 = true): HealthState => ({
  frontends: { fe_web: { up: true } },
  backends: { be_app: { up: app, serversUp: app ? 2 : 0, serversTotal: 2 }, be_app2: { up: app2 } },
});

async function setup(held: string[] = []) {
  const clock = new FakeClock();
  const injector = new FakeInjector();
  injector.held_ = held.map((k) => {
    const [table = '', prefix = ''] = k.split('%');
    return { table, prefix, family: 'ipv4' as const };
  });
  const sink = new RecordingSink();
  const { logger, records } = recordingLogger();
  const loop = new AgentLoop({
    injector,
    sink,
    clock,
    logger,
    allowlist: allowlist(['198.18.200.0/24']),
    damping,
    retry: { initialMs: 100, maxMs: 800 },
    reconcileIntervalMs: 30_000,
  });
  await loop.start();
  loop.setRuleSet(rules, { source: 'file', serial: 0 });
  return { clock, injector, sink, loop, records };
}

describe('agent loop', () => {
  it('announces healthy routes after the rise, never the ones outside the allowlist', async () => {
    const { clock, injector, loop, sink } = await setup();
    loop.onHealth({ type: 'snapshot', state: health(true), pid: 10 });
    await settle();
    expect(injector.heldKeys()).toEqual([]);
    await clock.advance(1000);
    expect(injector.heldKeys()).toEqual(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    expect(sink.names()).toContain('routeAnnounced 198.18.200.1/32');
    expect(loop.snapshot().routes.find((r) => r.prefix === '198.18.99.1/32')).toMatchObject({
      allowed: false,
      desired: false,
    });
  });

  it('withdraws at once when a backend dies, with the reason logged as an object', async () => {
    const { clock, injector, loop, records } = await setup(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await settle();
    await clock.advance(50);
    loop.onHealth({ type: 'snapshot', state: health(false) });
    await settle();
    expect(injector.heldKeys()).toEqual(['vol2%198.18.200.2/32']);
    expect(records).toContainEqual(
      expect.objectContaining({
        event: 'routeWithdrawn',
        prefix: '198.18.200.1/32',
        table: 'vol1',
        reason: 'b:be_app down',
      }),
    );
  });

  it('hands a change to BIRD before it logs or publishes it', async () => {
    const { clock, injector, loop, sink } = await setup(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await settle();
    await clock.advance(50);
    const before = injector.sets.length;
    let setsWhenPublished = -1;
    const publish = sink.event.bind(sink);
    sink.event = (e) => {
      if (e.event === 'routeWithdrawn') setsWhenPublished = injector.sets.length;
      publish(e);
    };
    loop.onHealth({ type: 'snapshot', state: health(false) });
    expect(setsWhenPublished).toBe(before + 1);
  });

  it('keeps healthy routes BIRD held at start (crash restart): BIRD never loses them', async () => {
    const { injector, loop } = await setup(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await settle();
    expect(injector.history).toEqual([['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']]);
  });

  it('fails closed when HAProxy is unreachable', async () => {
    const { injector, loop, sink } = await setup(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    loop.onHealth({ type: 'unreachable', error: 'connect ECONNREFUSED /run/haproxy/admin.sock' });
    await settle();
    expect(injector.heldKeys()).toEqual([]);
    expect(sink.names()).toContain('haproxyUnreachable');
    expect(loop.snapshot().haproxy).toEqual({
      reachable: false,
      error: 'connect ECONNREFUSED /run/haproxy/admin.sock',
    });
  });

  it('keeps retrying with backoff while BIRD refuses, and never loses the desired state', async () => {
    const { clock, injector, loop, sink, records } = await setup([
      'vol1%198.18.200.1/32',
      'vol2%198.18.200.2/32',
    ]);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    injector.failNext = 3;
    loop.onHealth({ type: 'snapshot', state: health(false) });
    await settle();
    expect(injector.heldKeys()).toHaveLength(2);
    expect(loop.snapshot().bird.reachable).toBe(false);
    await clock.advance(100);
    await clock.advance(300);
    expect(injector.heldKeys()).toHaveLength(2);
    await clock.advance(700);
    expect(injector.heldKeys()).toEqual(['vol2%198.18.200.2/32']);
    expect(sink.names().filter((n) => n.startsWith('bird'))).toEqual(['birdUnreachable', 'birdReachable']);
    // Three failed applies, one error logged with its stack; the retries only at debug level.
    expect(records.filter((r) => r['err'] !== undefined)).toEqual([
      expect.objectContaining({ event: 'birdUnreachable', level: 40 }),
    ]);
    expect(records.filter((r) => r['event'] === 'birdStillFailing')).toHaveLength(2);
  });

  it('hands the injector the tables the rule set uses', async () => {
    const { injector, loop } = await setup();
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await settle();
    expect(injector.tables.at(-1)).toEqual(['vol1', 'vol2']);
    loop.setRuleSet(parse('eth0%2001:db8::1 = true\n198.18.200.1 = true\n').ruleSet, {
      source: 'file',
      serial: 0,
    });
    await settle();
    expect(injector.tables.at(-1)).toEqual(['eth0', 'vol1']);
  });

  it('leaves out a route the injector refuses, tells it once, and applies the rest', async () => {
    const { clock, injector, loop, sink, records } = await setup();
    injector.refuse = (r) => (r.table === 'vol2' ? "table 'vol2' cannot be rendered: ..." : undefined);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await clock.advance(1000);
    expect(injector.heldKeys()).toEqual(['vol1%198.18.200.1/32']);
    const refused = {
      table: 'vol2',
      prefix: '198.18.200.2/32',
      family: 'ipv4',
      reason: "table 'vol2' cannot be rendered: ...",
    };
    expect(loop.snapshot().refused).toEqual([refused]);
    expect(loop.snapshot().inBird?.map((r) => r.prefix)).toEqual(['198.18.200.1/32']);
    // Another apply (198.18.200.1 withdrawn, then back): still told once.
    loop.onHealth({ type: 'snapshot', state: health(false) });
    await settle();
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await clock.advance(3000);
    expect(injector.sets.length).toBeGreaterThanOrEqual(3);
    expect(sink.events.filter((e) => e.event === 'routeRefused')).toEqual([
      expect.objectContaining({ table: 'vol2', prefix: '198.18.200.2/32', reason: refused.reason }),
    ]);
    expect(records.filter((r) => r['event'] === 'routeRefused')).toEqual([
      expect.objectContaining({
        level: 50,
        table: 'vol2',
        prefix: '198.18.200.2/32',
        reason: refused.reason,
      }),
    ]);
    expect(loop.snapshot().bird).toEqual({ reachable: true });
    injector.refuse = () => undefined;
    loop.onHealth({ type: 'snapshot', state: health(false) });
    await settle();
    expect(loop.snapshot().refused).toEqual([]);
    expect(records).toContainEqual(expect.objectContaining({ event: 'routeRefusalCleared', table: 'vol2' }));
  });

  it('tells routeAnnounced only once BIRD holds the route: not for one refused, nor before a failed apply succeeds', async () => {
    const { clock, injector, loop, sink, records } = await setup();
    const told = (prefix: string) => sink.events.filter((e) => e.prefix === prefix).map((e) => e.event);
    const logged = () => records.filter((r) => r['event'] === 'routeAnnounced').map((r) => r['prefix']);
    const refuseVol2 = (r: { table: string }) =>
      r.table === 'vol2' ? "table 'vol2' cannot be rendered: ..." : undefined;
    injector.refuse = refuseVol2;
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await clock.advance(1000);
    expect(injector.heldKeys()).toEqual(['vol1%198.18.200.1/32']);
    expect(told('198.18.200.1/32')).toEqual(['routeAnnounced']);
    expect(told('198.18.200.2/32')).toEqual(['routeRefused']);
    expect(logged()).toEqual(['198.18.200.1/32']);
    // Withdrawn while refused: it never was announced, so no withdrawal is told either.
    loop.onHealth({ type: 'snapshot', state: health(false, false) });
    await settle();
    expect(told('198.18.200.1/32')).toEqual(['routeAnnounced', 'routeWithdrawn']);
    expect(told('198.18.200.2/32')).toEqual(['routeRefused']);
    // Back, the refusal over, but BIRD away: told once BIRD has taken it, not when planned.
    injector.refuse = () => undefined;
    injector.unreachable = true;
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await clock.advance(clock.now() + 1000);
    expect(told('198.18.200.2/32')).toEqual(['routeRefused']);
    injector.unreachable = false;
    await clock.advance(clock.now() + 1000);
    expect(injector.heldKeys()).toEqual(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    expect(told('198.18.200.2/32')).toEqual(['routeRefused', 'routeAnnounced']);
    expect(logged()).toEqual(['198.18.200.1/32', '198.18.200.1/32', '198.18.200.2/32']);
    // An announced route refused later has left BIRD: told as withdrawn, and announced again once taken.
    injector.refuse = refuseVol2;
    loop.setRuleSet(parse(`${format(rules)}198.18.200.3 = true\n`).ruleSet, { source: 'file', serial: 0 });
    await clock.advance(clock.now() + 1000);
    expect(injector.heldKeys()).toEqual(['vol1%198.18.200.1/32', 'vol1%198.18.200.3/32']);
    expect(told('198.18.200.2/32')).toEqual([
      'routeRefused',
      'routeAnnounced',
      'routeRefused',
      'routeWithdrawn',
    ]);
    // The next apply (198.18.200.1 withdrawn) takes it.
    injector.refuse = () => undefined;
    loop.onHealth({ type: 'snapshot', state: health(false, true) });
    await settle();
    expect(injector.heldKeys()).toEqual(['vol1%198.18.200.3/32', 'vol2%198.18.200.2/32']);
    expect(told('198.18.200.2/32').at(-1)).toBe('routeAnnounced');
  });

  it('reports BIRD refusing its config as birdConfigError, once with its error, never as unreachable', async () => {
    const { clock, injector, loop, sink, records } = await setup([
      'vol1%198.18.200.1/32',
      'vol2%198.18.200.2/32',
    ]);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await settle();
    const message = 'BIRD configuration error: /etc/bird/bird.conf:23:1 syntax error';
    injector.failWith = new InjectorFailure('config', 'BIRD_CONFIG_INVALID', message);
    loop.onHealth({ type: 'snapshot', state: health(false) });
    await clock.advance(100 + 200 + 400 + 800);
    expect(injector.heldKeys()).toHaveLength(2);
    expect(loop.snapshot().bird).toEqual({ reachable: true, error: message });
    expect(records.filter((r) => r['err'] !== undefined)).toEqual([
      expect.objectContaining({ event: 'birdConfigError', code: 'BIRD_CONFIG_INVALID', level: 50 }),
    ]);
    expect(records.filter((r) => r['event'] === 'birdStillFailing').length).toBeGreaterThanOrEqual(3);
    injector.failWith = null;
    await clock.advance(clock.now() + 800);
    expect(injector.heldKeys()).toEqual(['vol2%198.18.200.2/32']);
    expect(loop.snapshot().bird).toEqual({ reachable: true });
    expect(sink.names().filter((n) => n.startsWith('bird'))).toEqual([
      'birdConfigError',
      'birdConfigAccepted',
    ]);
  });

  it('tells loudly that BIRD refusing its config made the injector disable protocols, and when they are enabled again', async () => {
    const { clock, injector, loop, sink, records } = await setup([
      'vol1%198.18.200.1/32',
      'vol2%198.18.200.2/32',
    ]);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await settle();
    const message = 'BIRD configuration error: /etc/bird/bird.conf:23:1 syntax error';
    const disabled = [
      { protocol: 'vol1', table: 'vol1', family: 'ipv4', withdrawn: ['198.18.200.1/32'], alsoWithdrawn: [] },
      // A protocol that also held a route still wanted: it went with it.
      {
        protocol: 'vol2',
        table: 'vol2',
        family: 'ipv4',
        withdrawn: ['198.18.200.9/32'],
        alsoWithdrawn: ['198.18.200.2/32'],
      },
    ] as const;
    injector.failWith = new InjectorFailure('config', 'BIRD_CONFIG_INVALID', message, { disabled });
    loop.onHealth({ type: 'snapshot', state: health(false) });
    await settle();
    expect(records.filter((r) => r['event'] === 'birdProtocolDisabled')).toEqual([
      expect.objectContaining({
        level: 50,
        protocol: 'vol1',
        withdrawn: ['198.18.200.1/32'],
        reason: message,
      }),
      expect.objectContaining({ level: 50, protocol: 'vol2', alsoWithdrawn: ['198.18.200.2/32'] }),
    ]);
    expect(loop.snapshot().bird).toEqual({ reachable: true, error: message, disabled: ['vol1', 'vol2'] });
    expect(loop.snapshot().inBird).toEqual([]);
    expect(sink.names()).toEqual(
      expect.arrayContaining([
        'routeWithdrawn 198.18.200.1/32',
        'birdProtocolDisabled',
        'routeWithdrawn 198.18.200.2/32',
      ]),
    );
    // The retries disable nothing more; once an apply goes through, the protocols are enabled again.
    injector.failWith = new InjectorFailure('config', 'BIRD_CONFIG_INVALID', message);
    await clock.advance(clock.now() + 100 + 200);
    expect(records.filter((r) => r['event'] === 'birdProtocolDisabled')).toHaveLength(2);
    // The dead VIP back (after the rise) while BIRD still refuses: the set BIRD last took is desired again,
    // but BIRD no longer holds it, so the applies go on until one goes through.
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await clock.advance(clock.now() + 1000);
    injector.failWith = null;
    injector.enableNext = ['vol1', 'vol2'];
    await clock.advance(clock.now() + 800);
    expect(injector.heldKeys()).toEqual(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    expect(records.filter((r) => r['event'] === 'birdProtocolEnabled')).toEqual([
      expect.objectContaining({ level: 40, protocol: 'vol1', table: 'vol1' }),
      expect.objectContaining({ level: 40, protocol: 'vol2', table: 'vol2' }),
    ]);
    expect(loop.snapshot().bird).toEqual({ reachable: true });
    expect(sink.events.filter((e) => e.prefix === '198.18.200.2/32').map((e) => e.event)).toEqual([
      'routeWithdrawn',
      'routeAnnounced',
    ]);
  });

  it('withdraws on a clean stop through the disabled protocols when BIRD refuses its config', async () => {
    const { injector, loop, records } = await setup(['vol1%198.18.200.1/32']);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await settle();
    injector.failWith = new InjectorFailure('config', 'BIRD_CONFIG_INVALID', 'BIRD configuration error', {
      disabled: [
        {
          protocol: 'vol1',
          table: 'vol1',
          family: 'ipv4',
          withdrawn: ['198.18.200.1/32'],
          alsoWithdrawn: [],
        },
      ],
    });
    await loop.stop(true);
    expect(records).toContainEqual(
      expect.objectContaining({ event: 'birdProtocolDisabled', protocol: 'vol1' }),
    );
    injector.failWith = new InjectorFailure('config', 'BIRD_CONFIG_INVALID', 'BIRD configuration error');
    await expect(loop.stop(true)).rejects.toThrow('BIRD configuration error');
  });

  it('coalesces changes that arrive while BIRD is busy: the newest desired set wins', async () => {
    const { injector, loop } = await setup(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    let open!: () => void;
    injector.gate = new Promise((r) => (open = r));
    loop.onHealth({ type: 'snapshot', state: health(false, true) });
    loop.onHealth({ type: 'snapshot', state: health(false, false) });
    await settle();
    injector.gate = null;
    open();
    await settle();
    await settle();
    expect(injector.sets.map((s) => s.length)).toEqual([2, 0]);
    expect(injector.heldKeys()).toEqual([]);
  });

  it('drains and undrains without waiting for a rise', async () => {
    const { injector, loop, sink } = await setup(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    loop.drain('maintenance');
    await settle();
    expect(injector.heldKeys()).toEqual([]);
    loop.undrain();
    await settle();
    expect(injector.heldKeys()).toHaveLength(2);
    expect(sink.names()).toEqual(expect.arrayContaining(['drained', 'undrained']));
  });

  it('drains gracefully: de-prefers, then withdraws once sessions fall (or at the timeout)', async () => {
    const { clock, injector, loop, sink } = await setup(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    loop.onHealth({ type: 'snapshot', state: health(true), sessions: 40 });
    loop.drain('kernel upgrade', { waitSessions: 5, timeoutMs: 30_000 });
    await settle();
    expect(injector.held_.map((r) => r.attributes)).toEqual([
      { med: 4294967294, localPref: 0 },
      { med: 4294967294, localPref: 0 },
    ]);
    loop.onHealth({ type: 'snapshot', state: health(true), sessions: 12 });
    await settle();
    expect(injector.heldKeys()).toHaveLength(2);
    loop.onHealth({ type: 'snapshot', state: health(true), sessions: 3 });
    await settle();
    expect(injector.heldKeys()).toEqual([]);
    expect(sink.events.find((e) => e.event === 'drained')?.reason).toBe(
      'kernel upgrade (sessions fell to 3)',
    );
    loop.undrain();
    // A count from a read sent before the drain began says nothing about the connections since.
    const before = clock.now();
    await clock.advance(before + 10);
    loop.drain('once more', { waitSessions: 5, timeoutMs: 30_000 });
    loop.onHealth({ type: 'snapshot', state: health(true), sessions: 0, sessionsReadAt: before });
    await settle();
    expect(injector.heldKeys()).toHaveLength(2);
    loop.onHealth({ type: 'snapshot', state: health(true), sessions: 0, sessionsReadAt: clock.now() });
    await settle();
    expect(injector.heldKeys()).toEqual([]);
    loop.undrain();
    loop.drain('again', { waitSessions: 0, timeoutMs: 1000 });
    loop.onHealth({ type: 'snapshot', state: health(true), sessions: 9 });
    await settle();
    expect(injector.heldKeys()).toHaveLength(2);
    await clock.advance(clock.now() + 1000);
    expect(injector.heldKeys()).toEqual([]);
    expect(sink.events.filter((e) => e.event === 'drained').at(-1)?.reason).toBe(
      'again (timed out waiting for sessions to fall)',
    );
  });

  it('reports a drain in its snapshot: the count awaited, the last one read since it began, the deadline', async () => {
    const { clock, loop } = await setup(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    const before = clock.now();
    loop.onHealth({ type: 'snapshot', state: health(true), sessions: 40, sessionsReadAt: before });
    expect(loop.snapshot().drain).toBeNull();
    await clock.advance(before + 10);
    loop.drain('upgrade', { waitSessions: 5, timeoutMs: 30_000 });
    const since = before + 10;
    const waiting = { mode: 'deprefer', reason: 'upgrade', since, waitSessions: 5, deadline: since + 30_000 };
    expect(loop.snapshot().drain).toEqual(waiting);
    // A read sent before the drain began is not its progress.
    loop.onHealth({ type: 'snapshot', state: health(true), sessions: 40, sessionsReadAt: before });
    expect(loop.snapshot().drain).toEqual(waiting);
    loop.onHealth({ type: 'snapshot', state: health(true), sessions: 12, sessionsReadAt: clock.now() });
    expect(loop.snapshot().drain).toEqual({ ...waiting, sessions: 12 });
    loop.onHealth({ type: 'snapshot', state: health(true), sessions: 2, sessionsReadAt: clock.now() });
    // Drained since it was asked for, not since the wait ended.
    expect(loop.snapshot().drain).toEqual({
      mode: 'withdraw',
      reason: 'upgrade (sessions fell to 2)',
      since,
    });
    loop.undrain();
    expect(loop.snapshot().drain).toBeNull();
    loop.drain('maintenance');
    expect(loop.snapshot().drain).toEqual({ mode: 'withdraw', reason: 'maintenance', since: clock.now() });
  });

  it('repairs BIRD when it drifted (restarted with nothing), and tells each repair once', async () => {
    const { clock, injector, loop, sink, records } = await setup([
      'vol1%198.18.200.1/32',
      'vol2%198.18.200.2/32',
    ]);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await settle();
    injector.held_ = [];
    await clock.advance(30_000);
    expect(injector.heldKeys()).toEqual(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    expect(sink.events.filter((e) => e.event === 'birdDriftRepaired')).toEqual([
      expect.objectContaining({ reason: 'BIRD held nothing' }),
    ]);
    expect(records.filter((r) => r['event'] === 'birdDriftRepaired')).toEqual([
      expect.objectContaining({ level: 30, reason: 'BIRD held nothing' }),
    ]);
    // Nothing drifted since: no repair to tell.
    await clock.advance(30_000);
    expect(sink.events.filter((e) => e.event === 'birdDriftRepaired')).toHaveLength(1);
  });

  it('repairs BIRD within BIRD_LOST_RECHECK_MS of losing its connection, not at the next interval', async () => {
    const { clock, injector, loop, sink } = await setup(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await settle();
    await clock.advance(1_000);
    // BIRD restarted without the routes, and the agent's connection to it ended.
    injector.held_ = [];
    const lostAt = clock.now();
    loop.birdConnectionLost();
    await clock.advance(lostAt + BIRD_LOST_RECHECK_MS - 1);
    expect(injector.heldKeys()).toEqual([]);
    await clock.advance(lostAt + BIRD_LOST_RECHECK_MS);
    expect(injector.heldKeys()).toEqual(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    expect(sink.events.filter((e) => e.event === 'birdDriftRepaired')).toHaveLength(1);
    // The interval starts again after the early check: no reconcile before it has passed.
    const reconciles = injector.reconciles.length;
    await clock.advance(lostAt + BIRD_LOST_RECHECK_MS + 29_999);
    expect(injector.reconciles).toHaveLength(reconciles);
    await clock.advance(lostAt + BIRD_LOST_RECHECK_MS + 30_000);
    expect(injector.reconciles).toHaveLength(reconciles + 1);
  });

  it('does not take a failed apply carried out by the reconcile for drift', async () => {
    const { clock, injector, loop, sink } = await setup();
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await clock.advance(1000);
    expect(injector.heldKeys()).toHaveLength(2);
    // Every set() fails from now on; the reconcile (which this fake lets through) restores the last one.
    injector.failWith = new InjectorFailure('config', 'BIRD_CONFIG_INVALID', 'bird.conf:3:1 syntax error');
    loop.onHealth({ type: 'snapshot', state: health(false) });
    await settle();
    injector.held_ = [];
    await clock.advance(30_000);
    expect(injector.reconciles.length).toBeGreaterThan(0);
    expect(sink.names()).toContain('birdConfigError');
    expect(sink.events.filter((e) => e.event === 'birdDriftRepaired')).toEqual([]);
  });

  it('withdraws everything on a clean stop', async () => {
    const { injector, loop, sink } = await setup(['vol1%198.18.200.1/32', 'vol2%198.18.200.2/32']);
    loop.onHealth({ type: 'snapshot', state: health(true) });
    await settle();
    await loop.stop(true);
    expect(injector.heldKeys()).toEqual([]);
    expect(sink.names().filter((n) => n.startsWith('routeWithdrawn'))).toHaveLength(2);
  });

  it('acts on nothing before the first health reading', async () => {
    const { injector, clock } = await setup(['vol1%198.18.200.1/32']);
    await clock.advance(60_000);
    expect(injector.sets).toEqual([]);
    expect(injector.heldKeys()).toEqual(['vol1%198.18.200.1/32']);
  });
});
