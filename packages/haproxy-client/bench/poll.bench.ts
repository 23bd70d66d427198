import { afterAll, beforeAll, test } from 'vitest';
import { HaproxyClient } from '../src/index.js';
import type { Backends, HaproxyInstance } from '@rhi/test-support';
import { startBackends, startHaproxy } from '@rhi/test-support';

// One frontends+backends-only poll (`show stat -1 3 -1;show info`) of a config with 1,000 backends, and
// one limited to the 20 proxies rules would name (`show stat fe 1 -1;show stat be_0 2 -1;...;show info`).
let backends: Backends;
let haproxy: HaproxyInstance;
let client: HaproxyClient;
const cpu = { all: { micros: 0, polls: 0 }, twenty: { micros: 0, polls: 0 } };
// What rules typically name: one frontend and 19 backends spread over the config.
const twenty = { frontends: ['fe'], backends: Array.from({ length: 19 }, (_, i) => `be_${i * 52}`) };

async function measured(which: keyof typeof cpu, poll: () => Promise<unknown>): Promise<void> {
  const before = process.cpuUsage();
  await poll();
  const used = process.cpuUsage(before);
  cpu[which].micros += used.user + used.system;
  cpu[which].polls++;
}

beforeAll(async () => {
  backends = await startBackends(1);
  const port = backends.ports[0]!;
  const sections = (dir: string): string => {
    const out = [`frontend fe\n    bind unix@${dir}/fe.sock\n    default_backend be_0`];
    for (let i = 0; i < 1000; i++) out.push(`backend be_${i}\n    server s1 127.0.0.1:${port}`);
    return out.join('\n');
  };
  haproxy = await startHaproxy({ masterWorker: false, sections });
  client = new HaproxyClient({ socket: haproxy.adminSocket });
});

afterAll(async () => {
  for (const [which, { micros, polls }] of Object.entries(cpu)) {
    if (polls > 0)
      console.log(
        `readHealth fe+be (${which}), 1000 backends: ${(micros / polls / 1000).toFixed(3)} ms CPU per poll`,
      );
  }
  await haproxy?.stop();
  await backends?.close();
});

test('poll of 1,000 backends (goal: fe+be-only poll under 2 ms of CPU)', async ({ bench }) => {
  await bench.compare(
    bench('readHealth({ withServers: false })', () =>
      measured('all', async () => {
        const snapshot = await client.readHealth({ withServers: false });
        if (Object.keys(snapshot.backends).length !== 1000) throw new Error('missing backends');
      }),
    ),
    bench('readHealth({ withServers: false, proxies: 20 of them })', () =>
      measured('twenty', async () => {
        const snapshot = await client.readHealth({ withServers: false, proxies: twenty });
        if (Object.keys(snapshot.backends).length !== 19) throw new Error('missing backends');
      }),
    ),
    bench('readHealth({ proxies: 20 of them }) with server rows', async () => {
      await client.readHealth({ proxies: twenty });
    }),
    bench('readHealth() with server rows', async () => {
      await client.readHealth();
    }),
    { time: 2000 },
  );
});
