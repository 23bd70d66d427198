import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentMetrics } from '../src/admin/metrics.js';
import {
  listenProblem,
  openAdmin,
  PreflightFailedError,
  probeAdmin,
  problemLine,
  readRunFiles,
} from '../src/app/preflight.js';
import { describeEventRing, describePreflight } from '../src/cli/check-preflight.js';
import { HaproxyPermissionDeniedError, parseCommandError } from '@rhi/haproxy-client';
import type { AgentConfig } from '../src/config/schema.js';
import { agentSnapshot, statusOf } from './support/snapshots.js';

const pem = (type: 'ed25519' | 'rsa') =>
  (type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 1024 })
    : generateKeyPairSync('ed25519')
  ).publicKey
    .export({ type: 'spki', format: 'pem' })
    .toString();
const errno = (code: string) => Object.assign(new Error(code), { code });

describe('preflight: the files run reads at start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-preflight-'));
    await writeFile(join(dir, 'good.pub'), pem('ed25519'));
    await writeFile(join(dir, 'rsa.pub'), pem('rsa'));
    await writeFile(join(dir, 'junk.pub'), 'not a key\n');
    await writeFile(join(dir, 'agent.creds'), 'creds');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads good keys and names every bad one, and every NATS file it cannot read, by its path', async () => {
    const { files, problems } = await readRunFiles({
      rules: {
        trustedKeys: {
          'ops-2026': join(dir, 'good.pub'),
          missing: join(dir, 'nope.pub'),
          rsa: join(dir, 'rsa.pub'),
          junk: join(dir, 'junk.pub'),
          dir,
        },
      } as unknown as AgentConfig['rules'],
      nats: {
        servers: ['nats://127.0.0.1:4222'],
        credentials: join(dir, 'agent.creds'),
        tls: { ca: join(dir, 'ca.pem') },
        heartbeatMs: 5000,
        assignmentPollMs: 60_000,
      },
    });
    expect([...files.trustedKeys.keys()]).toEqual(['ops-2026']);
    expect(Buffer.from(files.credentials ?? []).toString()).toBe('creds');
    expect(problems.map(problemLine)).toEqual([
      `rules.trustedKeys.missing: cannot read ${join(dir, 'nope.pub')}: no such file`,
      `rules.trustedKeys.rsa: ${join(dir, 'rsa.pub')} holds an rsa key, not an ed25519 one`,
      expect.stringMatching(
        new RegExp(`^rules\\.trustedKeys\\.junk: ${join(dir, 'junk.pub')} holds no public key in PEM`),
      ),
      `rules.trustedKeys.dir: cannot read ${dir}: it is a directory`,
      `nats.tls.ca: cannot read ${join(dir, 'ca.pem')}: no such file`,
    ]);
    expect(problems.map((p) => p.code)).toEqual([
      'TRUSTED_KEY_UNREADABLE',
      'TRUSTED_KEY_INVALID',
      'TRUSTED_KEY_INVALID',
      'TRUSTED_KEY_UNREADABLE',
      'NATS_FILE_UNREADABLE',
    ]);
    const err = new PreflightFailedError(problems.slice(0, 1));
    expect(err).toMatchObject({ code: 'PREFLIGHT_FAILED' });
    expect(err.message).toBe(`cannot start:\n  ${problemLine(problems[0]!)}`);
  });
});

