import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BgpPair, HaproxyInstance, UnixBackends } from '@rhi/test-support';
import { retryOnPortClash, startBgpPair, startHaproxy, startUnixBackends, waitFor } from '@rhi/test-support';
import { BirdClient } from '@rhi/bird-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentApp } from '../src/app/agent-app.js';
import { parseConfig } from '../src/config/load.js';
import { recordingLogger } from './support/fakes.js';
import { agentSettled } from './support/agent-settled.js';

// What the agent tells of BIRD, against the real thing: BIRD lost and back, a hand edit of the include
// repaired, BIRD refusing its config, each a logged event and a metric, with /healthz 503 while no change
// can reach the routers; a hung BIRD (a socket that never answers, a stopped BIRD) unreachable after
// bird.timeoutMs (1 s), and a configure that takes longer than that not taken for a hung BIRD.

const VIP = '198.18.200.1/32';

describe('rhi-agent and BIRD going away, drifting, refusing and hanging', () => {
  let backends: UnixBackends;
  let haproxy: HaproxyInstance;
  let pair: BgpPair;
  let dir: string;
  let app: AgentApp | null = null;
  const { logger, records } = recordingLogger();

  const running = () => {
    if (!app) throw new Error('no agent is running');
    return app;
  };
  const configFor = (birdSocket: string, name: string, include = pair.includePath) =>
    parseConfig(
      `node: { name: ${name} }
haproxy: { sockets: [${haproxy.adminSocket}], eventRing: events, pollIntervalMs: 100 }
bird: { socket: ${birdSocket}, include: ${include}, config: ${pair.node.configPath}, tables: { vol1: {} }, reconcileIntervalMs: 1000, exportCheckIntervalMs: 0 }
rules: { file: ${join(dir, 'rules.cfg')} }
allowlist: [198.18.200.0/24]
damping: { rise: { count: 1, ms: 0 }, fall: { count: 1, ms: 0 }, holdDown: false }
policies: { withdrawOnStop: false }
admin: { listen: 127.0.0.1:0, socket: ${join(dir, `${name}.sock`)} }
stateDir: ${join(dir, name)}
`,
      'agent.yaml',
    );
  const since = (mark: number, event: string) => records.slice(mark).filter((r) => r['event'] === event);
  const told = (mark: number, event: string) =>
    waitFor(`the agent to tell ${event}`, () => since(mark, event)[0]);
  const metric = async (name: string) => {
    const text = await running().metrics.registry.metrics();
    return new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1];
  };
  const healthz = async () => {
    const res = await fetch(`http://127.0.0.1:${running().adminAddress?.port}/healthz`);
    return { status: res.status, body: (await res.json()) as { status: string; problems: string[] } };
  };
  const routerHas = (want: string[]) =>
    waitFor(`the router to hold ${want.join(', ') || 'nothing'}`, async () =>
      JSON.stringify(await pair.routerRoutes()) === JSON.stringify(want) ? true : undefined,
    );
  const birdPid = async () => Number(await readFile(join(pair.node.dir, 'node.pid'), 'utf8'));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-agent-bird-health-'));
    backends = await startUnixBackends(1);
    haproxy = await retryOnPortClash(() =>
      startHaproxy({
        sections: () =>
          [
            'backend be_app',
            '    option httpchk GET /',
            `    server s1 unix@${backends.paths[0]} check inter 100 fall 1 rise 1`,
          ].join('\n'),
      }),
    );
    pair = await startBgpPair({ exports: ['vol1'] });
    await writeFile(join(dir, 'rules.cfg'), `${VIP.replace('/32', '')} = all(b:be_app)\n`);
    app = await AgentApp.start({ config: configFor(pair.node.socket, 'lb-bird'), logger, version: 'test' });
    await routerHas([VIP]);
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await Promise.allSettled([haproxy?.stop(), pair?.stop(), backends?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('tells BIRD lost and back, as events and metrics, with /healthz 503 meanwhile', async () => {
    await agentSettled(running);
    expect(await metric('rhi_dependency_up{dependency="bird"}')).toBe('1');
    const mark = records.length;
    await pair.node.halt();
    try {
      expect(await told(mark, 'birdUnreachable')).toMatchObject({ code: 'BIRD_CONNECTION' });
      expect(running().snapshot().bird.reachable).toBe(false);
      expect(await metric('rhi_dependency_up{dependency="bird"}')).toBe('0');
      expect(await metric('rhi_bird_failures_total{kind="unreachable"}')).toBe('1');
      expect(await healthz()).toMatchObject({
        status: 503,
        body: { status: 'fail', problems: [expect.stringMatching(/^bird: /)] },
      });
    } finally {
      await pair.node.start();
    }
    await told(mark, 'birdReachable');
    expect(await metric('rhi_dependency_up{dependency="bird"}')).toBe('1');
    expect(await healthz()).toMatchObject({ status: 200, body: { status: 'pass' } });
    await routerHas([VIP]);
  });

  it('repairs a hand edit of the include, and tells it (event, log and counter)', async () => {
    await agentSettled(running);
    const good = await readFile(pair.includePath, 'utf8');
    const mark = records.length;
    await writeFile(pair.includePath, '# emptied by hand\n');
    expect(await told(mark, 'birdDriftRepaired')).toMatchObject({
      level: 30,
      reason: expect.stringMatching(/^the include file differed from the routes in force/),
    });
    expect(running().snapshot().bird).toEqual({ reachable: true });
    expect(await readFile(pair.includePath, 'utf8')).toBe(good);
    expect(await metric('rhi_bird_drift_repairs_total')).toBe('1');
    // One repair, one event: the reconciles after it (bird-client logs each at debug level) find nothing.
    const after = records.length;
    await waitFor('two more reconciles that changed nothing', () =>
      records.slice(after).filter((r) => r['event'] === 'birdRoutesApplied' && r['wrote'] === false).length >=
      2
        ? true
        : undefined,
    );
    await routerHas([VIP]);
    expect(since(mark, 'birdDriftRepaired')).toHaveLength(1);
  });

  it('counts BIRD refusing its config as BIRD down: metric 0 and /healthz 503 until it takes it again', async () => {
    await agentSettled(running);
    const good = await readFile(pair.node.configPath, 'utf8');
    const mark = records.length;
    try {
      await writeFile(pair.node.configPath, `${good}\nthis is not bird config;\n`);
      await backends.stop(0);
      expect(await told(mark, 'birdConfigError')).toMatchObject({ code: 'BIRD_CONFIG_INVALID' });
      expect(running().snapshot().bird).toMatchObject({ reachable: true, error: expect.any(String) });
      expect(await metric('rhi_dependency_up{dependency="bird"}')).toBe('0');
      expect(await metric('rhi_bird_failures_total{kind="config"}')).toBe('1');
      const health = await healthz();
      expect(health.status).toBe(503);
      expect(health.body.problems).toEqual([
        expect.stringMatching(/^bird refuses its configuration: .*syntax error/),
      ]);
    } finally {
      await writeFile(pair.node.configPath, good);
    }
    await told(mark, 'birdConfigAccepted');
    expect(await metric('rhi_dependency_up{dependency="bird"}')).toBe('1');
    expect((await healthz()).status).toBe(200);
    await routerHas([]);
    await backends.start(0);
    await routerHas([VIP]);
    expect(since(mark, 'birdUnreachable')).toEqual([]);
  });

  it('takes a stopped BIRD for unreachable after bird.timeoutMs (1 s), and a slow configure for a slow one', async () => {
    await agentSettled(running);
    const pid = await birdPid();
    let mark = records.length;
    // A configure BIRD answers after 1.5 s (it is stopped meanwhile): longer than bird.timeoutMs, not hung.
    // Reconciles are held back meanwhile (and any under way finished first): a read sent to the stopped
    // BIRD would rightly count it as hung, and the point here is the configure alone.
    const loop = running().loop;
    const reconcile = loop.reconcile.bind(loop);
    let paused = true;
    let reconciling = 0;
    const held = vi.spyOn(loop, 'reconcile').mockImplementation(async () => {
      if (paused) return;
      reconciling++;
      await reconcile().finally(() => reconciling--);
    });
    const configures: { ms: number; outcome: string }[] = [];
    const configure = BirdClient.prototype.configure;
    const timed = vi.spyOn(BirdClient.prototype, 'configure').mockImplementation(async function (
      this: BirdClient,
      ...args: Parameters<BirdClient['configure']>
    ) {
      const start = performance.now();
      const result = await configure.apply(this, args);
      configures.push({ ms: performance.now() - start, outcome: result.outcome });
      return result;
    });
    try {
      await waitFor('no reconcile under way', () => (reconciling === 0 ? true : undefined));
      process.kill(pid, 'SIGSTOP');
      try {
        await backends.stop(0);
        await waitFor('the agent to plan the withdrawal', () =>
          running()
            .snapshot()
            .routes.every((r) => !r.desired)
            ? true
            : undefined,
        );
        await new Promise((r) => setTimeout(r, 1500));
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await routerHas([]);
      await agentSettled(running);
    } finally {
      paused = false;
      held.mockRestore();
      timed.mockRestore();
    }
    expect(configures).toEqual([{ ms: expect.any(Number), outcome: 'reconfigured' }]);
    expect(configures[0]?.ms).toBeGreaterThan(1000);
    expect(since(mark, 'birdUnreachable')).toEqual([]);
    // Stopped for good: the next reconcile's first read gets no answer, and BIRD counts as unreachable
    // within about a second of it.
    mark = records.length;
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = performance.now();
    try {
      expect(await told(mark, 'birdUnreachable')).toMatchObject({ code: 'BIRD_TIMEOUT' });
      // The reconcile runs every second; the read then waits 1 s.
      expect(performance.now() - stoppedAt).toBeLessThan(3500);
      expect((await healthz()).status).toBe(503);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await told(mark, 'birdReachable');
    await backends.start(0);
    await routerHas([VIP]);
  });

  describe('a BIRD socket that accepts and never answers', () => {
    let hung: Server;
    const sockets: Socket[] = [];
    let other: AgentApp | null = null;
    beforeAll(async () => {
      hung = createServer((s) => sockets.push(s));
      await new Promise<void>((resolve) => hung.listen(join(dir, 'hung.ctl'), resolve));
    });
    afterAll(async () => {
      await other?.stop();
      for (const s of sockets) s.destroy();
      hung?.close();
    });

    it('is unreachable after bird.timeoutMs, not the 5 s of bird-client', async () => {
      const mark = records.length;
      const start = performance.now();
      const starting = AgentApp.start({
        config: configFor(join(dir, 'hung.ctl'), 'lb-hung', join(dir, 'hung-routes.conf')),
        logger,
        version: 'test',
      });
      const unreachable = await told(mark, 'birdUnreachable');
      const after = performance.now() - start;
      other = await starting;
      expect(unreachable).toMatchObject({ code: 'BIRD_TIMEOUT' });
      expect(after).toBeLessThan(2500);
      expect(other.snapshot().bird).toMatchObject({
        reachable: false,
        error: expect.stringMatching(/did not answer "\(greeting\)" within 1000 ms/),
      });
    });
  });
});
