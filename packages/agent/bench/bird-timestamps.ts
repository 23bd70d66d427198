import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BgpPair, BirdInstance } from '@rhi/test-support';

/**
 * Turns a BGP pair's logs into clocks: both BIRDs log to a file of their own with microsecond epoch
 * timestamps, and the router also logs each route its session with the node brings in. BIRD stamps a
 * line with the time its loop woke up, so the node's `Reconfiguring` is when it woke with `configure`,
 * and the router's `node1.ipv4 > added|removed` is when it read the update.
 */
export async function timestampPair(pair: BgpPair): Promise<{ node: string; router: string }> {
  const rewrite = async (bird: BirdInstance, extra: (config: string) => string) => {
    const file = join(bird.dir, 'timed.log');
    const config = (await readFile(bird.configPath, 'utf8')).replace(
      /^log stderr all;$/m,
      `log "${file}" all;\ntimeformat log "%s.%6f";`,
    );
    if (!config.includes(file)) throw new Error(`no "log stderr all;" line to replace in ${bird.configPath}`);
    await writeFile(bird.configPath, extra(config));
    const reply = await bird.command('configure');
    if (!/^0003 /m.test(reply)) throw new Error(`configure with timestamps failed: ${reply}`);
    return file;
  };
  return {
    node: await rewrite(pair.node, (c) => c),
    router: await rewrite(pair.router, (c) =>
      c.replace('protocol bgp node1 {', 'protocol bgp node1 {\n  debug { routes };'),
    ),
  };
}

/** Epoch milliseconds of the log lines that match. */
async function loggedAt(file: string, pattern: RegExp): Promise<number[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => pattern.test(line))
    .map((line) => Number(line.split(' ', 1)[0]) * 1000);
}

/** Per change, the segments between the command and the route seen by the benchmark's poll. */
export interface Segments {
  /** Command (or `set()`) to the node's BIRD waking up with `configure`. */
  readonly toConfigure: number[];
  /** The node's BIRD to the router's BIRD reading the update. */
  readonly bgp: number[];
  /** The router's BIRD to the benchmark's poll seeing the route. */
  readonly toPoll: number[];
}

/**
 * Splits each change (`startedAt`: epoch ms of the command; `seenAfter`: ms until the poll saw it) at
 * the first `configure` and the first route line after the command. A change whose lines cannot be
 * matched (none, or after the poll already saw it) is left out.
 */
export async function segments(
  files: { node: string; router: string },
  changes: readonly { startedAt: number; seenAfter: number }[],
): Promise<Segments> {
  const configured = await loggedAt(files.node, /<INFO> Reconfiguring$/);
  const received = await loggedAt(files.router, /node1\.ipv4 > (added|removed)/);
  const out = { toConfigure: [] as number[], bgp: [] as number[], toPoll: [] as number[] };
  // BIRD's clock and ours are both the system's real-time clock; allow for the rounding of the two.
  const first = (xs: number[], after: number) => xs.find((x) => x >= after - 0.05);
  for (const { startedAt, seenAfter } of changes) {
    const seen = startedAt + seenAfter;
    const c = first(configured, startedAt);
    const r = c === undefined ? undefined : first(received, c);
    if (c === undefined || r === undefined || r > seen + 0.05) continue;
    out.toConfigure.push(c - startedAt);
    out.bgp.push(r - c);
    out.toPoll.push(seen - r);
  }
  return out;
}
