import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../src/http/auth.js';

// The installed `rhi-controller`, as an operator runs it.

const bin = fileURLToPath(new URL('../bin/rhi-controller.js', import.meta.url));
const run = promisify(execFile);
const TOKEN = 'an-operator-token-of-some-length';

const exec = async (args: string[], input?: string) =>
  new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.stdin.end(input ?? '');
    child.once('exit', (code) => resolve({ code, out }));
  });

describe('the rhi-controller command', () => {
  let nats: NatsInstance;
  let dir: string;

  beforeAll(async () => {
    nats = await startNats();
    dir = await mkdtemp(join(tmpdir(), 'rhi-controller-'));
  });

  afterAll(async () => {
    await nats?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes a token for the config, and refuses a short one', async () => {
    expect(await exec(['hash-token'], `${TOKEN}\n`)).toEqual({ code: 0, out: `${tokenHash(TOKEN)}\n` });
    expect((await exec(['hash-token'], 'short')).code).toBe(2);
  });

  it('checks a config, and names the place of a mistake', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, `nats:\n  servers: [nats://127.0.0.1:4222]\napi:\n  tokens: []\n`);
    const { code, out } = await exec(['check', '--config', bad]);
    expect(code).toBe(2);
    expect(out).toContain(`${bad}:2:3: nats: NATS must be authenticated`);
    expect(out).toMatch(new RegExp(`${bad}:4:11: api\\.tokens: give at least one token`));
  });

  it('runs, serves its API, and stops on SIGTERM', async () => {
    const port = await freePort();
    const file = join(dir, 'controller.yaml');
    await writeFile(
      file,
      `nats:\n  servers: [${nats.url}]\n  user: ${nats.user}\n  password: ${nats.password}\napi:\n  listen: 127.0.0.1:${port}\n  tokens:\n    - { name: ops, role: operator, sha256: ${tokenHash(TOKEN)} }\n`,
    );
    expect((await exec(['check', '--config', file])).code).toBe(0);
    const child = spawn(process.execPath, [bin, 'run', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    try {
      await waitFor('the controller to be healthy', async () => {
        if (child.exitCode !== null) throw new Error(`exited: ${log}`);
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
        return res?.status === 200 ? true : undefined;
      });
      const { stdout } = await run(
        process.execPath,
        [fileURLToPath(new URL('../bin/rhictl.js', import.meta.url)), 'status'],
        {
          env: { ...process.env, RHICTL_URL: `http://127.0.0.1:${port}`, RHICTL_TOKEN: TOKEN },
        },
      );
      expect(stdout).toContain('nodes:  0 (0 up, 0 lost)');
      expect(log).toContain('"event":"controllerStarted"');
      expect(log).toContain('"event":"natsConnected"');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    expect(child.exitCode).toBe(0);
  });
});
