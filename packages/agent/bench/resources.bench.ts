import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startBgpPair, startHaproxy, startNats, waitFor } from '@rhi/test-support';
import { test } from 'vitest';
import { spawnAgent, stopAgent } from '../test/support/agent-process.js';

// The agent's footprint: the built `rhi-agent run` with the Node options of the systemd unit, connected
// to nats-server, against HAProxy configs of 10, 1,000 and 10,000 backends of one server each, and 100
// rules. Two setups: the recommended one (the event ring, with the default safety-net poll) and polling
// every 250 ms without the ring. CPU is the agent process's utime + stime from /proc over a window after
// warm-up; RSS is VmRSS at its end, and the private part of it (RssAnon: without the pages of the node
// executable and libraries, which are shared and backed by the file).

const WINDOW_MS = Number(process.env.RHI_BENCH_WINDOW_MS ?? 20_000);
const SIZES = (process.env.RHI_BENCH_SIZES ?? '10,1000,10000').split(',').map(Number);
const CLOCK_TICKS = 100;

type Setup = 'event ring' | 'poll 250 ms';

async function procStats(pid: number): Promise<{ cpuMs: number; rssMb: number; privateMb: number }> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1]) / 1024;
  return {
    cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS,
    rssMb: kb('VmRSS'),
    privateMb: kb('RssAnon'),
  };
}

async function measure(backends: number, setup: Setup) {
  const dir = await mkdtemp(join(tmpdir(), 'rhi-bench-res-'));
  const sections = [`frontend fe_web\n    bind 127.0.0.1:${await freePort()}\n    default_backend be_0`];
  for (let i = 0; i < backends; i++) sections.push(`backend be_${i}\n    server s1 127.0.0.1:9 disabled`);
  const haproxy = await startHaproxy({ sections: sections.join('\n') });
  const pair = await startBgpPair({ exports: ['vol1'], includeOnTmpfs: true });
  const nats = await startNats();
  const count = Math.min(100, backends);
  const rules = Array.from(
    { length: count },
    (_, i) => `198.18.${200 + (i >> 8)}.${i & 255} = any(b:be_${i}, f:fe_web)`,
  );
  await writeFile(join(dir, 'rules.cfg'), `${rules.join('\n')}\n`);
  await writeFile(
    join(dir, 'agent.yaml'),
    `node: { name: bench }
haproxy: { sockets: [${haproxy.adminSocket}], ${setup === 'event ring' ? 'eventRing: events' : 'pollIntervalMs: 250'} }
bird: { socket: ${pair.node.socket}, include: ${pair.includePath}, tables: { vol1: {} } }
rules: { file: ${join(dir, 'rules.cfg')} }
allowlist: [198.18.0.0/15]
admin: { listen: 127.0.0.1:${await freePort()}, socket: ${join(dir, 'admin.sock')} }
stateDir: ${dir}
nats: { servers: [${nats.url}], user: ${nats.user}, password: ${nats.password} }
`,
  );
  const { agent, output } = await spawnAgent(join(dir, 'agent.yaml'));
  try {
    await waitFor(
      `the ${count} routes in BIRD`,
      async () => ((await pair.node.command('show route count')).includes(`${count} of`) ? true : undefined),
      60_000,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; agent output:\n${output().slice(0, 2000)}`);
    });
    await new Promise((r) => setTimeout(r, 3000));
    const pid = agent.pid ?? 0;
    const before = await procStats(pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const after = await procStats(pid);
    return {
      backends,
      cpuPercent: ((after.cpuMs - before.cpuMs) / (performance.now() - t0)) * 100,
      rssMb: after.rssMb,
      privateMb: after.privateMb,
    };
  } finally {
    await stopAgent(agent);
    await Promise.allSettled([haproxy.stop(), pair.stop(), nats.destroy()]);
    await rm(dir, { recursive: true, force: true });
  }
}

test('agent CPU and RSS by HAProxy config size (goal at 1,000 backends: under 1% of a core, under 80 MB)', async () => {
  const rows = ['setup        backends  cpu % of one core  rss MB  private MB'];
  for (const setup of ['event ring', 'poll 250 ms'] as const) {
    for (const n of SIZES) {
      const r = await measure(n, setup);
      rows.push(
        `${setup.padEnd(11)}${String(n).padStart(10)}  ${r.cpuPercent.toFixed(2).padStart(17)}  ${r.rssMb.toFixed(1).padStart(6)}  ${r.privateMb.toFixed(1).padStart(10)}`,
      );
      process.stderr.write(`${rows.at(-1)}\n`);
    }
  }
  console.log(rows.join('\n'));
}, 900_000);
