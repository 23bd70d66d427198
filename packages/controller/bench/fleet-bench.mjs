/* global AbortController, TextDecoder, URL, console, fetch, performance, process, setTimeout */
// The controller's benchmark (issue 14): simulated agents -> a real nats-server -> the real
// `rhi-controller run` in its own process, with a bare subscriber beside it as the floor. For each fleet
// size: view lag (a change published -> its `node` event on the API's /api/v1/stream), the controller's CPU
// and RSS against the floor's, then /api/v1/vips and /api/v1/vips/{id} latency over HTTP while the
// heartbeats go on. Prints a table and writes bench/results.json. Usage:
//   node bench/fleet-bench.mjs [sizes=1000,5000,10000] [windowS=20] [queryS=10]
import { fork } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNats, waitFor } from '@rhi/test-support';
import { startController } from './controller-process.mjs';
import { cpuSeconds, machineTicks, memoryMb, natsServerPid, percentile } from './proc-stats.mjs';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const [sizesArg = '1000,5000,10000', windowArg = '20', queryArg = '10'] = process.argv.slice(2);
const SIZES = sizesArg.split(',').map(Number);
const WINDOW_S = Number(windowArg);
const QUERY_S = Number(queryArg);
const ROUTES = 10;
const VIPS = 200;
const HEARTBEAT_MS = 1000;
const TOKEN = 'bench-token-of-some-length';
// Node options for the controller only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where its time goes.
const nodeArgs = (process.env.RHI_BENCH_CONTROLLER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const wallMs = () => performance.timeOrigin + performance.now();
const round = (n, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

const request = (child, msg) =>
  new Promise((resolve) => {
    const on = (reply) => {
      if (typeof reply === 'object' && !('change' in reply)) {
        child.off('message', on);
        resolve(reply);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
const ready = (child) => new Promise((resolve) => child.once('message', resolve));

/** Reads the API's live stream: calls `onNode(name, at)` for each `node` event. */
async function followStream(base, onNode, signal) {
  const res = await fetch(`${base}/api/v1/stream`, { headers: { authorization: `Bearer ${TOKEN}` }, signal });
  const decoder = new TextDecoder();
  let buffer = '';
  (async () => {
    try {
      for await (const chunk of res.body) {
        const at = wallMs();
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!block.includes('event: node')) continue;
          const data = block.slice(block.indexOf('data: ') + 6);
          onNode(JSON.parse(data).subject, at);
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  })();
}

async function timedGets(base, paths, seconds) {
  const out = new Map(paths.map((p) => [p.label, []]));
  const until = performance.now() + seconds * 1000;
  for (let i = 0; performance.now() < until; i++) {
    const { label, path } = paths[i % paths.length];
    const t = performance.now();
    const res = await fetch(`${base}${path(i)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${path(i)}: ${res.status} ${text.slice(0, 200)}`);
    out.get(label).push(performance.now() - t);
  }
  return out;
}

async function runSize(n) {
  const dir = await mkdtemp(join(tmpdir(), 'rhi-controller-bench-'));
  const nats = await startNats();
  const children = [];
  const abort = new AbortController();
  try {
    const { controller, base } = await startController({
      dir,
      nats,
      token: TOKEN,
      role: 'viewer',
      heartbeatMs: HEARTBEAT_MS,
      nodeArgs,
      children,
    });
    const floor = fork(here('./floor.mjs'), [nats.url, nats.user, nats.password]);
    children.push(floor);
    await ready(floor);

    const published = new Map();
    const seen = new Map();
    const lags = [];
    let measuring = false;
    const match = (node) => {
      const p = published.get(node);
      const s = seen.get(node);
      if (!p?.length || !s?.length) return;
      const at = p.shift();
      const got = s.shift();
      if (measuring) lags.push(got - at);
    };
    await followStream(
      base,
      (node, at) => {
        if (!measuring) return;
        (seen.get(node) ?? seen.set(node, []).get(node)).push(at);
        match(node);
      },
      abort.signal,
    );
    const sim = fork(here('./simulator.mjs'), [
      nats.url,
      nats.user,
      nats.password,
      String(n),
      String(ROUTES),
      String(VIPS),
      String(HEARTBEAT_MS),
      String(n / 100),
    ]);
    children.push(sim);
    sim.on('message', (m) => {
      if (typeof m !== 'object' || !('change' in m) || !measuring) return;
      (published.get(m.change) ?? published.set(m.change, []).get(m.change)).push(m.at);
      match(m.change);
    });
    await ready(sim);
    await waitFor(
      `the controller to see ${n} nodes`,
      async () => {
        const res = await fetch(`${base}/api/v1/nodes`, { headers: { authorization: `Bearer ${TOKEN}` } });
        return (await res.json()).nodes?.length === n ? true : undefined;
      },
      120_000,
      1000,
    );
    await new Promise((r) => setTimeout(r, 3000)); // steady heartbeats before the window

    const natsPid = natsServerPid(new URL(nats.url).port);
    const pids = { controller: controller.pid, floor: floor.pid, simulator: sim.pid, natsServer: natsPid };
    const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid ? cpuSeconds(pid) : NaN]));
    const machine0 = machineTicks();
    const sim0 = await request(sim, 'count');
    const floor0 = await request(floor, 'count');
    const load0 = loadavg()[0];
    const t0 = performance.now();
    measuring = true;
    sim.send('changes');
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    measuring = false;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = Object.fromEntries(
      Object.entries(pids).map(([k, pid]) => [
        k,
        pid ? round((100 * (cpuSeconds(pid) - cpu0[k])) / seconds) : null,
      ]),
    );
    const machine1 = machineTicks();
    const sim1 = await request(sim, 'count');
    const floor1 = await request(floor, 'count');
    const memory = memoryMb(controller.pid);
    const floorMemory = memoryMb(floor.pid);
    const unmatched = [...published.values()].reduce((a, l) => a + l.length, 0);

    const ids = Array.from({ length: VIPS }, (_, v) =>
      encodeURIComponent(`vol1%198.18.${200 + Math.floor(v / 250)}.${(v % 250) + 1}/32`),
    );
    const queries = await timedGets(
      base,
      [
        { label: 'vips', path: () => '/api/v1/vips' },
        { label: 'vip', path: (i) => `/api/v1/vips/${ids[i % VIPS]}` },
      ],
      QUERY_S,
    );
    const vipsCount = (
      await (await fetch(`${base}/api/v1/vips`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()
    ).vips.length;
    return {
      nodes: n,
      vips: vipsCount,
      windowS: round(seconds),
      messagesPerS: round((sim1.published - sim0.published) / seconds, 0),
      messageBytes: round((sim1.bytes - sim0.bytes) / (sim1.published - sim0.published), 0),
      floorPerS: round((floor1.messages - floor0.messages) / seconds, 0),
      lagMs: {
        changes: lags.length,
        unmatched,
        p50: round(percentile(lags, 50)),
        p99: round(percentile(lags, 99)),
        max: round(Math.max(...lags)),
      },
      cpuPercentOfOneCore: cpu,
      ratioToFloor: round(cpu.controller / cpu.floor, 2),
      controllerRssMb: round(memory.rss, 0),
      controllerPeakRssMb: round(memory.peak, 0),
      floorRssMb: round(floorMemory.rss, 0),
      machineBusyPercent: round((100 * (machine1.busy - machine0.busy)) / (machine1.total - machine0.total)),
      loadAverage1m: [round(load0, 2), round(loadavg()[0], 2)],
      queriesMs: Object.fromEntries(
        [...queries].map(([k, v]) => [
          k,
          { requests: v.length, p50: round(percentile(v, 50), 2), p99: round(percentile(v, 99), 2) },
        ]),
      ),
    };
  } finally {
    abort.abort();
    for (const c of children.reverse()) {
      if (c.exitCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (c.exitCode === null) c.kill('SIGKILL');
    }
    await nats.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

const results = [];
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, load ${loadavg()
    .map((l) => round(l, 2))
    .join(' ')}`,
);
for (const n of SIZES) {
  const r = await runSize(n);
  results.push(r);
  console.log(JSON.stringify(r));
}
await writeFile(
  here('./results.json'),
  `${JSON.stringify({ at: new Date().toISOString(), cpus: cpus().length, results }, null, 2)}\n`,
);
console.log(
  '\nnodes | messages/s | lag p50/p99 ms | controller CPU % | floor CPU % | ratio | RSS MB | /vips p50/p99 ms | /vips/{id} p50/p99 ms | machine busy %',
);
for (const r of results)
  console.log(
    `${r.nodes} | ${r.messagesPerS} | ${r.lagMs.p50}/${r.lagMs.p99} | ${r.cpuPercentOfOneCore.controller} | ${r.cpuPercentOfOneCore.floor} | ${r.ratioToFloor} | ${r.controllerRssMb} | ${r.queriesMs.vips.p50}/${r.queriesMs.vips.p99} | ${r.queriesMs.vip.p50}/${r.queriesMs.vip.p99} | ${r.machineBusyPercent}`,
  );
