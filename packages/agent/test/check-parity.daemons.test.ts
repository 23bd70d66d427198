import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderInclude } from '@rhi/bird-client';
import type { BgpPair, HaproxyInstance, UnixBackends } from '@rhi/test-support';
import {
  freePort,
  retryOnPortClash,
  startBgpPair,
  startHaproxy,
  startUnixBackends,
  waitFor,
} from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `check` refuses everything `run` would refuse or crash on, with the same line, and `run` exits 2 with
// it instead of a stack trace (under systemd: instead of a crash loop). The built binary, against real
// haproxy and bird2. And a misspelled `haproxy.eventRing`: a failure in `check`, a logged and visible
// degradation in `run` that ends when a reload brings the ring.

const bin = fileURLToPath(new URL('../bin/rhi-agent.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/rhi-agent.mjs', import.meta.url)));

describe.runIf(built)('check and run agree on what stops the agent', () => {
  let backends: UnixBackends;
  let haproxy: HaproxyInstance;
  let pair: BgpPair;
  let dir: string;
  let held: Server;
  let heldPort: number;
  const started: ChildProcess[] = [];

  /** The agent's configuration file `name`, the base one edited by `edit` (YAML flow style). */
  const config = async (name: string, edit: (yaml: string) => string = (y) => y) => {
    const file = join(dir, `${name}.yaml`);
    const yaml = `node: { name: parity }
haproxy: { sockets: [${haproxy.adminSocket}], eventRing: events }
bird: { socket: ${pair.node.socket}, include: ${pair.includePath}, config: ${pair.node.configPath}, tables: { vol1: {} } }
rules: { file: ${join(dir, 'rules.cfg')} }
allowlist: [198.18.200.0/24]
admin: { listen: 127.0.0.1:0, socket: ${join(dir, 'admin.sock')} }
stateDir: ${dir}
`;
    await writeFile(file, edit(yaml));
    return file;
  };
  const cli = (command: string, file: string) =>
    spawnSync(process.execPath, [bin, command, '--config', file], { encoding: 'utf8', timeout: 30_000 });
  const failures = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('[FAIL] '));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-agent-parity-'));
    backends = await startUnixBackends(1);
    haproxy = await retryOnPortClash(() =>
      startHaproxy({
        sections: () =>
          [
            'backend be_app',
            '    option httpchk GET /',
            `    server s1 unix@${backends.paths[0]} check inter 100`,
          ].join('\n'),
      }),
    );
    pair = await startBgpPair({ exports: ['vol1'] });
    // As an agent run before would have left it: the include holds the agent's (empty) protocols, which
    // BIRD runs.
    await writeFile(pair.includePath, renderInclude([], { tables: { vol1: {} } }).text);
    expect(await pair.node.command('configure')).toMatch(/^0003 /m);
    await writeFile(join(dir, 'rules.cfg'), '198.18.200.1 = all(b:be_app)\n');
    await writeFile(
      join(dir, 'rsa.pub'),
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    held = createServer();
    heldPort = await freePort();
    await new Promise<void>((resolve) => held.listen(heldPort, '127.0.0.1', resolve));
  }, 60_000);

  afterAll(async () => {
    for (const child of started)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    held?.close();
    await Promise.allSettled([haproxy?.stop(), pair?.stop(), backends?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('passes the base configuration (check exits 0)', async () => {
    const check = cli('check', await config('base'));
    expect(failures(check.stdout)).toEqual([]);
    expect(check.status).toBe(0);
  });

  /** Where the cases put things: the test's directory, and a port another process listens on. */
  type At = { dir: string; held: number };
  const rulesLine = (keyFile: string) =>
    `rules: { file: ${join(dir, 'rules.cfg')}, fromController: true, trustedKeys: { ops-2026: ${keyFile} } }`;
  it.each<[string, (yaml: string, at: At) => string, (at: At) => string]>([
    [
      'a missing trusted-key file',
      (y, at) => y.replace(/^rules: .*$/m, rulesLine(join(at.dir, 'ops-2026.pub'))),
      (at) => `rules.trustedKeys.ops-2026: cannot read ${at.dir}/ops-2026.pub: no such file`,
    ],
    [
      'a trusted key that is not ed25519',
      (y, at) => y.replace(/^rules: .*$/m, rulesLine(join(at.dir, 'rsa.pub'))),
      (at) => `rules.trustedKeys.ops-2026: ${at.dir}/rsa.pub holds an rsa key, not an ed25519 one`,
    ],
    [
      'an unreadable NATS credentials file',
      (y, at) => `${y}nats: { servers: [nats://127.0.0.1:4222], credentials: ${at.dir}/agent.creds }\n`,
      (at) => `nats.credentials: cannot read ${at.dir}/agent.creds: no such file`,
    ],
    [
      'an admin port another process listens on',
      (y, at) => y.replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${at.held}`),
      (at) => `admin.listen: cannot listen on 127.0.0.1:${at.held}: another process already listens there`,
    ],
    [
      'an admin socket in a directory that does not exist',
      (y, at) => y.replace(join(at.dir, 'admin.sock'), join(at.dir, 'nodir', 'admin.sock')),
      (at) =>
        `admin.socket: cannot create ${at.dir}/nodir/admin.sock: the directory ${at.dir}/nodir does not exist (packaging/rhi-agent.tmpfiles.conf creates /run/rhi)`,
    ],
  ])('refuses %s: check fails with the line run exits 2 with, no stack trace', async (name, edit, line) => {
    const at = { dir, held: heldPort };
    const file = await config(name.replace(/\W+/g, '-'), (y) => edit(y, at));
    const expected = line(at);
    const check = cli('check', file);
    expect(check.status).toBe(1);
    expect(failures(check.stdout)).toEqual([`[FAIL] ${expected}`]);
    const run = cli('run', file);
    expect({ status: run.status, stderr: run.stderr, stdout: run.stdout }).toEqual({
      status: 2,
      stderr: `rhi-agent: cannot start:\n  ${expected}\n`,
      stdout: '',
    });
  });

  it.each([
    [
      'a YAML alias bomb',
      (y: string) =>
        `${y}x0: &a0 [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 8 }, (_, i) => `x${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`).join('\n')}\n`,
      'YAML aliases expand this document more than 100 times (an alias bomb?): refused',
    ],
    [
      'an admin port out of range',
      (y: string) => y.replace('listen: 127.0.0.1:0', 'listen: 127.0.0.1:70000'),
      'admin.listen: expected a port from 0 to 65535',
    ],
  ])('refuses %s in both with the same message, status 2', async (name, edit, message) => {
    const file = await config(name.replace(/\W+/g, '-'), edit);
    const check = cli('check', file);
    const run = cli('run', file);
    expect(check.status).toBe(2);
    expect(run.status).toBe(2);
    expect(check.stderr).toContain(message);
    expect(run.stderr).toBe(check.stderr);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  describe('a misspelled haproxy.eventRing', () => {
    let agent: ChildProcess;
    let output = '';
    let adminPort: number;
    const records = () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const get = async (path: string) => fetch(`http://127.0.0.1:${adminPort}${path}`);
    const metric = async (name: string) =>
      new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(
        await (await get('/metrics')).text(),
      )?.[1];

    it('fails check, naming the rings HAProxy has, and the poll interval detection falls back to', async () => {
      const file = await config('ring', (y) => y.replace('eventRing: events', 'eventRing: evnets'));
      const check = cli('check', file);
      expect(check.status).toBe(1);
      expect(failures(check.stdout)).toEqual([
        `[FAIL] haproxy.eventRing: HAProxy has no ring "evnets" (No such event sink); its rings: buf0, events; without it, HAProxy's changes are seen only by the poll every 2000 ms`,
      ]);
    });

    it('runs degraded: logged at error level, in /status, /healthz warn (200) and a metric; recovers when a reload brings the ring', async () => {
      adminPort = await freePort();
      const file = await config('ring-run', (y) =>
        y
          .replace('eventRing: events', 'eventRing: evnets')
          .replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${adminPort}`),
      );
      agent = spawn(process.execPath, [bin, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      started.push(agent);
      agent.stdout?.on('data', (c: Buffer) => (output += c.toString()));
      agent.stderr?.on('data', (c: Buffer) => (output += c.toString()));
      const unavailable = await waitFor('eventRingUnavailable', () =>
        records().find((r) => r['event'] === 'eventRingUnavailable'),
      );
      expect(unavailable).toMatchObject({
        level: 50,
        ring: 'evnets',
        code: 'HAPROXY_UNKNOWN_RING',
        pid: await haproxy.workerPid(),
        pollIntervalMs: 2000,
        reason: expect.stringContaining("HAProxy's changes are seen only by the poll every 2000 ms"),
      });
      const healthz = await get('/healthz');
      expect(healthz.status).toBe(200);
      expect(await healthz.json()).toMatchObject({
        ok: true,
        status: 'warn',
        warnings: [expect.stringMatching(/^haproxy\.eventRing: HAProxy has no ring "evnets"/)],
      });
      const status = (await (await get('/status')).json()) as { haproxy: { eventRing?: unknown } };
      expect(status.haproxy.eventRing).toMatchObject({ name: 'evnets', state: 'unavailable' });
      expect(await metric('rhi_event_ring_followed{ring="evnets"}')).toBe('0');

      await writeFile(
        haproxy.configPath,
        `${haproxy.config}ring evnets\n    format rfc5424\n    size 16384\n`,
      );
      const pid = await haproxy.reload();
      const followed = await waitFor('eventRingFollowed', () =>
        records().find((r) => r['event'] === 'eventRingFollowed'),
      );
      expect(followed).toMatchObject({ level: 30, ring: 'evnets', pid });
      expect(await (await get('/healthz')).json()).toMatchObject({ status: 'pass', warnings: [] });
      expect(await metric('rhi_event_ring_followed{ring="evnets"}')).toBe('1');
      expect(records().filter((r) => r['event'] === 'eventRingUnavailable')).toHaveLength(1);
      const exited = new Promise((resolve) => agent.once('exit', resolve));
      agent.kill('SIGTERM');
      expect(await exited).toBe(0);
      // And check passes it now.
      expect(failures(cli('check', file).stdout)).toEqual([]);
    });
  });
});