describe('preflight: the admin endpoints', () => {
  let dir: string;
  const servers: { close: () => void }[] = [];
  const admin = (over: Partial<AgentConfig['admin']> = {}): AgentConfig['admin'] => ({
    listen: '127.0.0.1:0',
    socket: join(dir, 'admin.sock'),
    socketMode: 0o660,
    ...over,
  });
  const sources = {
    metrics: new AgentMetrics({ defaultMetrics: false }),
    snapshot: () => agentSnapshot(),
    status: () => statusOf(agentSnapshot()),
  };
  const busyPort = async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return (server.address() as AddressInfo).port;
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-preflight-admin-'));
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [
      'EADDRINUSE',
      '127.0.0.1:9180',
      'cannot listen on 127.0.0.1:9180: another process already listens there',
    ],
    [
      'EACCES',
      '127.0.0.1:80',
      'cannot listen on 127.0.0.1:80: permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)',
    ],
    [
      'EADDRNOTAVAIL',
      '192.0.2.1:9180',
      'cannot listen on 192.0.2.1:9180: 192.0.2.1 is not an address of this machine',
    ],
    [
      'ENOTFOUND',
      'nosuch.invalid:9180',
      'cannot listen on nosuch.invalid:9180: nosuch.invalid does not resolve to an address',
    ],
    ['EMFILE', '127.0.0.1:9180', 'cannot listen on 127.0.0.1:9180: EMFILE'],
  ])('says why it cannot listen: %s', (code, address, message) => {
    expect(listenProblem(address, errno(code))).toBe(message);
  });

  it('finds nothing wrong with free endpoints, and leaves nothing behind', async () => {
    expect(await probeAdmin(admin())).toEqual({ problems: [], heldByAgent: [] });
    expect(existsSync(join(dir, 'admin.sock'))).toBe(false);
  });

  it('refuses a port another process holds, a missing socket directory and an unknown group, as run does', async () => {
    const port = await busyPort();
    const broken = admin({ listen: `127.0.0.1:${port}`, socket: join(dir, 'nodir', 'admin.sock') });
    const probe = await probeAdmin(broken);
    expect(probe.heldByAgent).toEqual([]);
    expect(probe.problems.map(problemLine)).toEqual([
      `admin.listen: cannot listen on 127.0.0.1:${port}: another process already listens there`,
      expect.stringMatching(
        /^admin\.socket: cannot create .*nodir\/admin\.sock: the directory .*nodir does not exist/,
      ),
    ]);
    // run: the same lines, in a PreflightFailedError, and the TCP port it had opened is closed again.
    const failed = await openAdmin(broken, sources).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(PreflightFailedError);
    expect((failed as PreflightFailedError).problems.map(problemLine)).toEqual([
      probe.problems[0] && problemLine(probe.problems[0]),
    ]);
    const socketOnly = admin({ socket: join(dir, 'nodir', 'admin.sock') });
    const second = (await openAdmin(socketOnly, sources).catch((e: unknown) => e)) as PreflightFailedError;
    expect(second.problems.map(problemLine)).toEqual([problemLine(probe.problems[1]!)]);
    const group = await probeAdmin(admin({ socketGroup: 'no-such-group-rhi' }));
    expect(group.problems.map(problemLine)).toEqual([
      "admin.socketGroup: no group 'no-such-group-rhi' on this machine",
    ]);
  });

  it('takes endpoints a running rhi-agent holds as held, not as problems', async () => {
    await mkdir(join(dir, 'live'), { recursive: true });
    const live = admin({ socket: join(dir, 'live', 'admin.sock') });
    const running = await openAdmin(live, sources);
    servers.push(running.tcp, running.control);
    const probe = await probeAdmin({ ...live, listen: `127.0.0.1:${running.address.port}` });
    expect(probe).toEqual({ problems: [], heldByAgent: ['admin.listen', 'admin.socket'] });
    // Another program on the port (it does not answer as an rhi-agent) is a problem.
    const other = await probeAdmin({ ...live, listen: `127.0.0.1:${await busyPort()}` });
    expect(other.problems.map((p) => p.path)).toEqual(['admin.listen']);
    expect(other.heldByAgent).toEqual(['admin.socket']);
  });

  it('turns the findings into checklist lines, failures first', () => {
    const config = { admin: admin({ listen: '127.0.0.1:9180' }) };
    const files = [
      {
        code: 'TRUSTED_KEY_UNREADABLE' as const,
        path: 'rules.trustedKeys.ops',
        message: 'cannot read /k: no such file',
      },
    ];
    expect(
      describePreflight(config, files, 0, {
        problems: [{ code: 'ADMIN_LISTEN_FAILED', path: 'admin.listen', message: 'in use' }],
        heldByAgent: ['admin.socket'],
      }),
    ).toEqual([
      { verdict: 'fail', what: 'rules.trustedKeys.ops: cannot read /k: no such file' },
      { verdict: 'fail', what: 'admin.listen: in use' },
      {
        verdict: 'ok',
        what: `admin.socket ${config.admin.socket} is held by the running rhi-agent (free once it stops)`,
      },
    ]);
    expect(describePreflight(config, [], 2, { problems: [], heldByAgent: [] }).map((i) => i.what)).toEqual([
      'rules.trustedKeys: 2 ed25519 keys read',
      'admin.listen 127.0.0.1:9180 can be listened on',
      `admin.socket ${config.admin.socket} can be created with its mode and group`,
    ]);
  });
});

describe('check: the event ring', () => {
  const sinks = [
    { name: 'stdout', type: 'fd', dropped: 0, description: 'standard output (fd#1)' },
    { name: 'buf0', type: 'buffer', dropped: 0, description: 'in-memory ring buffer' },
    { name: 'events', type: 'buffer', dropped: 0, description: 'events' },
  ];
  it('passes a ring HAProxy lets it follow, and fails one it refuses, naming the rings it has', () => {
    expect(describeEventRing('events', 2000, { following: true })).toEqual({
      verdict: 'ok',
      what: "haproxy.eventRing: HAProxy's ring 'events' is followed",
    });
    const missing = parseCommandError('show events evnets -w -n', 'No such event sink');
    expect(describeEventRing('evnets', 2000, { following: false, error: missing!, sinks })).toEqual({
      verdict: 'fail',
      what: `haproxy.eventRing: HAProxy has no ring "evnets" (No such event sink); its rings: buf0, events; without it, HAProxy's changes are seen only by the poll every 2000 ms`,
    });
    const denied = new HaproxyPermissionDeniedError('show events events -w -n');
    expect(describeEventRing('events', 250, { following: false, error: denied }).what).toMatch(
      /the stats socket level is too low \(following a ring needs the stats socket at level operator or admin\); without it/,
    );
  });
});
