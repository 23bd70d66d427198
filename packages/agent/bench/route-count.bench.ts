import type { ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BirdClient, renderInclude } from '@rhi/bird-client';
import type { DesiredRoute } from '@rhi/bird-client';
import { freePort, startBackends, startBgpPair, startHaproxy, startNats, waitFor } from '@rhi/test-support';
import type { BgpPair, NatsInstance } from '@rhi/test-support';
import { test } from 'vitest';
import { spawnAgent, stopAgent } from '../test/support/agent-process.js';
import { segments, timestampPair } from './bird-timestamps.js';
import { startMachineJitter } from './machine-jitter.js';
import { percentile, sleep, until as untilHeld } from './peer-poll.js';

// The cost of a change as the node grows: the node holds N routes (N-1 that stay, spread over 100 static
// backends, and one that follows be_app), and the benchmark fails and recovers be_app's only server over
// the stats socket (`set server be_app/s1 health down|up`), rise and fall 1 with no delay. Each change
// through the built `rhi-agent` (event ring, one HAProxy thread) is followed by the same change on a second
// BGP pair holding the same N routes with no agent at all (the floor: at the moment of the change, the
// include file, rendered beforehand, is written next to the old one and renamed over it, and `configure`
// is sent): both in the same minutes. Latency is
// measured at each pair's BGP peer (polled every 2 ms); BIRD's own clocks split each change into the
// agent's share (command to BIRD's `configure`) and BGP's. After the rounds at the largest N, the agent is
// left alone for RHI_BENCH_IDLE_S seconds and its CPU and RSS read from /proc.
//
// RHI_BENCH_ROUTE_COUNTS (default 1,1000,5000,10000), RHI_BENCH_ROUNDS (changes per count, half of them
// withdrawals; default 40), RHI_BENCH_AGENT_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`),
// RHI_BENCH_NATS=1 (the agent reports to a nats-server, as in a fleet: its status is published at each change).

const COUNTS = (process.env.RHI_BENCH_ROUTE_COUNTS ?? '1,1000,5000,10000').split(',').map(Number);
const ROUNDS = Number(process.env.RHI_BENCH_ROUNDS ?? 40);
const IDLE_S = Number(process.env.RHI_BENCH_IDLE_S ?? 30);
const STATIC_BACKENDS = 100;
const POLL_GAP_MS = 2;
const TOGGLED: DesiredRoute = { table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' };

/** The i-th route that stays (1 <= i < 32 768), in 198.18.128.0/17. */
const held = (i: number): DesiredRoute => ({
  table: 'vol1',
  prefix: `198.18.${128 + (i >> 8)}.${i & 255}/32`,
  family: 'ipv4',
});

const until = (client: BirdClient, want: boolean, t0: number) =>
  untilHeld(client, TOGGLED.prefix, want, t0, { gapMs: POLL_GAP_MS, timeoutMs: 10_000 });

async function peerHolds(pair: BgpPair, n: number): Promise<void> {
  const peer = new BirdClient({ socketPath: pair.router.socket, timeoutMs: 30_000 });
  try {
    await waitFor(
      `${n} routes at the peer`,
      async () => {
        const [count] = await peer.showRouteCount({ table: 'master4' });
        return count?.routes === n ? true : undefined;
      },
      120_000,
    );
  } finally {
    peer.close();
  }
}

async function received(pair: BgpPair): Promise<number> {
  const { updates, withdraws } = await pair.routerReceived();
  return updates + withdraws;
}

/** /proc/<pid>: CPU seconds used so far and resident set (MB). */
async function usage(pid: number): Promise<{ cpuS: number; rssMb: number }> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  // Fields 14 and 15 (utime, stime) of proc(5), counted after the ") " that ends the command name.
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpuS: ticks / 100, rssMb: Number(rss) / 1024 };
}

async function settled(pid: number): Promise<void> {
  for (let tries = 0; tries < 60; tries++) {
    const a = await usage(pid);
    await sleep(1000);
    if ((await usage(pid)).cpuS - a.cpuS < 0.05) return;
  }
  throw new Error('the agent did not settle within 60 s of its start');
}

interface CountResult {
  readonly n: number;
  readonly agent: { withdraw: number[]; announce: number[] };
  readonly floor: { withdraw: number[]; announce: number[] };
  readonly toConfigure: { agent: number[]; floor: number[] };
  readonly updates: number[];
  readonly idle?: { cpuPercent: number; rssMb: number };
  readonly machine: { p99: number; stallsPerMinute: number };
}

