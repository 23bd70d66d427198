import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Daemon, waitFor } from '@rhi/test-support';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrefix } from '../src/index.js';

/**
 * Canonical prefixes must be written exactly as BIRD 2 prints them in `show route`, or the agent would see
 * a difference where there is none. Loads random prefixes into a real BIRD (static blackholes, no kernel
 * protocol) and compares its output with parsePrefix.
 */
const run = promisify(execFile);
const BIRD = process.env['BIRD'] ?? '/usr/sbin/bird';
const BIRDC = process.env['BIRDC'] ?? '/usr/sbin/birdc';

const group = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
const v6 = fc
  .tuple(fc.array(group, { minLength: 6, maxLength: 6 }), fc.integer({ min: 32, max: 128 }))
  .map(([g, len]) => `2001:db8:${g.map((x) => x.toString(16)).join(':')}/${len}`);
const v4 = fc
  .tuple(fc.integer({ min: 0, max: 0x1ffff }), fc.integer({ min: 15, max: 32 }))
  .map(([n, len]) => `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}/${len}`);
const special = [
  '::ffff:198.18.200.7/128',
  '::ffff:198.18.0.0/112',
  '::198.18.200.8/128',
  '2001:db8::1:0:0:1/128',
  '2001:db8:0:1:1:1:1:1/128',
  '2001:0:0:1::1/128',
  '64:ff9b::198.18.200.9/128',
];

/** Random prefixes, brought to their network address, deduplicated: canonical text by parsePrefix. */
function prefixes(): Map<string, string> {
  const out = new Map<string, string>();
  for (const text of [
    ...special,
    ...fc.sample(v6, { numRuns: 150, seed: 11 }),
    ...fc.sample(v4, { numRuns: 50, seed: 12 }),
  ]) {
    let parsed = parsePrefix(text);
    if (!parsed.ok && parsed.code === 'RULE_HOST_BITS') {
      const suggestion = /did you mean '([^']+)'/.exec(parsed.message)?.[1] ?? '';
      parsed = parsePrefix(suggestion);
    }
    if (!parsed.ok) throw new Error(`${text}: ${parsed.message}`);
    out.set(parsed.prefix, parsed.family);
  }
  return out;
}

let dir = '';
let bird: Daemon | undefined;
let socket = '';
const expected = prefixes();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rhi-rules-bird-'));
  socket = join(dir, 'bird.ctl');
  const routes = (family: string) =>
    [...expected]
      .filter(([, f]) => f === family)
      .map(([p]) => `  route ${p} blackhole;`)
      .join('\n');
  const config = [
    // Without a log line BIRD logs to syslog, and without /dev/log to /dev/console (slow on a serial console).
    'log stderr all;',
    'router id 198.18.0.1;',
    `protocol static s4 {\n  ipv4;\n${routes('ipv4')}\n}`,
    `protocol static s6 {\n  ipv6;\n${routes('ipv6')}\n}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'bird.conf'), config);
  const daemon = Daemon.spawn(BIRD, ['-f', '-c', join(dir, 'bird.conf'), '-s', socket]);
  bird = daemon;
  await waitFor('bird to answer on its control socket', async () => {
    if (!daemon.running) throw new Error(`bird exited: ${daemon.log}`);
    const { stdout } = await run(BIRDC, ['-s', socket, 'show', 'status']);
    return stdout.includes('Daemon is up and running') ? true : undefined;
  });
});

afterAll(async () => {
  await bird?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('canonical prefixes against BIRD 2', () => {
  it('are the prefixes BIRD prints in show route', async () => {
    // The two static protocols need not start in the same round of BIRD's loop: wait until BIRD holds as
    // many routes as the config has, then compare the text.
    await waitFor(`BIRD to hold all ${expected.size} routes`, async () => {
      const { stdout } = await run(BIRDC, ['-s', socket, 'show', 'route', 'count']);
      const total = /Total: (\d+) of/.exec(stdout)?.[1];
      return total !== undefined && Number(total) >= expected.size ? true : undefined;
    });
    const { stdout } = await run(BIRDC, ['-s', socket, 'show', 'route']);
    const shown = stdout
      .split('\n')
      .map((l) => /^(\S+\/\d+)\s/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined);
    expect(shown.sort()).toEqual([...expected.keys()].sort());
  });
});
