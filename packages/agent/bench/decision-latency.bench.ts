import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentApp, parseConfig } from '@rhi/agent';
import { birdCommand, freePort, startBackends, startBgpPair, startHaproxy, waitFor } from '@rhi/test-support';
import { pino } from 'pino';
import { test } from 'vitest';

// Decision latency: from a server state change in HAProxy (`set server be_app/s1 health down|up` on the
// admin socket) to the VIP route leaving/arriving in the agent's BIRD and on its BGP peer, both polled
// every ~1 ms over their control sockets. With the event ring and with 250 ms polling.

const ROUNDS = Number(process.env.RHI_BENCH_ROUNDS ?? 40);

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

async function measure(eventRing: boolean) {
  const dir = await mkdtemp(join(tmpdir(), 'rhi-bench-'));
  const backends = await startBackends(1);
  const haproxy = await startHaproxy({
    sections: [
      'frontend fe_web',
      `    bind 127.0.0.1:${await freePort()}`,
      '    default_backend be_app',
      'backend be_app',
      `    server s1 127.0.0.1:${backends.ports[0]} check inter 60s`,
    ].join('\n'),
  });
  const pair = await startBgpPair({ exports: ['vol1'] });
  const { node: bird, router: peer } = pair;
  await writeFile(join(dir, 'rules.cfg'), '198.18.200.1 = all(b:be_app)\n');
  const config = parseConfig(
    `node: { name: bench }
haproxy: { sockets: [${haproxy.adminSocket}], pollIntervalMs: 250${eventRing ? ', eventRing: events' : ''} }
bird: { socket: ${bird.socket}, include: ${pair.includePath}, tables: { vol1: {} } }
rules: { file: ${join(dir, 'rules.cfg')} }
allowlist: [198.18.200.0/24]
damping: { rise: { count: 1, ms: 0 }, fall: { count: 1, ms: 0 }, holdDown: false }
admin: { listen: 127.0.0.1:0 }
stateDir: ${dir}
`,
    'bench.yaml',
  );
  const app = await AgentApp.start({ config, logger: pino({ level: 'silent' }), version: 'bench' });
  const present = async (socket: string) =>
    !/^8001 /m.test(await birdCommand(socket, 'show route 198.18.200.1/32'));
  const until = async (socket: string, want: boolean, t0: number) => {
    for (;;) {
      if ((await present(socket)) === want) return performance.now() - t0;
      if (performance.now() - t0 > 5000) throw new Error('no change within 5 s');
    }
  };
  await waitFor(
    'the route on the peer',
    async () => ((await present(peer.socket)) ? true : undefined),
    20_000,
  );
  const bird_: number[] = [];
  const peer_: number[] = [];

  for (let i = 0; i < ROUNDS; i++) {
    const down = i % 2 === 0;
    const t0 = performance.now();
    await haproxy.command(`set server be_app/s1 health ${down ? 'down' : 'up'}`);
    bird_.push(await until(bird.socket, !down, t0));
    peer_.push(await until(peer.socket, !down, t0));
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
  }
  await app.stop();
  await Promise.allSettled([haproxy.stop(), pair.stop(), backends.close()]);
  await rm(dir, { recursive: true, force: true });
  return { bird: bird_, peer: peer_ };
}

test(`decision latency, ${ROUNDS} state changes per mode (goal: p99 under 15 ms with the event ring)`, async () => {
  const rows: string[] = ['mode            where   p50 ms  p90 ms  p99 ms  max ms'];
  for (const eventRing of [true, false]) {
    const r = await measure(eventRing);
    for (const [where, xs] of [
      ['bird', r.bird],
      ['peer', r.peer],
    ] as const) {
      rows.push(
        `${(eventRing ? 'event ring' : 'poll 250 ms').padEnd(16)}${where.padEnd(8)}${[50, 90, 99, 100]
          .map((p) => percentile(xs, p).toFixed(1).padStart(6))
          .join('  ')}`,
      );
    }
  }
  console.log(rows.join('\n'));
}, 600_000);
