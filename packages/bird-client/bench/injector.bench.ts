import { setTimeout as sleep } from 'node:timers/promises';
import type { BirdInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { startInjectorPair } from '../test/support/injector-pair.js';
import { BirdClient } from '../src/client.js';
import { BirdRouteInjector } from '../src/injector.js';
import type { DesiredRoute } from '../src/render-include.js';

let bird: BirdInstance;
let peer: BirdInstance;
let client: BirdClient;
let peerClient: BirdClient;
let injector: BirdRouteInjector;

/** N host routes in 198.18.128.0/17 (up to 32 768), plus the one that each iteration toggles. */
const route = (i: number): DesiredRoute => ({
  table: 'vol1',
  prefix: `198.18.${128 + (i >> 8)}.${i & 255}/32`,
  family: 'ipv4',
});
const routes = (n: number) => Array.from({ length: n }, (_, i) => route(i + 1));
const toggled = route(0);

async function peerHolds(prefix: string, present: boolean): Promise<void> {
  for (;;) {
    const held = (await peerClient.showRoute({ prefix })).length > 0;
    if (held === present) return;
    await sleep(0);
  }
}

async function peerCount(n: number): Promise<void> {
  for (;;) {
    const [count] = await peerClient.showRouteCount({ table: 'master4' });
    if ((count?.routes ?? 0) === n) return;
    await sleep(10);
  }
}

beforeAll(async () => {
  const started = await startInjectorPair();
  ({ bird, peer } = started);
  client = new BirdClient({ socketPath: bird.socket, timeoutMs: 30_000 });
  peerClient = new BirdClient({ socketPath: peer.socket, timeoutMs: 30_000 });
  injector = new BirdRouteInjector({
    client,
    includePath: started.includePath,
    layout: { tables: { vol1: {} } },
    settleTimeoutMs: 30_000,
  });
  for (;;) {
    const [session] = await peerClient.showProtocols({ name: 'injector' });
    if (session?.info === 'Established') break;
    await sleep(50);
  }
});

afterAll(async () => {
  client?.close();
  peerClient?.close();
  await peer?.stop();
  await bird?.stop();
});

for (const n of [1, 100, 1000, 10_000]) {
  describe(`${n} routes in the table`, () => {
    const base = routes(n);
    const withToggled = [...base, toggled];
    let present = false;

    beforeAll(async () => {
      await injector.set(base);
      present = false;
      await peerCount(n);
    });

    test(`one-route change and full load, ${n} routes`, { timeout: 300_000 }, async ({ bench }) => {
      await bench.compare(
        bench(`set() one-route change until BIRD holds it (verified), ${n} routes`, async () => {
          present = !present;
          await injector.set(present ? withToggled : base);
        }),
        bench(`set() one-route change until the BGP peer holds it, ${n} routes`, async () => {
          present = !present;
          await injector.set(present ? withToggled : base);
          await peerHolds(toggled.prefix, present);
        }),
        { time: 1000, iterations: 20, warmupIterations: 2 },
      );
      await bench(`set() of all ${n} routes from empty until the peer holds them`, async () => {
        await injector.set([]);
        await peerCount(0);
        await injector.set(base);
        await peerCount(n);
      }).run({ time: 0, iterations: n >= 10_000 ? 3 : 10, warmupIterations: 0 });
    });
  });
}
