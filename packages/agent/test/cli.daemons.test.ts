import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeStatusSchema } from '@rhi/contracts';
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
import { runAsNobody } from './support/as-nobody.js';

// The `rhi-agent` binary itself (built dist/, as installed), against real haproxy and bird2: run under
// signals, check, status, explain, drain, undrain.

const bin = fileURLToPath(new URL('../bin/rhi-agent.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/cli/main.js', import.meta.url)));
if (!built)
  console.warn(
    'cli.daemons.test.ts: dist/ is missing; nx runs `build` before `test` (nx run @rhi/agent:test)',
  );

const VIP = '198.18.200.1/32';
// As root, the tests also run the CLI as other users (setpriv): `nobody` alone, and `nobody` in the admin
// socket's group `daemon`, which the agent (root here) gives the socket. As another user they cannot.
const asRoot = process.getuid?.() === 0;
const SOCKET_GROUP = 'daemon';
const SOCKET_GID = 1;

describe.runIf(built)('the rhi-agent binary', () => {
  let backends: Backends;
  let haproxy: HaproxyInstance;
  let pair: BgpPair;
  let dir: string;
  let configPath: string;
  let adminPort: number;
  let adminSocket: string;
  /** HAProxy's frontend fe_web, bound on a unix socket. */
  let webSocket: string;
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
admin: { listen: 127.0.0.1:${port}, socket: ${adminSocket}${asRoot ? `, socketGroup: ${SOCKET_GROUP}` : ''} }
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
  /** The CLI as user nobody, with `groups` as its supplementary groups (root only). */
  const cliAs = (groups: readonly number[], ...args: string[]) =>
    runAsNobody(groups, [process.execPath, bin, ...args, '--config', configPath]);
  /** The CLI started in the background, with what it printed so far. */
  const cliInBackground = (...args: string[]) => {
    const child = spawn(process.execPath, [bin, ...args, '--config', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child);
    const run = { child, stdout: '', stderr: '', exited: new Promise<number | null>(() => undefined) };
    run.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    child.stdout.on('data', (c: Buffer) => (run.stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (run.stderr += c.toString()));
    return run;
  };
  /** A client connection to fe_web, open once HAProxy counts it. */
  const holdConnection = async () => {
    const held = connect(webSocket);
    await new Promise((resolve, reject) => held.once('connect', resolve).once('error', reject));
    await waitFor('HAProxy to count the connection', async () =>
      /^CurrConns: 1$/m.test(await haproxy.command('show info')) ? true : undefined,
    );
    return held;
  };
  const drained = () => {
    const status = cli('status');
    expect(status.status).toBe(0);
    return /^drained:\s+yes\b/m.test(status.stdout);
  };
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
    // Other users' CLI must read the config and reach the socket; the socket's own mode decides the rest.
    if (asRoot) await chmod(dir, 0o755);
    adminSocket = join(dir, 'admin.sock');
    backends = await startBackends(1);
    // startHaproxy binds ports that freePort() chose and released: retried on a clash.
    haproxy = await retryOnPortClash(() =>
      startHaproxy({
        sections: (haproxyDir) => {
          webSocket = join(haproxyDir, 'web.sock');
          return [
            'frontend fe_web',
            `    bind unix@${join(haproxyDir, 'web.sock')}`,
            '    default_backend be_app',
            'backend be_app',
            `    server s1 127.0.0.1:${backends.ports[0]} check inter 100 fall 1 rise 1`,
          ].join('\n');
        },
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
      // SENT TO: the router's session, once the agent has asked BIRD what it exports.
      return run.status === 0 && /198\.18\.200\.1\/32\s+holds\s+yes\s+yes\s+router1\s/.test(run.stdout)
        ? run
        : undefined;
    });
    expect(status.stdout).toMatch(
      /198\.18\.200\.1\/32\s+holds\s+yes\s+yes\s+router1\s+f:fe_web up, b:be_app up/,
    );
    await waitFor('the agent to log the announcement', () =>
      output.includes('"event":"routeAnnounced"') ? true : undefined,
    );
  });

  it("serves its NodeStatus on /status and status --json, with package.json's version", async () => {
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    // The one-file bundle has the version written in: it reads no package.json.
    expect(spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).stdout).toBe(
      `rhi-agent ${version}\n`,
    );
    const first = NodeStatusSchema.parse(await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json());
    const json = cli('status', '--json');
    expect(json.status).toBe(0);
    const second = NodeStatusSchema.parse(JSON.parse(json.stdout));
    expect(second.agentVersion).toBe(version);
    expect(second.seq).toBeGreaterThan(first.seq);
    expect(second.routes.map((r) => [r.table, r.prefix, r.decision, r.explanation.term])).toEqual([
      ['vol1', VIP, 'advertise', 'all(f:fe_web, b:be_app)'],
    ]);
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
    expect(explain.stdout).toContain("the running agent's view");
    expect(explain.stdout).toContain(`198.18.200.1/32: advertised (rule at ${join(dir, 'rules.cfg')}:1)`);
    expect(explain.stdout).toContain('├─ f:fe_web: true (up (OPEN))');
  });

  it("explains from the running agent's view: drained, a route is withdrawn though its rule holds", async () => {
    expect(cli('drain', '--reason', 'explained').status).toBe(0);
    await routerHas([]);
    try {
      const explain = cli('explain');
      expect(explain.status).toBe(0);
      expect(explain.stdout).toMatch(
        /^drain: DRAINED \(explained, since \d{4}-[\d:.TZ-]+\): every route withdrawn$/m,
      );
      expect(explain.stdout).toContain(
        `198.18.200.1/32: withdrawn: node drained (explained); its rule holds (rule at ${join(dir, 'rules.cfg')}:1)`,
      );
      // The per-term reasons still come from live HAProxy.
      expect(explain.stdout).toContain('├─ f:fe_web: true (up (OPEN))');
      expect(explain.stdout).not.toMatch(/198\.18\.200\.1\/32: advertise/);
    } finally {
      expect(cli('undrain').status).toBe(0);
    }
    await routerHas([VIP]);
  });

  it('explains the rule set in force, not a rules file the agent refused', async () => {
    const rules = join(dir, 'rules.cfg');
    const good = await readFile(rules, 'utf8');
    const mark = output.length;
    // Parses, but names a backend HAProxy lacks: the agent refuses it and keeps the rule set in force.
    await writeFile(rules, '198.18.200.1 = all(b:be_gone)\n');
    try {
      await waitFor('the agent to refuse the rules file', () =>
        output.slice(mark).includes('"event":"ruleSetRejected"') ? true : undefined,
      );
      const explain = cli('explain', '198.18.200.1');
      expect(explain.status).toBe(0);
      expect(explain.stdout).toContain('198.18.200.1/32: advertised (rule 1 of the rule set in force');
      expect(explain.stdout).toContain('─ b:be_app: true');
      expect(explain.stdout).not.toContain('be_gone');
      // What the file would do, asked for as such.
      const fromFile = cli('explain', '--from-file', '198.18.200.1');
      expect(fromFile.stdout).toMatch(
        /^--from-file: what .* would do with live HAProxy, not what the running agent advertises/,
      );
      expect(fromFile.stdout).toContain('198.18.200.1/32: withdraw');
    } finally {
      await writeFile(rules, good);
    }
    expect(await pair.routerRoutes()).toEqual([VIP]);
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

  it('refuses a drain over TCP, where any local process (or a forged request) reaches it: 403, nothing changes', async () => {
    const before = await routerCaughtUp(pair);
    for (const path of ['/drain', '/undrain']) {
      const res = await fetch(`http://127.0.0.1:${adminPort}${path}`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toBe(
        `POST ${path} is accepted only on the admin socket ${adminSocket}, where its file permissions decide who may use it`,
      );
    }
    expect(drained()).toBe(false);
    expect(await state('drain.json')).toMatchObject({ drained: false });
    // The reads stay open on TCP.
    expect((await fetch(`http://127.0.0.1:${adminPort}/status`)).status).toBe(200);
    expect(await routerCaughtUp(pair)).toEqual(before);
    expect(await pair.routerRoutes()).toEqual([VIP]);
  });

  it.runIf(asRoot)(
    'drains for a member of the admin socket group, and tells anyone else what is missing',
    async () => {
      const before = await routerCaughtUp(pair);
      const outsider = cliAs([], 'drain', '--reason', 'not mine');
      expect(drained()).toBe(false);
      expect(outsider.stderr).toBe(
        `rhi-agent: permission denied on ${adminSocket} (mode 0660, group ${SOCKET_GROUP}): run as root or as a member of group ${SOCKET_GROUP}\n`,
      );
      expect(outsider.status).toBe(1);
      expect(cliAs([], 'undrain').status).toBe(1);
      expect(await routerCaughtUp(pair)).toEqual(before);
      expect(await pair.routerRoutes()).toEqual([VIP]);
      const socket = await stat(adminSocket);
      expect({ mode: socket.mode & 0o7777, gid: socket.gid, isSocket: socket.isSocket() }).toEqual({
        mode: 0o660,
        gid: SOCKET_GID,
        isSocket: true,
      });

      const member = cliAs([SOCKET_GID], 'drain', '--reason', 'operator');
      expect(member.stderr).toBe('');
      expect(member.status).toBe(0);
      // The CLI returns once BIRD holds none of the routes.
      expect(await pair.node.command('show route protocol vol1')).not.toContain(VIP);
      expect(await state('drain.json')).toMatchObject({ drained: true, reason: 'operator' });
      expect(cliAs([SOCKET_GID], 'undrain').status).toBe(0);
      await routerHas([VIP]);
    },
  );

  it('drain --wait-sessions waits until the routes are withdrawn, printing progress', async () => {
    await routerHas([VIP]);
    const held = await holdConnection();
    let run: ReturnType<typeof cliInBackground> | undefined;
    try {
      run = cliInBackground('drain', '--reason', 'upgrade', '--wait-sessions', '0', '--timeout', '60');
      const current = run;
      // Progress: the connection counted since the drain began.
      await waitFor('the CLI to report the open connection', () =>
        /HAProxy has 1 connection, waiting for 0/.test(current.stdout) || current.child.exitCode !== null
          ? true
          : undefined,
      );
      expect(run.stdout).toMatch(/^draining \(upgrade\): 1 route de-preferred/m);
      // The connection is open, so the drain cannot have finished: the CLI still waits.
      expect(run.child.exitCode).toBeNull();
      expect(await pair.routerRoutes()).toEqual([VIP]);
    } finally {
      held.destroy();
    }
    expect(await run.exited).toBe(0);
    expect(run.stdout).toMatch(/^drained: routes withdrawn; reason: upgrade \(sessions fell to 0\)$/m);
    expect(run.stderr).toBe('');
    // Returned only once BIRD holds none of the routes.
    expect(await pair.node.command('show route protocol vol1')).not.toContain(VIP);
    expect(cli('undrain').status).toBe(0);
    await routerHas([VIP]);
  });

  it('drain --no-wait returns at once, the drain going on in the agent', async () => {
    const held = await holdConnection();
    try {
      const run = cli('drain', '--wait-sessions', '0', '--no-wait');
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(
        /^draining: routes de-preferred, withdrawn once HAProxy's connections fall to 0/m,
      );
      expect(drained()).toBe(true);
      expect(await pair.routerRoutes()).toEqual([VIP]);
    } finally {
      held.destroy();
    }
    await routerHas([]);
    expect(cli('undrain').status).toBe(0);
    await routerHas([VIP]);
  });

  it('refuses --timeout without --wait-sessions, draining nothing', async () => {
    const run = cli('drain', '--timeout', '30');
    expect(run.stderr).toBe(
      'rhi-agent: --timeout bounds the wait for sessions to fall: give it with --wait-sessions N\n',
    );
    expect(run.status).toBe(2);
    expect(drained()).toBe(false);
  });

  it('tells the operator when no agent listens on the admin socket', () => {
    const missing = join(dir, 'nowhere', 'admin.sock');
    const run = cli('undrain', '--set', `admin.socket=${missing}`);
    expect(run.stderr).toBe(
      `rhi-agent: no admin socket at ${missing}: is the agent running? (systemctl status rhi-agent)\n`,
    );
    expect(run.status).toBe(2);
  });

  it('explains that a route outside the allowlist is blocked, whatever its rule says', async () => {
    const rules = join(dir, 'outside.cfg');
    await writeFile(rules, '198.18.200.1 = all(b:be_app)\n198.18.201.1 = all(b:be_app)\n');
    for (const args of [[], ['198.18.201.1']]) {
      const explain = cli('explain', '--from-file', ...args, '--set', `rules.file=${rules}`);
      expect(explain.stderr).toBe('');
      expect(explain.status).toBe(0);
      expect(explain.stdout).not.toMatch(/198\.18\.201\.1\/32: advertise/);
      expect(explain.stdout).toContain(
        `198.18.201.1/32: blocked by the allowlist (198.18.200.0/24): never advertised; its rule holds (rule at ${rules}:2)`,
      );
    }
    expect(cli('explain', '--from-file', '--set', `rules.file=${rules}`).stdout).toContain(
      `198.18.200.1/32: advertise (rule at ${rules}:1)`,
    );
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

  it('says plainly, with no agent running, that it explains the rules file and not what is advertised', () => {
    const explain = cli('explain');
    expect(explain.status).toBe(0);
    expect(explain.stdout).toMatch(
      /^the agent does not answer \(.*\): this is what .*rules\.cfg would do with live HAProxy, NOT what is advertised\n/,
    );
    expect(explain.stdout).toContain(`198.18.200.1/32: advertise (rule at ${join(dir, 'rules.cfg')}:1)`);
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
