import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BirdClient, BirdRouteInjector } from '@rhi/bird-client';
import { freePort, startBackends, startBgpPair, startHaproxy, waitFor } from '@rhi/test-support';
import type { BgpPair } from '@rhi/test-support';
import { test } from 'vitest';
import { spawnAgent, stopAgent } from '../test/support/agent-process.js';
import { segments, timestampPair } from './bird-timestamps.js';
import type { Segments } from './bird-timestamps.js';
import { startMachineJitter } from './machine-jitter.js';
import type { MachineJitter } from './machine-jitter.js';
import { percentile, present as isPresent, sleep, until as untilHeld } from './peer-poll.js';

// Decision latency: from a server state change in HAProxy (`set server be_app/s1 health down|up` on the
// admin socket) to the VIP route leaving/arriving in the agent's BIRD and on its BGP peer. The agent is
// the built `rhi-agent run`, a process of its own as in production; this process polls both BIRDs at
// the same time, every 2 ms, over one control-socket connection each. The floor is the same change made
// by bird-client's injector directly at the moment of the change (no agent, no HAProxy). Each change is
// also checked to reach the peer as exactly one BGP update (its import updates + withdraws counters).
// With the event ring, the "ring" row is HAProxy's share: when the change's line of the events ring
// reaches a `show events -w` follower of this process. In the event-ring setup polled at the peer, each
// change through the agent is followed by a floor change on a second BGP pair (the "floor" row): both
// are measured in the same minutes, which matters on a VM whose speed drifts. HAProxy runs with one thread
// (`nbthread 1`) except in one setup with its default, a thread per CPU: on this 2-vCPU VM, handing the
// ring line from the thread that ran the command to the follower's thread costs several ms by itself
// (README, "Decision latency"). Each setup also runs a process that sleeps 1 ms at a time and reports
// how late it woke (machine-jitter.ts): on a VM, the stalls it sees are in every row of the same minutes.
// Where a floor runs beside the agent, both pairs' BIRDs log with microsecond timestamps, which split each
// change into segments (bird-timestamps.ts).

