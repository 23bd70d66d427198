import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from '../src/index.js';

/** Checks proxy names against the real HAProxy: `haproxy -c` parses a config without starting it. */
const run = promisify(execFile);
const HAPROXY = process.env['HAPROXY'] ?? '/usr/sbin/haproxy';
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rhi-rules-haproxy-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function haproxyAccepts(names: readonly string[], file: string): Promise<boolean> {
  const proxies = names.flatMap((n, i) => [
    `backend ${n}`,
    `frontend ${n}`,
    `  use_backend ${n} if FALSE`,
    `# ${i}`,
  ]);
  // haproxy -c binds nothing, but exits 2 ("will not start") without a single listener.
  const defaults = [
    'defaults',
    '  mode http',
    '  timeout client 1s',
    '  timeout server 1s',
    '  timeout connect 1s',
    'frontend rhi_listener',
    '  bind 127.0.0.1:1',
  ];
  const path = join(dir, file);
  await writeFile(path, [...defaults, ...proxies, ''].join('\n'));
  try {
    await run(HAPROXY, ['-c', '-q', '-f', path]);
    return true;
  } catch (err) {
    // Exit status 1 is a rejected config; anything else (no binary, killed) must not read as a refusal.
    if ((err as { code?: unknown }).code === 1) return false;
    throw err;
  }
}

const accepted = (name: string) => parse(`198.18.200.1 = all(b:${name}, f:${name})`).ok;

describe('proxy names against HAProxy 2.6', () => {
  it('HAProxy accepts every name the rules accept', async () => {
    const random = fc.sample(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,24}$/), { numRuns: 80, seed: 5 });
    const names = [...new Set(['be_app', 'be.static', 'fe:443', 'a-b', '0', 'be_App.v2:8080-x', ...random])];
    for (const n of names) expect(accepted(n), n).toBe(true);
    expect(await haproxyAccepts(names, 'accepted.cfg')).toBe(true);
  });

  it('HAProxy refuses the characters the rules refuse', async () => {
    const refused = ['be+x', 'be/x', 'be@x', 'bé', 'be~x', 'be*x', 'be!x', 'be$x'];
    for (const n of refused) expect(accepted(n), n).toBe(false);
    const verdicts = await Promise.all(refused.map((n, i) => haproxyAccepts([n], `refused-${i}.cfg`)));
    expect(Object.fromEntries(refused.map((n, i) => [n, verdicts[i]]))).toEqual(
      Object.fromEntries(refused.map((n) => [n, false])),
    );
  });
});