async function measure(n: number, idle: boolean): Promise<CountResult> {
  const dir = await mkdtemp(join(tmpdir(), 'rhi-bench-'));
  const backends = await startBackends(2);
  const statics = Array.from({ length: Math.min(STATIC_BACKENDS, Math.max(1, n - 1)) }, (_, k) => k);
  const haproxy = await startHaproxy({
    nbthread: 1,
    sections: [
      'frontend fe_web',
      `    bind 127.0.0.1:${await freePort()}`,
      '    default_backend be_app',
      'backend be_app',
      `    server s1 127.0.0.1:${backends.ports[0]} check inter 60s`,
      ...statics.flatMap((k) => [`backend be_s${k}`, `    server s1 127.0.0.1:${backends.ports[1]}`]),
    ].join('\n'),
  });
  const stay = Array.from({ length: n - 1 }, (_, i) => held(i + 1));
  const pair = await startBgpPair({ exports: ['vol1'], includeOnTmpfs: true });
  const floorPair = await startBgpPair({ exports: ['vol1'], includeOnTmpfs: true });
  const peer = new BirdClient({ socketPath: pair.router.socket });
  const floorPeer = new BirdClient({ socketPath: floorPair.router.socket });
  const floorBird = new BirdClient({ socketPath: floorPair.node.socket, timeoutMs: 30_000 });
  const layout = { tables: { vol1: {} } };
  const texts = {
    with: renderInclude([TOGGLED, ...stay], layout).text,
    without: renderInclude(stay, layout).text,
  };
  const floorSet = async (withToggled: boolean) => {
    const temp = `${floorPair.includePath}.tmp`;
    writeFileSync(temp, withToggled ? texts.with : texts.without);
    renameSync(temp, floorPair.includePath);
    await floorBird.configure();
  };
  const nats: NatsInstance | undefined = process.env.RHI_BENCH_NATS === '1' ? await startNats() : undefined;
  let agent: ChildProcess | undefined;
  let output = () => '';
  const jitter = startMachineJitter();
  try {
    await floorSet(true);
    const rules = [
      `${TOGGLED.prefix} = all(b:be_app)`,
      ...stay.map((r, i) => `${r.prefix} = all(b:be_s${i % statics.length})`),
    ];
    await writeFile(join(dir, 'rules.cfg'), `${rules.join('\n')}\n`);
    await writeFile(
      join(dir, 'agent.yaml'),
      `node: { name: bench }
haproxy: { sockets: [${haproxy.adminSocket}], eventRing: events }
bird: { socket: ${pair.node.socket}, include: ${pair.includePath}, tables: { vol1: {} } }
rules: { file: ${join(dir, 'rules.cfg')} }
allowlist: [198.18.0.0/15]
damping: { rise: { count: 1, ms: 0 }, fall: { count: 1, ms: 0 }, holdDown: false }
admin: { listen: 127.0.0.1:0, socket: ${join(dir, 'admin.sock')} }
stateDir: ${dir}
${nats ? `nats: { servers: [${nats.url}], user: ${nats.user}, password: ${nats.password} }\n` : ''}`,
    );
    const nodeArgs = process.env.RHI_BENCH_AGENT_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    ({ agent, output } = await spawnAgent(join(dir, 'agent.yaml'), nodeArgs));
    await Promise.all([peerHolds(pair, n), peerHolds(floorPair, n)]).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; agent output:\n${output().slice(0, 2000)}`);
    });
    // The agent done with its start (the first apply verified, every announcement told, the gauges set):
    // a second in which it used under 5 % of a core.
    if (agent.pid !== undefined) await settled(agent.pid);
    const clocks = { agent: await timestampPair(pair), floor: await timestampPair(floorPair) };
    const result = {
      agent: { withdraw: [] as number[], announce: [] as number[] },
      floor: { withdraw: [] as number[], announce: [] as number[] },
      updates: [] as number[],
    };
    const agentChanges: { startedAt: number; seenAfter: number }[] = [];
    const floorChanges: { startedAt: number; seenAfter: number }[] = [];
    // CLOCK_MONOTONIC in µs, the clock of V8's CPU profiles: profile-steps.mjs keeps the rounds' samples.
    const roundsFrom = process.hrtime.bigint() / 1000n;
    for (let i = 0; i < ROUNDS; i++) {
      const down = i % 2 === 0;
      const kind = down ? 'withdraw' : 'announce';
      const before = await received(pair);
      const t0 = performance.now();
      await haproxy.command(`set server be_app/s1 health ${down ? 'down' : 'up'}`);
      const seen = await until(peer, !down, t0);
      result.agent[kind].push(seen);
      agentChanges.push({ startedAt: performance.timeOrigin + t0, seenAfter: seen });
      await sleep(150 + Math.random() * 250);
      result.updates.push((await received(pair)) - before);
      const t1 = performance.now();
      void floorSet(!down);
      const floorSeen = await until(floorPeer, !down, t1);
      result.floor[kind].push(floorSeen);
      floorChanges.push({ startedAt: performance.timeOrigin + t1, seenAfter: floorSeen });
      await sleep(150 + Math.random() * 250);
    }
    process.stderr.write(
      `changes through the agent at ${n} routes, ms since the first (ms to the peer): ${agentChanges
        .map(
          (c) => `${Math.round(c.startedAt - (agentChanges[0]?.startedAt ?? 0))} (${c.seenAfter.toFixed(1)})`,
        )
        .join(', ')}\n`,
    );
    if (process.env.RHI_BENCH_AGENT_NODE_ARGS?.includes('--cpu-prof'))
      process.stderr.write(
        `profile window of the ${ROUNDS} changes at ${n} routes (agent pid ${agent.pid}): ${roundsFrom} ${process.hrtime.bigint() / 1000n}\n`,
      );
    let idleUse: CountResult['idle'];
    if (idle && agent.pid !== undefined) {
      await sleep(5000);
      const a = await usage(agent.pid);
      const idleFrom = process.hrtime.bigint() / 1000n;
      await sleep(IDLE_S * 1000);
      const b = await usage(agent.pid);
      if (process.env.RHI_BENCH_AGENT_NODE_ARGS?.includes('--cpu-prof'))
        process.stderr.write(
          `profile window of the idle ${IDLE_S} s at ${n} routes (agent pid ${agent.pid}): ${idleFrom} ${process.hrtime.bigint() / 1000n}\n`,
        );
      idleUse = { cpuPercent: ((b.cpuS - a.cpuS) / IDLE_S) * 100, rssMb: b.rssMb };
    }
    const machine = await jitter.stop();
    const [agentSplit, floorSplit] = await Promise.all([
      segments(clocks.agent, agentChanges),
      segments(clocks.floor, floorChanges),
    ]);
    return {
      n,
      ...result,
      toConfigure: { agent: agentSplit.toConfigure, floor: floorSplit.toConfigure },
      ...(idleUse ? { idle: idleUse } : {}),
      machine,
    };
  } finally {
    await jitter.stop().catch(() => undefined);
    if (agent) await stopAgent(agent);
    peer.close();
    floorPeer.close();
    floorBird.close();
    await Promise.allSettled([
      haproxy.stop(),
      pair.stop(),
      floorPair.stop(),
      backends.close(),
      nats?.destroy(),
    ]);
    await rm(dir, { recursive: true, force: true });
  }
}

const ms = (xs: number[]) => `${percentile(xs, 50).toFixed(1)} / ${percentile(xs, 99).toFixed(1)}`;

test(`the cost of a change by routes held (${COUNTS.join(', ')}), ${ROUNDS} changes each`, async () => {
  const rows = [
    '| routes held | withdraw: floor p50 / p99 | withdraw: agent p50 / p99 | announce: floor p50 / p99 | announce: agent p50 / p99 | agent p99 above floor p99 (withdraw, announce) | command to configure p50 / p99: agent, floor | BGP updates per change | machine: 1 ms sleeper p99, stalls/min |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
  ];
  const idle: string[] = [];
  const largest = Math.max(...COUNTS);
  for (const n of COUNTS) {
    const r = await measure(n, n === largest);
    const above = (kind: 'withdraw' | 'announce') =>
      (percentile(r.agent[kind], 99) - percentile(r.floor[kind], 99)).toFixed(1);
    const row = `| ${n.toLocaleString('en')} | ${ms(r.floor.withdraw)} | ${ms(r.agent.withdraw)} | ${ms(r.floor.announce)} | ${ms(r.agent.announce)} | +${above('withdraw')}, +${above('announce')} | ${ms(r.toConfigure.agent)}, ${ms(r.toConfigure.floor)} | ${[...new Set(r.updates)].sort().join(', ')} | ${r.machine.p99.toFixed(1)}, ${Math.round(r.machine.stallsPerMinute)} |`;
    rows.push(row);
    process.stderr.write(`${row}\n`);
    if (r.idle)
      idle.push(
        `idle at ${n.toLocaleString('en')} routes, ${IDLE_S} s: agent CPU ${r.idle.cpuPercent.toFixed(2)} % of a core, RSS ${r.idle.rssMb.toFixed(1)} MB`,
      );
  }
  console.log([...rows, ...idle].join('\n'));
}, 3_600_000);
