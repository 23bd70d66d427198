import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { subjects } from '@rhi/contracts';
import { connect } from '@nats-io/transport-node';
import { freePort, startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../src/http/auth.js';
import type { VipSummary } from '../src/view/summaries.js';
import { route, status } from './support/statuses.js';

// packaging/install.sh and the commands it installs, run as an operator runs them: the one-file builds on
// the Node given, no node_modules, against a real nats-server.

const unit = fileURLToPath(new URL('../packaging/rhi-controller.service', import.meta.url));
const script = fileURLToPath(new URL('../packaging/install.sh', import.meta.url));
const TOKEN = 'an-operator-token-of-some-length';
/** The VIP examples/controller.yaml gives a minimum of its own (2). */
const VIP = '198.18.200.1/32';

const haveSystemd = spawnSync('systemd-analyze', ['--version']).status === 0;
if (!haveSystemd)
  console.warn('skipping systemd-analyze verify: it is not installed here (key lines are checked)');

describe('the systemd unit', () => {
  it.skipIf(!haveSystemd)('passes systemd-analyze verify: every line is taken, none ignored', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rhi-unit-'));
    try {
      await copyFile(unit, join(dir, 'rhi-controller.service'));
      const run = spawnSync('systemd-analyze', ['verify', join(dir, 'rhi-controller.service')], {
        encoding: 'utf8',
      });
      // The one complaint expected here: the controller is not installed on this machine.
      const complaints = (run.stderr + run.stdout)
        .split('\n')
        .filter((l) => l !== '' && !/Command \/usr\/bin\/rhi-controller is not executable/.test(l));
      expect(complaints).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs the installed command as its own user, restarts on failure, and is hardened', async () => {
    const lines = new Set((await readFile(unit, 'utf8')).split('\n'));
    for (const line of [
      'User=rhi-controller',
      'Environment=RHI_CONFIG=/etc/rhi/controller.yaml',
      'ExecStart=/usr/bin/rhi-controller run',
      'Restart=on-failure',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
      'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    ])
      expect(lines, line).toContain(line);
    // ProtectSystem=strict with nothing writable: the controller's state is in JetStream.
    expect([...lines].filter((l) => l.startsWith('ReadWritePaths='))).toEqual([]);
  });
});

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs an installed command with only the system's PATH (no Node on it from this repository). */
const runIn =
  (root: string) =>
  (command: string, args: string[], env: Record<string, string> = {}): Promise<Ran> =>
    new Promise((resolve) => {
      execFile(
        join(root, 'usr/bin', command),
        args,
        { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', ...env } },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });

describe('packaging/install.sh', () => {
  const built = ['rhi-controller', 'rhictl'].every((c) =>
    existsSync(fileURLToPath(new URL(`../dist/${c}.mjs`, import.meta.url))),
  );
  if (!built) console.warn('skipping the install checks: dist/ is missing (nx builds before test)');
  const install = (root: string, node = process.execPath) =>
    spawnSync(script, ['--root', root, '--node', node], { encoding: 'utf8' });
  let nats: NatsInstance;
  let root: string;

  beforeAll(async () => {
    nats = await startNats();
    root = await mkdtemp(join(tmpdir(), 'rhi-controller-install-'));
  });

  afterAll(async () => {
    await nats?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it.runIf(built)(
    'installs both commands self-contained, and they run the example config against a real NATS',
    async () => {
      const installed = install(root);
      expect(installed.stderr).toBe('');
      expect(installed.status).toBe(0);
      // Only the one-file builds and their launchers: no node_modules to resolve anything from.
      expect((await readdir(join(root, 'usr/lib/rhi-controller'), { recursive: true })).sort()).toEqual([
        'bin',
        'bin/rhi-controller.js',
        'bin/rhictl.js',
        'dist',
        'dist/rhi-controller.mjs',
        'dist/rhictl.mjs',
        'package.json',
      ]);
      const config = join(root, 'etc/rhi/controller.yaml');
      expect((await stat(config)).mode & 0o777).toBe(0o640);
      const example = fileURLToPath(new URL('../../../examples/controller.yaml', import.meta.url));
      expect(await readFile(config, 'utf8')).toBe(await readFile(example, 'utf8'));
      const key = join(root, 'etc/rhi/ruleset-signing');
      expect((await stat(`${key}.key`)).mode & 0o777).toBe(0o600);
      expect(await readFile(`${key}.pub`, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      const run = runIn(root);
      expect((await run('rhi-controller', ['--help'])).stdout).toContain(
        'rhi-controller: the rhi fleet view',
      );
      expect((await run('rhictl', ['--help'])).stdout).toContain('rhictl: the rhi fleet');

      // The operator's edit: this test's NATS, a free port and a token of their own.
      const port = await freePort();
      const text = (await readFile(config, 'utf8'))
        .replace(/servers: \[nats:\/\/127\.0\.0\.1:4222\]/, `servers: [${nats.url}]`)
        .replace(/user: rhi-controller/, `user: ${nats.user}`)
        .replace(/password: change-me/, `password: ${nats.password}`)
        .replace(/listen: 127\.0\.0\.1:9190/, `listen: 127.0.0.1:${port}`)
        .replace(/sha256: '0{64}'/, `sha256: '${tokenHash(TOKEN)}'`)
        .replace(/signingKey: \/etc\/rhi\/ruleset-signing\.key/, `signingKey: ${key}.key`);
      await writeFile(config, text);
      const check = await run('rhi-controller', ['check', '--config', config]);
      expect(check).toMatchObject({ code: 0, stderr: '' });
      expect(check.stdout).toContain(`[ ok ] ${config} is valid: NATS ${nats.url}, API on 127.0.0.1:${port}`);
      expect(check.stdout).toContain(`[ ok ] rule sets are signed with ${key}.key as key 'ops-2026'`);

      const controller = spawn(join(root, 'usr/bin/rhi-controller'), ['run'], {
        env: { PATH: '/usr/bin:/bin', RHI_CONFIG: config },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      controller.stdout.on('data', (c: Buffer) => (log += c.toString()));
      controller.stderr.on('data', (c: Buffer) => (log += c.toString()));
      const agent = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
      try {
        await waitFor('the installed controller to be healthy', async () => {
          if (controller.exitCode !== null) throw new Error(`exited: ${log}`);
          const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
          return res?.status === 200 ? true : undefined;
        });
        // One status, as an agent publishes it.
        agent.publish(
          subjects.status('lb-par1-01'),
          JSON.stringify(status('lb-par1-01', { time: new Date().toISOString(), routes: [route(VIP)] })),
        );
        await agent.flush();
        const ctl = (...args: string[]) =>
          run('rhictl', args, { RHICTL_URL: `http://127.0.0.1:${port}`, RHICTL_TOKEN: TOKEN });
        const vips = await waitFor('the status in rhictl vips', async () => {
          const r = await ctl('vips', '--json');
          if (r.code !== 0) throw new Error(`rhictl vips: exit ${r.code}: ${r.stderr}`);
          const body = JSON.parse(r.stdout) as { vips: VipSummary[] };
          return body.vips.length ? body.vips : undefined;
        });
        // The example's own minimum for this VIP (2) is in force: one advertiser is too few.
        expect(vips).toEqual([
          expect.objectContaining({ id: `vol1%${VIP}`, advertisers: 1, minimum: 2, nodes: 1 }),
        ]);
        // Alerts are evaluated each second: `status` exits 1 once the alert is open.
        const st = await waitFor('rhictl status to show the alert', async () => {
          const r = await ctl('status');
          return r.code === 1 ? r : undefined;
        });
        expect(st.stdout).toContain('nodes:  1 (1 up, 0 lost)');
        expect(st.stdout).toContain('vips:   1 (1 below their minimum of advertisers)');
        expect(st.stdout).toMatch(/^ {2}vipBelowMinimum /m);
        // pino writes to stdout itself: no transport, no worker thread file the one-file build lacks.
        expect(log).toContain('"event":"controllerStarted"');
        expect(log).toContain('"version":"0.1.0"');
      } finally {
        await agent.close();
        const exited = new Promise((r) => controller.once('exit', r));
        controller.kill('SIGTERM');
        await exited;
      }
      expect(controller.exitCode).toBe(0);

      // Installed again (an upgrade): the operator's file is kept, byte for byte, and its mode.
      await appendFile(config, '# edited\n');
      const again = install(root);
      expect(again.status).toBe(0);
      expect(again.stdout).toContain(`kept ${config}`);
      expect(again.stdout).toContain(`kept ${key}.key`);
      expect(await readFile(config, 'utf8')).toBe(`${text}# edited\n`);
      expect((await stat(config)).mode & 0o777).toBe(0o640);
      expect((await run('rhi-controller', ['check', '--config', config])).code).toBe(0);
    },
  );

  it.runIf(built)('refuses a Node other than 24, naming it, and installs nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rhi-controller-install-'));
    try {
      const oldNode = join(dir, 'node');
      await writeFile(oldNode, '#!/bin/sh\necho 20\n', { mode: 0o755 });
      const run = install(dir, oldNode);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`rhi-controller runs on Node 24; ${oldNode} is 20.x`);
      expect(existsSync(join(dir, 'usr'))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
