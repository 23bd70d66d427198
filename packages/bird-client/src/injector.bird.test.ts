import { readFileSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BirdInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInjectorPair } from '../test/support/injector-pair.js';
import { BirdClient } from './client.js';
import { BirdConfigError, BirdInvalidInputError, BirdVerifyError } from './errors.js';
import { BirdRouteInjector } from './injector.js';
import { bgpAttributesOf } from './parse-routes.js';
import { renderInclude, type DesiredRoute, type IncludeLayout } from './render-include.js';

const layout: IncludeLayout = { tables: { vol1: {} } };
let bird: BirdInstance;
let peer: BirdInstance;
let client: BirdClient;
let peerClient: BirdClient;
let injector: BirdRouteInjector;
let includePath: string;
let sessionSince: { injector: string; peer: string };

const v4 = (prefix: string, bgp?: DesiredRoute['bgp']): DesiredRoute => ({
  table: 'vol1',
  prefix,
  family: 'ipv4',
  ...(bgp ? { bgp } : {}),
});
const v6 = (prefix: string, bgp?: DesiredRoute['bgp']): DesiredRoute => ({
  table: 'vol1',
  prefix,
  family: 'ipv6',
  ...(bgp ? { bgp } : {}),
});

const A = [
  v4('198.18.10.1/32'),
  v4('198.18.10.2/32', { med: 10, communities: ['65000:1'], largeCommunities: ['65000:1:2'] }),
  v6('2001:2::1/128'),
];
const B = [
  v4('198.18.10.2/32', { med: 10, communities: ['65000:1'], largeCommunities: ['65000:1:2'] }),
  v4('198.18.10.3/32'),
  v6('2001:2::1/128'),
];
const C = [
  v4('198.18.10.2/32', { med: 20, localPref: 300, communities: ['65000:2'] }),
  v4('198.18.10.3/32'),
  v6('2001:2::1/128', { med: 5 }),
];

/** What the peer must see for a desired set: iBGP carries MED, local pref (default 100) and communities. */
function onPeer(routes: readonly DesiredRoute[]): string[] {
  return routes
    .map((r) => {
      const b = r.bgp ?? {};
      return `${r.prefix} med=${b.med ?? '-'} lp=${b.localPref ?? 100} c=${(b.communities ?? []).join(',')} lc=${(b.largeCommunities ?? []).join(',')}`;
    })
    .sort();
}

async function peerView(): Promise<string[]> {
  const routes = await peerClient.showRoute({ all: true });
  return routes
    .map((r) => {
      const b = bgpAttributesOf(r);
      return `${r.prefix} med=${b.med ?? '-'} lp=${b.localPref ?? '-'} c=${b.communities.join(',')} lc=${b.largeCommunities.join(',')}`;
    })
    .sort();
}

async function untilPeerHas(routes: readonly DesiredRoute[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = await peerView();
    if (JSON.stringify(seen) === JSON.stringify(onPeer(routes))) return;
    await sleep(20);
  }
  expect(seen).toEqual(onPeer(routes));
}

async function sessionSinces(): Promise<{ injector: string; peer: string }> {
  const [mine] = await client.showProtocols({ name: 'peer1' });
  const [theirs] = await peerClient.showProtocols({ name: 'injector' });
  expect([mine?.info, theirs?.info]).toEqual(['Established', 'Established']);
  return { injector: mine?.since ?? '', peer: theirs?.since ?? '' };
}

function millisOfDay(since: string): number {
  const m = /^(\d\d):(\d\d):(\d\d)\.(\d{3})$/.exec(since);
  if (!m) throw new Error(`unexpected Since ${since}`);
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
}

async function untilEstablished(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const [theirs] = await peerClient.showProtocols({ name: 'injector' });
    if (theirs?.info === 'Established') return;
    await sleep(50);
  }
  throw new Error('BGP session did not come up');
}

beforeAll(async () => {
  ({ bird, peer, includePath } = await startInjectorPair());
  client = new BirdClient({ socketPath: bird.socket });
  peerClient = new BirdClient({ socketPath: peer.socket });
  injector = new BirdRouteInjector({ client, includePath, layout });
  await untilEstablished();
  sessionSince = await sessionSinces();
});

afterAll(async () => {
  client?.close();
  peerClient?.close();
  await peer?.stop();
  await bird?.stop();
});

