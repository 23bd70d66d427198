import { readFileSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { bgpChannelStats, waitFor, type BgpRouteCounts, type BirdInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPairLog, startInjectorPair } from '../test/support/injector-pair.js';
import { RecordingBirdClient } from '../test/support/recording-client.js';
import { BirdClient } from './client.js';
import { BirdConfigError, BirdVerifyError } from './errors.js';
import { BirdRouteInjector } from './injector.js';
import { bgpAttributesOf } from './parse-routes.js';
import { renderInclude, type DesiredRoute, type IncludeLayout } from './render-include.js';

const layout: IncludeLayout = { tables: { vol1: {} } };
let bird: BirdInstance;
let peer: BirdInstance;
let client: RecordingBirdClient;
let peerClient: BirdClient;
let injector: BirdRouteInjector;
let includePath: string;
let sessionsAtStart: Sessions;

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

async function untilPeerHas(routes: readonly DesiredRoute[]): Promise<void> {
  const want = onPeer(routes);
  let seen: string[] = [];
  try {
    await waitFor(`the peer to hold exactly these ${want.length} routes`, async () => {
      seen = await peerView();
      return JSON.stringify(seen) === JSON.stringify(want) ? true : undefined;
    });
  } catch (err) {
    expect(seen, (err as Error).message).toEqual(want);
    throw err;
  }
}

/** How many times each side's BGP session has come up since its BIRD first started. */
interface Sessions {
  readonly injector: number;
  readonly peer: number;
}

/** From each BIRD's own log: `debug { states }` logs `<protocol>: State changed to up` once per session. */
async function sessionsUp(): Promise<Sessions> {
  const ups = async (instance: BirdInstance, protocol: string) =>
    (await readPairLog(instance)).filter((r) => r.message === `${protocol}: State changed to up`).length;
  return { injector: await ups(bird, 'peer1'), peer: await ups(peer, 'injector') };
}

async function bothEstablished(): Promise<boolean> {
  const [mine] = await client.showProtocols({ name: 'peer1' });
  const [theirs] = await peerClient.showProtocols({ name: 'injector' });
  return mine?.info === 'Established' && theirs?.info === 'Established';
}

/** Waits for a session that came up after `before` on both sides, and returns the new counts. */
function untilEstablished(before: Sessions = { injector: 0, peer: 0 }): Promise<Sessions> {
  return waitFor('a new BGP session, established on both sides', async () => {
    if (!(await bothEstablished())) return undefined;
    const now = await sessionsUp();
    return now.injector > before.injector && now.peer > before.peer ? now : undefined;
  });
}

/** Per channel, the BGP updates and withdraws the injector sent and those the peer received. */
async function routeCounts(): Promise<{
  sent: Record<string, BgpRouteCounts>;
  received: Record<string, BgpRouteCounts>;
}> {
  const [mine, theirs] = await Promise.all([
    bgpChannelStats(bird, 'peer1'),
    bgpChannelStats(peer, 'injector'),
  ]);
  const pick = (stats: typeof mine, side: 'exported' | 'imported') =>
    Object.fromEntries(Object.entries(stats).map(([channel, s]) => [channel, s[side]]));
  return { sent: pick(mine, 'exported'), received: pick(theirs, 'imported') };
}

function countsSince(before: Record<string, BgpRouteCounts>, now: Record<string, BgpRouteCounts>) {
  return Object.fromEntries(
    Object.entries(now).map(([channel, c]) => [
      channel,
      {
        updates: c.updates - (before[channel]?.updates ?? 0),
        withdraws: c.withdraws - (before[channel]?.withdraws ?? 0),
      },
    ]),
  );
}

beforeAll(async () => {
  ({ bird, peer, includePath } = await startInjectorPair({ logs: true }));
  client = new RecordingBirdClient({ socketPath: bird.socket });
  peerClient = new BirdClient({ socketPath: peer.socket });
  injector = new BirdRouteInjector({ client, includePath, layout });
  sessionsAtStart = await untilEstablished();
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
    const sent = client.sent.length;
    const logged = (await readPairLog(bird)).length;
    expect(await injector.set([...A].reverse())).toEqual({ wrote: false, configured: false });
    const after = await stat(includePath);
    // A write renames a new file over the include: a new inode, whatever the clock's granularity.
    expect({ ino: after.ino, mtimeMs: after.mtimeMs }).toEqual({ ino: before.ino, mtimeMs: before.mtimeMs });
    expect(client.sent.slice(sent).filter((line) => line.startsWith('configure'))).toEqual([]);
    // BIRD answers one connection's commands in order and logs a command (and `Reconfiguring`) before it
    // answers: once this reply is in, the log holds whatever was sent before it.
    await client.showStatus();
    const since = (await readPairLog(bird)).slice(logged);
    expect(
      since.filter((r) => r.message.startsWith('CLI: configure') || r.message === 'Reconfiguring'),
    ).toEqual([]);
  });

  it('withdraws and adds only the changed routes; the unchanged ones are not announced again', async () => {
    const before = await routeCounts();
    expect(await injector.set(B)).toEqual({ wrote: true, configured: true, outcome: 'reconfigured' });
    await untilPeerHas(B);
    // A to B withdraws 198.18.10.1 and announces 198.18.10.3, nothing else. Re-announcing 198.18.10.2 or
    // the IPv6 route, or restarting the protocol, would count more. BIRD has counted what it sent by the
    // time it answers `configure`; the peer has counted both changes once it holds B.
    const changed = { ipv4: { updates: 1, withdraws: 1 }, ipv6: { updates: 0, withdraws: 0 } };
    const now = await routeCounts();
    expect(countsSince(before.sent, now.sent)).toEqual(changed);
    expect(countsSince(before.received, now.received)).toEqual(changed);
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

  it('withdraws with `disable` while a broken config refuses every configure, and enables again after one succeeds', async () => {
    const good = await readFile(bird.configPath, 'utf8');
    await writeFile(bird.configPath, `${good}\nnonsense;\n`);
    try {
      // 198.18.10.2 must go; BIRD cannot take the include that leaves it out.
      expect(await injector.set(C.slice(1)).catch((e: unknown) => e)).toBeInstanceOf(BirdConfigError);
      expect(await injector.disableWithdrawn()).toEqual([
        {
          protocol: 'vol1',
          table: 'vol1',
          family: 'ipv4',
          withdrawn: ['198.18.10.2/32'],
          alsoWithdrawn: ['198.18.10.3/32'],
        },
      ]);
      // The whole IPv4 protocol left the peer, the IPv6 one (nothing to withdraw there) stays.
      await untilPeerHas(C.filter((r) => r.family === 'ipv6'));
      expect(await injector.set(C.slice(1)).catch((e: unknown) => e)).toBeInstanceOf(BirdConfigError);
      expect(await injector.disableWithdrawn()).toEqual([]);
    } finally {
      await writeFile(bird.configPath, good);
    }
    expect(await injector.set(C.slice(1))).toEqual({
      wrote: true,
      configured: true,
      outcome: 'reconfigured',
      enabled: ['vol1'],
    });
    await untilPeerHas(C.slice(1));
    expect(await injector.set(C)).toEqual({ wrote: true, configured: true, outcome: 'reconfigured' });
    await untilPeerHas(C);
  });

  it('leaves out a route it cannot render and applies the rest', async () => {
    const bad = v4('198.18.10.1/24');
    const result = await injector.set([...C.slice(1), bad]);
    expect(result).toMatchObject({ wrote: true, configured: true });
    expect(result.refused).toEqual([{ route: bad, reason: expect.stringContaining('host bits') }]);
    expect(await readFile(includePath, 'utf8')).toBe(renderInclude(C.slice(1), layout).text);
    await untilPeerHas(C.slice(1));
    expect(await injector.set(C)).toEqual({ wrote: true, configured: true, outcome: 'reconfigured' });
    await untilPeerHas(C);
  });

  it("owns the tables it is given besides the layout's, with the default next hop; read back after a restart", async () => {
    const vol3 = { table: 'vol3', prefix: '198.18.30.1/32', family: 'ipv4' } as const;
    expect(await injector.set([...C, vol3], { tables: ['vol3'] })).toMatchObject({ configured: true });
    expect(await client.command('show route protocol vol3 all')).toMatchObject({
      lines: expect.arrayContaining([expect.objectContaining({ text: expect.stringMatching(/dev lo/) })]),
    });
    // A new injector with the same layout (an agent that restarted) finds vol3's route in the include.
    const fresh = new BirdRouteInjector({ client, includePath, layout });
    expect((await fresh.read()).map((r) => `${r.table}%${r.prefix}`).sort()).toEqual(
      [...C, vol3].map((r) => `${r.table}%${r.prefix}`).sort(),
    );
    // Only vol1 is exported to the peer.
    await untilPeerHas(C);
    expect(await injector.set(C)).toMatchObject({ wrote: true, configured: true });
    expect((await client.showProtocols()).map((p) => p.name)).not.toContain('vol3');
  });

  it("refuses a table whose protocol name BIRD's config already has, reading BIRD's symbols only for new protocols", async () => {
    const clash = { table: 'peer1', prefix: '198.18.30.1/32', family: 'ipv4' } as const;
    const symbols = () => client.sent.filter((line) => line === 'show symbols').length;
    const before = symbols();
    const result = await injector.set([...C, clash], { tables: ['peer1'] });
    expect(result.refused).toEqual([
      {
        route: clash,
        reason: expect.stringMatching(
          /^table 'peer1' cannot be rendered: .*peer1 is already defined in BIRD's config \(protocol\)/,
        ),
      },
    ]);
    expect(symbols()).toBe(before + 1);
    // The same protocols with other routes: the failover path sends no `show symbols`.
    expect(await injector.set([...B, clash], { tables: ['peer1'] })).toMatchObject({ configured: true });
    expect(symbols()).toBe(before + 1);
    await untilPeerHas(B);
    expect(await injector.set(C)).toMatchObject({ configured: true });
    await untilPeerHas(C);
    expect(await bothEstablished()).toBe(true);
  });

  it('never reset the BGP session', async () => {
    // Any reset, from either side and for any reason, logs a new `State changed to up` when it recovers,
    // and leaves the session not Established until then.
    expect(await bothEstablished()).toBe(true);
    expect(await sessionsUp()).toEqual(sessionsAtStart);
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
    const sessions = await sessionsUp();
    await bird.halt();
    await writeFile(includePath, renderInclude(A, layout).text);
    await bird.start();
    expect(await injector.reconcile()).toEqual({ wrote: true, configured: true, outcome: 'reconfigured' });
    expect(await readFile(includePath, 'utf8')).toBe(renderInclude(C, layout).text);
    // The new session, not the peer's last view of the old one.
    await untilEstablished(sessions);
    await untilPeerHas(C);
    expect(await injector.reconcile()).toEqual({ wrote: false, configured: false });
  });

  it('reads back on its read connection: a reconcile that finds nothing sends nothing on the first, and a change made while it reads goes through and is not undone', async () => {
    const reader = new RecordingBirdClient({ socketPath: bird.socket });
    const split = new BirdRouteInjector({ client, readClient: reader, includePath, layout });
    try {
      await split.set(C);
      client.sent.length = 0;
      expect(await split.reconcile()).toEqual({ wrote: false, configured: false });
      expect(client.sent).toEqual([]);
      expect(reader.sent.some((l) => l.startsWith('show route'))).toBe(true);
      // A change while the reconcile reads: applied and verified on the first connection, not after it.
      const reading = split.reconcile();
      const changed = split.set(A);
      expect(await changed).toMatchObject({ wrote: true, configured: true });
      expect(await reading).toEqual({ wrote: false, configured: false });
      await untilPeerHas(A);
      expect((await split.read()).map((r) => r.prefix).sort()).toEqual(A.map((r) => r.prefix).sort());
      // Drift is still repaired: the include edited by hand.
      await writeFile(includePath, renderInclude(C, layout).text);
      expect(await split.reconcile()).toMatchObject({ wrote: true, configured: true });
      expect(await readFile(includePath, 'utf8')).toBe(renderInclude(A, layout).text);
      await split.set(C);
    } finally {
      reader.close();
    }
  });

  it('repairs routes BIRD holds otherwise than the include says, found after clean reconciles (their replies kept)', async () => {
    await injector.set(C);
    expect(await injector.reconcile()).toEqual({ wrote: false, configured: false });
    expect(await injector.reconcile()).toEqual({ wrote: false, configured: false });
    // BIRD made to run A's routes behind the injector's back, then the include put back as it was.
    await writeFile(includePath, renderInclude(A, layout).text);
    await client.configure();
    await untilPeerHas(A);
    await writeFile(includePath, renderInclude(C, layout).text);
    expect(await injector.reconcile()).toMatchObject({ configured: true });
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
