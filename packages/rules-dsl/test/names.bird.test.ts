import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableNameProblem } from '../src/names.js';

/** Checks route table names against the real BIRD: `bird -p` parses a config without starting the daemon. */
const run = promisify(execFile);
const BIRD = process.env['BIRD'] ?? '/usr/sbin/bird';
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rhi-rules-names-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function birdAccepts(tables: readonly string[], file: string): Promise<boolean> {
  const protocols = tables.map((t) => `protocol static ${t} { ipv4; route 198.18.200.1/32 blackhole; }`);
  const path = join(dir, file);
  await writeFile(path, ['router id 198.18.0.1;', ...protocols, ''].join('\n'));
  try {
    await run(BIRD, ['-p', '-c', path]);
    return true;
  } catch (err) {
    // Exit status 1 is a rejected config; anything else (no binary, killed) must not read as a refusal.
    if ((err as { code?: unknown }).code === 1) return false;
    throw err;
  }
}

describe('route table names against BIRD 2', () => {
  it('BIRD accepts every name the rules accept (keywords are case-sensitive)', async () => {
    const random = fc.sample(
      fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/).filter((t) => !tableNameProblem(t)),
      { numRuns: 60, seed: 7 },
    );
    const names = [
      ...new Set(['vol1', 'vol2', '_', 'V', 'Static', 'TABLE', 'Bgp', 'v'.repeat(64), ...random]),
    ];
    for (const n of names) expect(tableNameProblem(n), n).toBeUndefined();
    expect(await birdAccepts(names, 'accepted.conf')).toBe(true);
  });

  it('BIRD refuses the names the rules refuse', async () => {
    const refused = [
      'static',
      'table',
      'bgp',
      'ipv4',
      'import',
      'master4',
      'public',
      'primary',
      'vol-2',
      '2vol',
    ];
    for (const n of refused) expect(tableNameProblem(n), n).toBeDefined();
    const verdicts = await Promise.all(refused.map((n, i) => birdAccepts([n], `refused-${i}.conf`)));
    expect(Object.fromEntries(refused.map((n, i) => [n, verdicts[i]]))).toEqual(
      Object.fromEntries(refused.map((n) => [n, false])),
    );
  });
});
