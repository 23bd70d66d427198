import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  appendFile,
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runAsNobody } from './support/as-nobody.js';
import { listenControlSocket } from '../src/admin/control-socket.js';
import { parseConfig } from '../src/config/load.js';

/** The admin socket settings a configuration that does not mention them gets. */
const adminDefaults = parseConfig(
  `node: { name: lb-1 }
haproxy: { sockets: [/run/haproxy/admin.sock] }
bird: { socket: /run/bird/bird.ctl, include: /run/rhi/rhi-routes.conf }
rules: { file: /etc/rhi/rules.cfg }
allowlist: [198.18.200.0/24]
`,
  'agent.yaml',
).admin;

const unit = fileURLToPath(new URL('../packaging/rhi-agent.service', import.meta.url));
const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const haveSystemd = analyze.status === 0;
if (!haveSystemd) console.warn('skipping the systemd unit check: systemd-analyze is not installed here');

describe('the systemd unit', () => {
  it.skipIf(!haveSystemd)('passes systemd-analyze verify: every line is taken, none ignored', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rhi-unit-'));
    try {
      await copyFile(unit, join(dir, 'rhi-agent.service'));
      const run = spawnSync('systemd-analyze', ['verify', join(dir, 'rhi-agent.service')], {
        encoding: 'utf8',
      });
      // The one complaint expected here: the agent is not installed on this machine.
      const complaints = (run.stderr + run.stdout)
        .split('\n')
        .filter((l) => l !== '' && !/Command \/usr\/bin\/rhi-agent is not executable/.test(l));
      expect(complaints).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("may write in the admin socket's directory", async () => {
    const line = (await readFile(unit, 'utf8')).split('\n').find((l) => l.startsWith('ReadWritePaths='));
    expect(line?.slice('ReadWritePaths='.length).split(' ')).toContain(dirname(adminDefaults.socket));
  });

  it('sets NODE_OPTIONS as one assignment (systemd splits unquoted values at spaces)', async () => {
    const line = (await readFile(unit, 'utf8')).split('\n').find((l) => l.includes('NODE_OPTIONS'));
    expect(line).toMatch(/^Environment="NODE_OPTIONS=[^"]+"$/);
  });
});

describe('packaging/install.sh', () => {
  const script = fileURLToPath(new URL('../packaging/install.sh', import.meta.url));
  const built = existsSync(fileURLToPath(new URL('../dist/rhi-agent.mjs', import.meta.url)));
  if (!built) console.warn('skipping the install check: dist/ is missing (nx builds before test)');
  const install = (root: string, node: string) =>
    spawnSync(script, ['--root', root, '--node', node], { encoding: 'utf8' });

  it.runIf(built)(
    'installs a self-contained agent that runs with no node on PATH, and keeps /etc/rhi',
    async () => {
      const root = await mkdtemp(join(tmpdir(), 'rhi-install-'));
      try {
        expect(install(root, process.execPath).status).toBe(0);
        // Only the one-file build and its launcher: no node_modules to resolve anything from.
        expect((await readdir(join(root, 'usr/lib/rhi-agent'), { recursive: true })).sort()).toEqual([
          'bin',
          'bin/rhi-agent.js',
          'dist',
          'dist/rhi-agent.mjs',
          'package.json',
        ]);
        const run = (...args: string[]) =>
          spawnSync(join(root, 'usr/bin/rhi-agent'), args, {
            encoding: 'utf8',
            env: { PATH: '/usr/bin:/bin' },
          });
        expect(run('--help').stdout).toContain('rhi-agent: route health injection');
        // The example config and rules as installed: valid, and the checklist runs (HAProxy is absent here).
        const check = run(
          'check',
          '--config',
          join(root, 'etc/rhi/agent.yaml'),
          '--set',
          `rules.file=${join(root, 'etc/rhi/rules.cfg')}`,
        );
        expect(check.stdout).toContain('[ ok ] configuration is valid');
        expect(check.stdout).toMatch(/\[ ok \] rules file .*: \d+ rules/);
        expect(check.status).toBe(1);

        await appendFile(join(root, 'etc/rhi/agent.yaml'), '# edited\n');
        const again = install(root, process.execPath);
        expect(again.status).toBe(0);
        expect(again.stdout).toContain(`kept ${join(root, 'etc/rhi/agent.yaml')}`);
        expect(await readFile(join(root, 'etc/rhi/agent.yaml'), 'utf8')).toMatch(/# edited\n$/);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  );

  it.runIf(built)('refuses a Node other than 24, naming it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rhi-install-'));
    try {
      const oldNode = join(root, 'node');
      await writeFile(oldNode, '#!/bin/sh\necho 20\n', { mode: 0o755 });
      const run = install(root, oldNode);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`rhi-agent runs on Node 24; ${oldNode} is 20.x`);
      expect(existsSync(join(root, 'usr/bin/rhi-agent'))).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('packaging/rhi-agent.tmpfiles.conf', () => {
  const conf = fileURLToPath(new URL('../packaging/rhi-agent.tmpfiles.conf', import.meta.url));
  const haveTmpfiles = spawnSync('systemd-tmpfiles', ['--version']).status === 0;
  const asRoot = process.getuid?.() === 0;
  if (!haveTmpfiles || !asRoot)
    console.warn('skipping the tmpfiles check: it needs systemd-tmpfiles and root (to act as other users)');
  const RHI = 990;
  const BIRD = 991;
  /** Runs `script` in Node as user nobody with `groups`; its exit status and output. */
  const as = (groups: readonly number[], script: string) =>
    runAsNobody(groups, [process.execPath, '-e', script]);

  it.runIf(haveTmpfiles && asRoot)(
    'lets the group rhi reach the admin socket and BIRD read the include; nobody else either',
    async () => {
      const root = await mkdtemp(join(tmpdir(), 'rhi-tmpfiles-'));
      const server = createServer();
      try {
        await chmod(root, 0o755);
        await mkdir(join(root, 'etc'));
        await writeFile(
          join(root, 'etc/passwd'),
          `root:x:0:0::/root:/bin/sh\nrhi:x:${RHI}:${RHI}::/var/lib/rhi:/bin/false\n`,
        );
        await writeFile(join(root, 'etc/group'), `root:x:0:\nrhi:x:${RHI}:\nbird:x:${BIRD}:\n`);
        const created = spawnSync('systemd-tmpfiles', ['--create', `--root=${root}`, conf], {
          encoding: 'utf8',
        });
        expect(created.stderr).toBe('');
        expect(created.status).toBe(0);
        // The agent's socket where the defaults put it, as the agent sets it up (mode, then the group rhi).
        const socket = join(root, adminDefaults.socket);
        await listenControlSocket(server, socket, { mode: adminDefaults.socketMode, gid: RHI });
        const reach = `require('node:net').connect(${JSON.stringify(socket)}).on('connect', () => process.exit(0)).on('error', (e) => { console.log(e.code); process.exit(1); })`;
        expect(as([RHI], reach)).toMatchObject({ status: 0 });
        expect(as([], reach)).toMatchObject({ status: 1, stdout: 'EACCES\n' });
        expect(as([BIRD], reach)).toMatchObject({ status: 1, stdout: 'EACCES\n' });
        const read = `require('node:fs').readFileSync(${JSON.stringify(join(root, 'run/rhi/rhi-routes.conf'))}); process.exit(0)`;
        expect(as([BIRD], read).status).toBe(0);
        expect(as([RHI], read).status).not.toBe(0);
      } finally {
        await new Promise((r) => server.close(r));
        await rm(root, { recursive: true, force: true });
      }
    },
  );
});