const ROUNDS = Number(process.env.RHI_BENCH_ROUNDS ?? 200);
const POLL_GAP_MS = 2;
const ROUTE = { table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' } as const;

type Mode = 'floor' | 'event ring' | 'poll 250 ms';
/** Which BIRDs the benchmark polls during a change: the issue's reference polled only the router. */
type Watched = 'peer' | 'both';

const present = (client: BirdClient) => isPresent(client, ROUTE.prefix);
const until = (client: BirdClient, want: boolean, t0: number) =>
  untilHeld(client, ROUTE.prefix, want, t0, { gapMs: POLL_GAP_MS, timeoutMs: 5000 });

/** The peer's count of BGP updates and withdraws received from the node. */
async function received(pair: BgpPair): Promise<number> {
  const { updates, withdraws } = await pair.routerReceived();
  return updates + withdraws;
}

/** The floor's injector: bird-client alone on the pair's node BIRD, holding the route. */
async function floorInjector(pair: BgpPair): Promise<BirdRouteInjector> {
  const injector = new BirdRouteInjector({
    client: new BirdClient({ socketPath: pair.node.socket }),
    includePath: pair.includePath,
    layout: { tables: { vol1: {} } },
  });
  await injector.set([ROUTE]);
  return injector;
}

/** The floor's setup interleaved with the agent's: a BGP pair of its own. */
async function startFloor(includeOnTmpfs: boolean) {
  const pair = await startBgpPair({ exports: ['vol1'], includeOnTmpfs });
  return {
    pair,
    injector: await floorInjector(pair),
    peer: new BirdClient({ socketPath: pair.router.socket }),
  };
}

/**
 * One setup, ROUNDS changes. With `interleaveFloor`, every change through the agent is followed by one
 * made by the floor's injector on a second BGP pair: both see the same moments of the machine.
 */
async function measure(
  mode: Mode,
  includeOnTmpfs: boolean,
  watched: Watched,
  interleaveFloor: boolean,
  nbthread: number | undefined,
) {
  const dir = await mkdtemp(join(tmpdir(), 'rhi-bench-'));
  const backends = await startBackends(1);
  const haproxy = await startHaproxy({
    ...(nbthread === undefined ? {} : { nbthread }),
    sections: [
      'frontend fe_web',
      `    bind 127.0.0.1:${await freePort()}`,
      '    default_backend be_app',
      'backend be_app',
      `    server s1 127.0.0.1:${backends.ports[0]} check inter 60s`,
    ].join('\n'),
  });
  const pair = await startBgpPair({ exports: ['vol1'], includeOnTmpfs });
  const node = new BirdClient({ socketPath: pair.node.socket });
  const peer = new BirdClient({ socketPath: pair.router.socket });
  let output = () => '';
  let agent: ChildProcess | undefined;
  let injector: BirdRouteInjector | undefined;
  const floor = interleaveFloor ? await startFloor(includeOnTmpfs) : undefined;
  const changes: { startedAt: number; seenAfter: number }[] = [];
  const floorChanges: { startedAt: number; seenAfter: number }[] = [];
  let jitter: ReturnType<typeof startMachineJitter> | undefined;
  try {
    // Where the time goes, from BIRD's own clocks: only where a floor runs beside the agent to compare with.
    const clocks = floor && { agent: await timestampPair(pair), floor: await timestampPair(floor.pair) };
    if (mode === 'floor') {
      injector = await floorInjector(pair);
    } else {
      await writeFile(join(dir, 'rules.cfg'), `${ROUTE.prefix} = all(b:be_app)\n`);
      await writeFile(
        join(dir, 'agent.yaml'),
        `node: { name: bench }
haproxy: { sockets: [${haproxy.adminSocket}], pollIntervalMs: 250${mode === 'event ring' ? ', eventRing: events' : ''} }
bird: { socket: ${pair.node.socket}, include: ${pair.includePath}, tables: { vol1: {} } }
rules: { file: ${join(dir, 'rules.cfg')} }
allowlist: [198.18.200.0/24]
damping: { rise: { count: 1, ms: 0 }, fall: { count: 1, ms: 0 }, holdDown: false }
admin: { listen: 127.0.0.1:0, socket: ${join(dir, 'admin.sock')} }
stateDir: ${dir}
`,
      );
      ({ agent, output } = await spawnAgent(join(dir, 'agent.yaml')));
    }
    await waitFor(
      'the route on the peer',
      async () => ((await present(peer)) ? true : undefined),
      20_000,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; agent output:\n${output().slice(0, 2000)}`);
    });
    const inBird: number[] = [];
    const onPeer: number[] = [];
    const updates: number[] = [];
    const onFloorPeer: number[] = [];
    // HAProxy's own share: when each change's line of the events ring reaches a follower of our own.
    const ring: number[] = [];
    let ringLineAt = NaN;
    const follower = mode === 'event ring' ? connect(haproxy.adminSocket) : undefined;
    follower?.write('show events events -w -n\n');
    let pending = '';
    follower?.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      if (Number.isNaN(ringLineAt) && lines.some((l) => l.includes('be_app/s1')))
        ringLineAt = performance.now();
    });
    jitter = startMachineJitter();
    for (let i = 0; i < ROUNDS; i++) {
      const down = i % 2 === 0;
      const before = await received(pair);
      ringLineAt = NaN;
      const t0 = performance.now();
      if (injector) void injector.set(down ? [] : [ROUTE]);
      else await haproxy.command(`set server be_app/s1 health ${down ? 'down' : 'up'}`);
      const [a, b] = await Promise.all([
        watched === 'both' ? until(node, !down, t0) : NaN,
        until(peer, !down, t0),
      ]);
      if (watched === 'both') inBird.push(a);
      if (follower) ring.push(ringLineAt - t0);
      onPeer.push(b);
      changes.push({ startedAt: performance.timeOrigin + t0, seenAfter: b });
      // Late duplicates would show up in this pause, before the next change. Its random part spans a full
      // poll period, so that changes fall at every phase of the agent's 250 ms polling.
      await sleep(150 + Math.random() * 250);
      updates.push((await received(pair)) - before);
      if (floor) {
        const t1 = performance.now();
        void floor.injector.set(down ? [] : [ROUTE]);
        const seenAfter = await until(floor.peer, !down, t1);
        onFloorPeer.push(seenAfter);
        floorChanges.push({ startedAt: performance.timeOrigin + t1, seenAfter });
        await sleep(150 + Math.random() * 250);
      }
    }
    follower?.destroy();
    const machine = await jitter.stop();
    const split = clocks && {
      agent: await segments(clocks.agent, changes),
      floor: await segments(clocks.floor, floorChanges),
    };
    return { inBird, onPeer, updates, ring, onFloorPeer, machine, split };
  } finally {
    await jitter?.stop().catch(() => undefined);
    if (agent) await stopAgent(agent);
    node.close();
    peer.close();
    floor?.peer.close();
    await Promise.allSettled([haproxy.stop(), pair.stop(), backends.close(), floor?.pair.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The machine in the same minutes: how late a process that sleeps 1 ms at a time woke up. */
const machineRow = (m: MachineJitter) =>
  `  machine: a 1 ms sleeper woke ${[m.p50, m.p99, m.p999, m.max].map((x) => x.toFixed(1)).join(' / ')} ms late (p50 / p99 / p99.9 / max), ${Math.round(m.stallsPerMinute)} times a minute over 5 ms`;

/** p50 / p99 / max of each segment, through the agent and on the floor's pair. */
const splitRows = (split: { agent: Segments; floor: Segments }) => {
  const stats = (xs: number[]) => [50, 99, 100].map((p) => percentile(xs, p).toFixed(2)).join(' / ');
  const names = [
    ['toConfigure', 'command to BIRD running configure'],
    ['bgp', 'BIRD to the peer (BGP)'],
    ['toPoll', "peer to the benchmark's poll"],
  ] as const;
  return [
    `  BIRD's clocks, p50 / p99 / max ms (${split.agent.bgp.length} and ${split.floor.bgp.length} changes matched): agent | floor`,
    ...names.map(
      ([k, label]) => `    ${label.padEnd(36)}${stats(split.agent[k]).padEnd(24)}| ${stats(split.floor[k])}`,
    ),
  ];
};

test(`decision latency, ${ROUNDS} state changes per mode (goal: p99 under 15 ms with the event ring)`, async () => {
  const rows: string[] = [
    'mode          include  polled  threads  where   p50 ms  p90 ms  p99 ms  max ms  BGP updates per change',
  ];
  // [mode, include on tmpfs, polled, floor interleaved, HAProxy threads (undefined: one per CPU)]
  const allRuns: [Mode, boolean, Watched, boolean, number | undefined][] = [
    ['floor', true, 'peer', false, 1],
    ['event ring', true, 'peer', true, 1],
    ['event ring', true, 'both', false, 1],
    ['event ring', false, 'both', false, 1],
    ['event ring', true, 'peer', true, undefined],
    ['poll 250 ms', true, 'peer', false, 1],
  ];
  // RHI_BENCH_MODES=floor,event ring: only the setups of those modes.
  const only = process.env.RHI_BENCH_MODES?.split(',');
  const runs = allRuns.filter(([mode]) => only === undefined || only.includes(mode));
  for (const [mode, tmpfs, watched, interleaveFloor, nbthread] of runs) {
    const r = await measure(mode, tmpfs, watched, interleaveFloor, nbthread);
    const counts = [...new Set(r.updates)].sort().join(', ');
    const series = [
      ['ring', r.ring] as const,
      ['bird', r.inBird] as const,
      ['peer', r.onPeer] as const,
      ['floor', r.onFloorPeer] as const,
    ].filter(([, xs]) => xs.length > 0);
    const block = series.map(
      ([where, xs]) =>
        `${mode.padEnd(14)}${(tmpfs ? 'tmpfs' : 'ext4').padEnd(9)}${watched.padEnd(8)}${String(nbthread ?? availableParallelism()).padEnd(9)}${where.padEnd(6)}${[
          50, 90, 99, 100,
        ]
          .map((p) => percentile(xs, p).toFixed(1).padStart(8))
          .join('')}  ${where === 'peer' ? counts : ''}${
          where === 'ring' && xs.some(Number.isNaN)
            ? `(no line seen for ${xs.filter(Number.isNaN).length})`
            : ''
        }`,
    );
    block.push(machineRow(r.machine), ...(r.split ? splitRows(r.split) : []));
    rows.push(...block);
    process.stderr.write(`${block.join('\n')}\n`);
  }
  console.log(rows.join('\n'));
}, 900_000);