describe('BirdRouteInjector with a real BIRD and a real BGP peer', () => {
  it('injects routes with attributes and exactly those arrive on the peer', async () => {
    expect(await injector.set(A)).toEqual({ wrote: true, configured: true, outcome: 'reconfigured' });
    expect(await readFile(includePath, 'utf8')).toBe(renderInclude(A, layout).text);
    await untilPeerHas(A);
  });

  it('does not write or reconfigure when nothing changed', async () => {
    const before = await stat(includePath);
    const reconfigured = (await client.showStatus()).lastReconfiguration;
    expect(await injector.set([...A].reverse())).toEqual({ wrote: false, configured: false });
    expect((await stat(includePath)).mtimeMs).toBe(before.mtimeMs);
    expect((await client.showStatus()).lastReconfiguration).toBe(reconfigured);
  });

  it('withdraws and adds only the changed routes; the unchanged ones keep their age on the peer', async () => {
    const since = async () =>
      millisOfDay((await peerClient.showRoute({ prefix: '198.18.10.2/32' }))[0]?.since ?? '');
    const kept = await since();
    await sleep(100);
    expect(await injector.set(B)).toEqual({ wrote: true, configured: true, outcome: 'reconfigured' });
    await untilPeerHas(B);
    // A re-announcement would move it by 100 ms or more; display jitter is about 1 ms.
    expect(Math.abs((await since()) - kept)).toBeLessThanOrEqual(5);
  });

  it('changes MED, local preference and communities on the peer', async () => {
    const applied = injector.set(C);
    // Idle injector: the file is written in the caller's turn, before whatever the caller does next.
    expect(readFileSync(includePath, 'utf8')).toBe(renderInclude(C, layout).text);
    await applied;
    await untilPeerHas(C);
  });

  it('reads back what BIRD holds', async () => {
    const held = await injector.read();
    expect(held.map((r) => r.prefix).sort()).toEqual(C.map((r) => r.prefix).sort());
    expect(held.find((r) => r.prefix === '198.18.10.2/32')?.bgp).toEqual({
      med: 20,
      localPref: 300,
      communities: ['65000:2'],
    });
  });

  it("restores the include and returns BIRD's message when the config has an error elsewhere (8002)", async () => {
    const good = await readFile(bird.configPath, 'utf8');
    await writeFile(bird.configPath, `${good}\nnonsense;\n`);
    try {
      const err = await injector.set(A).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BirdConfigError);
      expect(err).toMatchObject({ file: bird.configPath, message: expect.stringContaining('syntax error') });
      expect(await readFile(includePath, 'utf8')).toBe(renderInclude(C, layout).text);
    } finally {
      await writeFile(bird.configPath, good);
    }
    await untilPeerHas(C);
    expect(await injector.set(C)).toEqual({ wrote: false, configured: false });
  });

  it('rejects an invalid route without touching the file', async () => {
    await expect(injector.set([v4('198.18.10.1/24')])).rejects.toBeInstanceOf(BirdInvalidInputError);
    expect(await readFile(includePath, 'utf8')).toBe(renderInclude(C, layout).text);
  });

  it('never reset the BGP session', async () => {
    // BIRD prints Since by converting its monotonic clock at display time, so it jitters by a millisecond;
    // a reset moves it by at least the connect delay (1 s here).
    const now = await sessionSinces();
    expect(Math.abs(millisOfDay(now.injector) - millisOfDay(sessionSince.injector))).toBeLessThanOrEqual(5);
    expect(Math.abs(millisOfDay(now.peer) - millisOfDay(sessionSince.peer))).toBeLessThanOrEqual(5);
  });

  it('tells whether the BIRD config includes the file and exports the protocols', async () => {
    expect(await injector.checkConfig(bird.configPath)).toEqual({
      ok: true,
      includesFile: true,
      protocols: [
        { name: 'vol1', exported: true, running: true },
        { name: 'vol1_v6', exported: true, running: true },
      ],
      problems: [],
    });
  });

  it('repairs a BIRD restart that loaded a stale include', async () => {
    await bird.halt();
    await writeFile(includePath, renderInclude(A, layout).text);
    await bird.start();
    expect(await injector.reconcile()).toEqual({ wrote: true, configured: true, outcome: 'reconfigured' });
    expect(await readFile(includePath, 'utf8')).toBe(renderInclude(C, layout).text);
    await untilEstablished();
    await untilPeerHas(C);
    expect(await injector.reconcile()).toEqual({ wrote: false, configured: false });
  });

  it('waits out a reconfiguration in progress (0004) when a table is dropped from the layout', async () => {
    const wide = new BirdRouteInjector({ client, includePath, layout: { tables: { vol1: {}, vol2: {} } } });
    await wide.set([...C, { table: 'vol2', prefix: '198.18.20.1/32', family: 'ipv4' }]);
    expect((await client.showProtocols()).map((p) => p.name)).toContain('vol2');
    const narrow = new BirdRouteInjector({ client, includePath, layout });
    expect(await narrow.set(C)).toEqual({ wrote: true, configured: true, outcome: 'in-progress' });
    expect((await client.showProtocols()).map((p) => p.name)).not.toContain('vol2');
    expect((await client.showStatus()).state).toBe('up');
    await untilPeerHas(C);
  });

  it('throws BirdVerifyError when BIRD accepts the config but does not hold the route, then recovers', async () => {
    const odd = new BirdRouteInjector({
      client,
      includePath,
      layout: { tables: { vol1: { ipv4: { device: 'rhimissing0' } } } },
      settleTimeoutMs: 300,
    });
    const err = await odd.set([v4('198.18.10.9/32')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BirdVerifyError);
    expect(err).toMatchObject({ code: 'BIRD_VERIFY_FAILED', protocol: 'vol1', missing: ['198.18.10.9/32'] });
    expect(await odd.set([])).toMatchObject({ wrote: true, configured: true });
    expect(await injector.reconcile()).toMatchObject({ wrote: true, configured: true });
    await untilPeerHas(C);
  });

  it('withdraws everything on an empty set', async () => {
    await injector.set([]);
    await untilPeerHas([]);
  });
});
