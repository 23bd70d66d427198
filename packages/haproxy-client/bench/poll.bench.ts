import { afterAll, beforeAll, test } from 'vitest';
import { HaproxyClient } from '../src/index.js';
import type { Backends, HaproxyInstance } from '../test/support/haproxy-harness.js';
import { startBackends, startHaproxy } from '../test/support/haproxy-harness.js';

// One frontends+backends-only poll (`show info;show stat -1 3 -1`) of a config with 1,000 backends.
let backends: Backends;
let haproxy: HaproxyInstance;
let client: HaproxyClient;
let cpuMicros = 0;
let polls = 0;

beforeAll(async () => {
  backends = await startBackends(1);
  const port = backends.ports[0]!;
  const sections = (dir: string): string => {
    const out = [`frontend fe\n    bind unix@${dir}/fe.sock\n    default_backend be_0`];
    for (let i = 0; i < 1000; i++) out.push(`backend be_${i}\n    server s1 127.0.0.1:${port}`);
    return out.join('\n');
  };
  haproxy = await startHaproxy({ sections });
  client = new HaproxyClient({ socket: haproxy.adminSocket });
});

afterAll(async () => {
  if (polls > 0)
    console.log(
      `readHealth fe+be, 1000 backends: ${(cpuMicros / polls / 1000).toFixed(3)} ms CPU per poll (${polls} polls)`,
    );
  await haproxy?.stop();
  await backends?.close();
});

test('poll of 1,000 backends (goal: fe+be-only poll under 2 ms of CPU)', async ({ bench }) => {
  await bench.compare(
    bench('readHealth({ withServers: false })', async () => {
      const before = process.cpuUsage();
      const snapshot = await client.readHealth({ withServers: false });
      const used = process.cpuUsage(before);
      cpuMicros += used.user + used.system;
      polls++;
      if (Object.keys(snapshot.backends).length !== 1000) throw new Error('missing backends');
    }),
    bench('readHealth() with server rows', async () => {
      await client.readHealth();
    }),
    { time: 2000 },
  );
});
