import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backends, BgpPair, HaproxyInstance } from '@rhi/test-support';
import { freePort, startBackends, startBgpPair, startHaproxy, waitFor } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The `rhi-agent` binary itself (built dist/, as installed), against real haproxy and bird2: run under
// signals, check, status, explain, drain, undrain.

const bin = fileURLToPath(new URL('../bin/rhi-agent.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/cli/main.js', import.meta.url)));
if (!built)
  console.warn(
    'cli.daemons.test.ts: dist/ is missing; nx runs `build` before `test` (nx run @rhi/agent:test)',
  );

describe.runIf(built)('the rhi-agent binary', () => {
  let backends: Backends;
  let haproxy: HaproxyInstance;
  let pair: BgpPair;
  let dir: string;
  let configPath: string;
  let agent: ChildProcess;
  let output = '';
  const state = async (file: string) =>
    JSON.parse(await readFile(join(dir, file), 'utf8')) as Record<string, unknown>;
  // Every agent started, so that one left running by a failed test is stopped too.
  const started: ChildProcess[] = [];
  const startAgent = () => {
    agent = spawn(process.execPath, [bin, 'run', '--config', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(agent);
    agent.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    agent.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  };
  const stopAgent = async () => {
    const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
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

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-cli-it-'));
    backends = await startBackends(1);
    haproxy = await startHaproxy({
      sections: [
        'frontend fe_web',
        `    bind 127.0.0.1:${await freePort()}`,
        '    default_backend be_app',
        'backend be_app',
        `    server s1 127.0.0.1:${backends.ports[0]} check inter 100 fall 1 rise 1`,
      ].join('\n'),
    });
    pair = await startBgpPair({ exports: ['vol1'] });
    await writeFile(join(dir, 'rules.cfg'), '198.18.200.1 = all(f:fe_web, b:be_app)\n');
    configPath = join(dir, 'agent.yaml');
    await writeFile(
      configPath,
      `node: { name: cli-it }
haproxy: { sockets: [${haproxy.adminSocket}], pollIntervalMs: 100 }
bird: { socket: ${pair.node.socket}, include: ${pair.includePath}, config: ${pair.node.configPath}, tables: { vol1: {} } }
rules: { file: ${join(dir, 'rules.cfg')} }
allowlist: [198.18.200.0/24]
damping: { rise: { count: 1, ms: 0 } }
admin: { listen: 127.0.0.1:${await freePort()} }
stateDir: ${dir}
`,
    );
    startAgent();
  });

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
    await routerHas(['198.18.200.1/32']);
    const status = cli('status');
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/198\.18\.200\.1\/32\s+holds\s+yes\s+yes\s+f:fe_web up, b:be_app up/);
    expect(output).toContain('"event":"routeAnnounced"');
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
    await routerHas(['198.18.200.1/32']);
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
    expect(await pair.routerRoutes()).toEqual([]);
    expect(output).toContain('"event":"agentStopping"');
  });

  it('keeps the route through a crash and restart: the peer sees no withdraw', async () => {
    startAgent();
    await routerHas(['198.18.200.1/32']);
    const before = await pair.routerReceived();
    expect(before.updates).toBeGreaterThan(0);
    agent.kill('SIGKILL');
    await new Promise((resolve) => agent.once('exit', resolve));
    output = '';
    startAgent();
    await waitFor('the restarted agent to hold the route', async () => {
      const status = cli('status');
      return /198\.18\.200\.1\/32\s+holds\s+yes\s+yes/.test(status.stdout) ? true : undefined;
    });
    expect(await pair.routerRoutes()).toEqual(['198.18.200.1/32']);
    expect(await pair.routerReceived()).toEqual(before);
    expect(await stopAgent()).toBe(0);
  });

  it('stays drained across a restart', async () => {
    startAgent();
    await routerHas(['198.18.200.1/32']);
    expect(cli('drain', '--reason', 'maintenance').status).toBe(0);
    await routerHas([]);
    expect(await stopAgent()).toBe(0);
    output = '';
    startAgent();
    await waitFor('the restarted agent to answer', async () => {
      const status = cli('status');
      return status.status === 0 ? status.stdout : undefined;
    });
    expect(cli('status').stdout).toMatch(/drained:\s+yes/);
    expect(await pair.routerRoutes()).toEqual([]);
    expect(cli('undrain').status).toBe(0);
    await routerHas(['198.18.200.1/32']);
    expect(await stopAgent()).toBe(0);
  });
});
