// Measures the CPU of one health poll of a config with 1,000 backends, outside any benchmark harness:
// `node scripts/measure-poll.ts [rounds] [pollsPerRound]` (add `--cpu-prof` before the script to
// profile). Runs on the built dist/ (`tsc -p tsconfig.build.json` first), polls one after another, and
// prints min and median over the rounds of the CPU per poll: user + system of the whole process (V8's
// GC and compiler threads included), and of the main thread alone.
import { HaproxyClient } from '../dist/index.js';
import type { ReadHealthOptions } from '../dist/index.js';
import { startBackends, startHaproxy } from '@rhi/test-support';

const rounds = Number(process.argv[2] ?? 7);
const polls = Number(process.argv[3] ?? 200);
const BACKENDS = 1000;

const backends = await startBackends(1);
const port = backends.ports[0]!;
const haproxy = await startHaproxy({
  masterWorker: false,
  sections: (dir) => {
    const out = [`frontend fe\n    bind unix@${dir}/fe.sock\n    default_backend be_0`];
    for (let i = 0; i < BACKENDS; i++) out.push(`backend be_${i}\n    server s1 127.0.0.1:${port}`);
    return out.join('\n');
  },
});
const client = new HaproxyClient({ socket: haproxy.adminSocket });
const rulesNeed = (n: number) => ({
  frontends: ['fe'],
  backends: Array.from({ length: n - 1 }, (_, i) => `be_${Math.floor((i * BACKENDS) / n)}`),
});

const cases: [string, ReadHealthOptions, number][] = [
  ['fe+be, all 1,000 backends', { withServers: false }, BACKENDS],
  ['fe+be, 20 proxies', { withServers: false, proxies: rulesNeed(20) }, 19],
  ['with servers, 20 proxies', { proxies: rulesNeed(20) }, 19],
  ['fe+be, 50 proxies', { withServers: false, proxies: rulesNeed(50) }, 49],
  ['fe+be, 51 proxies (read whole)', { withServers: false, proxies: rulesNeed(51) }, 50],
  ['with servers, all 1,000 backends', {}, BACKENDS],
];

function minMedian(values: readonly number[]): [number, number] {
  const sorted = [...values].sort((a, b) => a - b);
  return [sorted[0]!, sorted[Math.floor(sorted.length / 2)]!];
}

try {
  for (const [name, options, expected] of cases) {
    for (let i = 0; i < 300; i++) await client.readHealth(options);
    const perPoll: number[] = [];
    const mainThread: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const before = process.cpuUsage();
      const beforeThread = process.threadCpuUsage();
      for (let i = 0; i < polls; i++) {
        const snapshot = await client.readHealth(options);
        if (Object.keys(snapshot.backends).length !== expected) throw new Error(`${name}: wrong backends`);
      }
      const thread = process.threadCpuUsage(beforeThread);
      const used = process.cpuUsage(before);
      perPoll.push((used.user + used.system) / polls / 1000);
      mainThread.push((thread.user + thread.system) / polls / 1000);
    }
    const [min, median] = minMedian(perPoll);
    const [threadMin, threadMedian] = minMedian(mainThread);
    console.log(
      `${name.padEnd(34)} CPU per poll: min ${min.toFixed(3)} ms, median ${median.toFixed(3)} ms` +
        ` (main thread only: min ${threadMin.toFixed(3)}, median ${threadMedian.toFixed(3)})`,
    );
  }
} finally {
  await haproxy.stop();
  await backends.close();
}
