import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backends, BgpPair, HaproxyInstance } from '@rhi/test-support';
import {
  freePort,
  retryOnPortClash,
  routerCaughtUp,
  startBackends,
  startBgpPair,
  startHaproxy,
  waitFor,
} from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The `rhi-agent` binary itself (built dist/, as installed), against real haproxy and bird2: run under
// signals, check, status, explain, drain, undrain.

const bin = fileURLToPath(new URL('../bin/rhi-agent.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/cli/main.js', import.meta.url)));
if (!built)
  console.warn(
    'cli.daemons.test.ts: dist/ is missing; nx runs `build` before `test` (nx run @rhi/agent:test)',
  );

const VIP = '198.18.200.1/32';

describe.runIf(built)('the rhi-agent binary', () => {
  let backends: Backends;
  let haproxy: HaproxyInstance;
  let pair: BgpPair;
  let dir: string;
  let configPath: string;
  let adminPort: number;
  let agent: ChildProcess;
  /** What the running agent printed (stdout and stderr). */
  let output = '';
  const state = async (file: string) =>
    JSON.parse(await readFile(join(dir, file), 'utf8')) as Record<string, unknown>;
  // Every agent started, so that one left running by a failed test is stopped too, and when each one has
  // exited with its output all read ('close', which comes after 'exit').
  const started: ChildProcess[] = [];
  const closed = new Map<ChildProcess, Promise<number | null>>();
  const ended = (child: ChildProcess) => closed.get(child) ?? Promise.resolve(child.exitCode);
  // The CLI finds the agent through admin.listen, so the port is fixed in the config; it is free when
  // chosen, but another process may bind it before the agent does: then the agent is started again on
  // another one.
  const writeConfig = async (port: number) => {
    adminPort = port;
    await writeFile(
      configPath,
      `node: { name: cli-it }
haproxy: { sockets: [${haproxy.adminSocket}], pollIntervalMs: 100 }
bird: { socket: ${pair.node.socket}, include: ${pair.includePath}, config: ${pair.node.configPath}, tables: { vol1: {} } }
rules: { file: ${join(dir, 'rules.cfg')} }
allowlist: [198.18.200.0/24]
damping: { rise: { count: 1, ms: 0 } }
admin: { listen: 127.0.0.1:${port} }
stateDir: ${dir}
`,
    );
  };
  /** Starts `rhi-agent run` and resolves once it runs (it logs agentStarted once its admin endpoint listens). */
  const startAgent = async () => {
    for (let attempt = 1; ; attempt++) {
      const child = spawn(process.execPath, [bin, 'run', '--config', configPath], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.push(child);
      closed.set(child, new Promise((resolve) => child.once('close', (code) => resolve(code))));
      agent = child;
      let own = '';
      const add = (c: Buffer) => {
        own += c.toString();
        if (agent === child) output += c.toString();
      };
      child.stdout?.on('data', add);
      child.stderr?.on('data', add);
      await waitFor('the agent to start', () =>
        own.includes('"event":"agentStarted"') || child.exitCode !== null || child.signalCode !== null
          ? true
          : undefined,
      );
      if (own.includes('"event":"agentStarted"')) return;
      await ended(child);
      if (attempt === 3 || !own.includes('EADDRINUSE')) throw new Error(`the agent did not start:\n${own}`);
      await writeConfig(await freePort());
    }
  };
  /** For a test that starts its own agent: one left running by a failed assertion would run beside the next. */
  const killLeftover = async () => {
    if (agent.exitCode !== null || agent.signalCode !== null) return;
    agent.kill('SIGKILL');
    await ended(agent);
  };
  const stopAgent = async () => {
    const exited = ended(agent);
    agent.kill('SIGTERM');
    return exited;
  };
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args, '--config', configPath], {
      encoding: 'utf8',
      timeout: 20_000,
    });
  const routerHas = (want: string[]) =>
    waitFor(`the router to hold ${want.join(', ') || 'nothing'}`, async () =>
      JSON.stringify(await pair.routerRoutes()) === JSON.stringify(want) ? true : undefined,
    );
  /** The running agent has handed BIRD its first plan (BIRD took it: the decision latency was observed). */
  const firstApplied = () =>
    waitFor('the agent to apply its first plan', async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      return Number(/^rhi_decision_latency_seconds_count (\d+)$/m.exec(metrics)?.[1]) >= 1 ? true : undefined;
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-cli-it-'));
    backends = await startBackends(1);
    // startHaproxy binds ports that freePort() chose and released: retried on a clash.
    haproxy = await retryOnPortClash(() =>
      startHaproxy({
        sections: (haproxyDir) =>
          [
            'frontend fe_web',
            `    bind unix@${join(haproxyDir, 'web.sock')}`,
            '    default_backend be_app',
            'backend be_app',
            `    server s1 127.0.0.1:${backends.ports[0]} check inter 100 fall 1 rise 1`,
          ].join('\n'),
      }),
    );
    pair = await startBgpPair({ exports: ['vol1'] });
    await writeFile(join(dir, 'rules.cfg'), '198.18.200.1 = all(f:fe_web, b:be_app)\n');
    configPath = join(dir, 'agent.yaml');
    await writeConfig(await freePort());
    await startAgent();
  }, 60_000);

  afterAll(async () => {
    for (const a of started) if (a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
    await Promise.allSettled([haproxy?.stop(), pair?.stop(), backends?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('is one ES module with no CommonJS path globals left in it', async () => {
    // Inlined CommonJS code that reads them throws a ReferenceError at run time (rolldown.config.mjs).
    const bundle = await readFile(fileURLToPath(new URL('../dist/rhi-agent.mjs', import.meta.url)), 'utf8');
    expect(bundle.match(/\b__(?:file|dir)name\b/g) ?? []).toEqual([]);
  });

  it('runs, and its status shows the route advertised and held by BIRD', async () => {
    await routerHas([VIP]);
    // The router can have the route a moment before the agent has BIRD's answer.
    const status = await waitFor('the status to show the route held', () => {
      const run = cli('status');
      return run.status === 0 && /198\.18\.200\.1\/32\s+holds\s+yes\s+yes/.test(run.stdout) ? run : undefined;
    });
    expect(status.stdout).toMatch(/198\.18\.200\.1\/32\s+holds\s+yes\s+yes\s+f:fe_web up, b:be_app up/);
    await waitFor('the agent to log the announcement', () =>
      output.includes('"event":"routeAnnounced"') ? true : undefined,
    );
  });

  it('persists the rule set it runs, for a boot without the controller', async () => {
    await waitFor('ruleset.json', async () => (existsSync(join(dir, 'ruleset.json')) ? true : undefined));
    expect(await state('ruleset.json')).toMatchObject({ schema: 'rhi.v1.persisted-ruleset', source: 'file' });
    expect(output).not.toContain('stateWriteFailed');
  });

  it('passes its own checklist', () => {
    const check = cli('check');
    expect(check.stdout).not.toContain('[FAIL]');
    expect(check.stdout).toContain('BIRD config includes our route file');
    expect(check.stdout).toContain('1 rule, 1 route');
    expect(check.stdout).toMatch(
      /\[warn\] no filter matches protocol vol1_v6 .*carries no route of the current rules/,
    );
    expect(check.status).toBe(0);
  });

  it('explains a route from the live HAProxy', () => {
    const explain = cli('explain', '198.18.200.1');
    expect(explain.status).toBe(0);
    expect(explain.stdout).toContain('├─ f:fe_web: true (up (OPEN))');
  });

  it('drains and undrains the running agent', async () => {
    expect(cli('drain', '--reason', 'test').status).toBe(0);
    await routerHas([]);
    expect(await state('drain.json')).toMatchObject({ drained: true, reason: 'test' });
    expect(cli('undrain').status).toBe(0);
    await routerHas([VIP]);
    expect(await state('drain.json')).toMatchObject({ drained: false });
    expect(output).not.toContain('stateWriteFailed');
  });

  it('fails the checklist when a protocol that carries routes is not exported', async () => {
    await writeFile(join(dir, 'v6.cfg'), '198.18.200.1 = all(b:be_app)\n2001:db8::1 = all(b:be_app)\n');
    const check = spawnSync(
      process.execPath,
      [bin, 'check', '--config', configPath, '--set', `rules.file=${join(dir, 'v6.cfg')}`],
      { encoding: 'utf8' },
    );
    expect(check.stdout).toMatch(/\[FAIL\] no filter matches protocol vol1_v6/);
    expect(check.status).toBe(1);
  });

  it('reports a bad configuration with its place and exit status 2', async () => {
    await writeFile(join(dir, 'bad.yaml'), 'node: { name: "lb 1" }\n');
    const run = spawnSync(process.execPath, [bin, 'check', '--config', join(dir, 'bad.yaml')], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('bad.yaml:1:15: node.name: expected 1-64 letters, digits, - or _');
  });

  it('withdraws its routes on SIGTERM and exits 0', async () => {
    expect(await stopAgent()).toBe(0);
    // Withdrawn from BIRD before the agent exited; the router learns it over BGP a moment later.
    expect(await pair.node.command('show route protocol vol1')).not.toContain('198.18.200.1/32');
    await routerHas([]);
    expect(output).toContain('"event":"agentStopping"');
  });

  it('keeps the route through a crash and restart: the peer sees no withdraw', async () => {
    try {
      await startAgent();
      await routerHas([VIP]);
      const before = await routerCaughtUp(pair);
      expect(before.updates).toBeGreaterThan(0);
      const crashed = ended(agent);
      agent.kill('SIGKILL');
      await crashed;
      output = '';
      await startAgent();
      await waitFor('the restarted agent to hold the route', async () => {
        const status = cli('status');
        return /198\.18\.200\.1\/32\s+holds\s+yes\s+yes/.test(status.stdout) ? true : undefined;
      });
      // BIRD already held the route when the agent started, so the status says so before the agent has
      // set anything: wait until its first plan is in BIRD and the router has whatever came of it.
      await firstApplied();
      expect(await routerCaughtUp(pair)).toEqual(before);
      expect(await pair.routerRoutes()).toEqual([VIP]);
      expect(await stopAgent()).toBe(0);
    } finally {
      await killLeftover();
    }
  });

  // AgentApp.restoreState once applied the rule set before it restored the drain: with `rise.ms: 0` a
  // drained agent that restarted announced its routes and withdrew them a moment later (one update and
  // one withdraw more at the router, 8 times out of 8).
  it('stays drained across a restart, announcing nothing meanwhile', async () => {
    try {
      await startAgent();
      await routerHas([VIP]);
      expect(cli('drain', '--reason', 'maintenance').status).toBe(0);
      await routerHas([]);
      expect(await stopAgent()).toBe(0);
      const before = await routerCaughtUp(pair);
      output = '';
      await startAgent();
      expect(cli('status').stdout).toMatch(/drained:\s+yes/);
      // Still withdrawn once the restarted agent's first plan is in BIRD, and the router got nothing.
      await firstApplied();
      expect(await routerCaughtUp(pair)).toEqual(before);
      expect(await pair.routerRoutes()).toEqual([]);
      expect(cli('undrain').status).toBe(0);
      await routerHas([VIP]);
      expect(await stopAgent()).toBe(0);
    } finally {
      await killLeftover();
    }
  });
});
