import { waitFor, type BirdInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInjectorPair } from '../test/support/injector-pair.js';
import { BirdClient } from './client.js';
import { BirdRouteInjector } from './injector.js';
import type { DesiredRoute } from './render-include.js';

// The pair's BIRD exports `vol1` and `vol1_v6` to its iBGP peer, and nothing of `vol2`.
let bird: BirdInstance;
let peer: BirdInstance;
let client: BirdClient;
let injector: BirdRouteInjector;

const route = (table: string, prefix: string): DesiredRoute => ({
  table,
  prefix,
  family: prefix.includes(':') ? 'ipv6' : 'ipv4',
});
const routes = [
  route('vol1', '198.18.10.1/32'),
  route('vol1', '198.18.10.2/32'),
  route('vol1', '2001:2::1/128'),
  route('vol2', '198.18.10.20/32'),
];

beforeAll(async () => {
  let includePath: string;
  ({ bird, peer, includePath } = await startInjectorPair());
  client = new BirdClient({ socketPath: bird.socket });
  injector = new BirdRouteInjector({ client, includePath, layout: { tables: { vol1: {}, vol2: {} } } });
  await waitFor('the BGP session', async () =>
    (await bird.command('show protocols peer1')).includes('Established') ? true : undefined,
  );
});

afterAll(async () => {
  client?.close();
  await peer?.stop();
  await bird?.stop();
});

describe('BirdRouteInjector.exports against the real bird', () => {
  it('knows nothing before the first apply', async () => {
    expect(await injector.exports()).toBeNull();
  });

  it('tells the routes BGP sends from those a table holds but no export filter takes', async () => {
    await injector.set(routes);
    const exports = await injector.exports();
    const byPrefix = new Map(exports?.map((e) => [e.prefix, e]));
    for (const prefix of ['198.18.10.1/32', '198.18.10.2/32', '2001:2::1/128'])
      expect(byPrefix.get(prefix)).toMatchObject({ to: ['peer1'], problems: [] });
    expect(byPrefix.get('198.18.10.20/32')).toMatchObject({
      protocol: 'vol2',
      to: [],
      problems: [expect.stringMatching(/^BGP peer1 does not export it \(its export filter rejects it/)],
    });
  });

  it('counts nothing as exported by a session that is down', async () => {
    await bird.command('disable peer1');
    try {
      // BIRD passes through `stop` on its way down; the reply names the state it is in.
      await waitFor('peer1 to be down', async () =>
        /peer1\s+BGP\s+\S+\s+down/.test(await bird.command('show protocols peer1')) ? true : undefined,
      );
      const exports = await injector.exports();
      expect(exports?.map((e) => e.to)).toEqual([[], [], [], []]);
      expect(exports?.[0]?.problems).toEqual([expect.stringMatching(/^BGP peer1 is not up \(down/)]);
    } finally {
      await bird.command('enable peer1');
    }
  });

  it('gives the same answer (the same array) while nothing changes, and a new one when something does', async () => {
    const established = () =>
      waitFor('the BGP session', async () =>
        (await bird.command('show protocols peer1')).includes('Established') ? true : undefined,
      );
    await established();
    // Every route exported by every router: the case an idle node is in, asked every 10 s.
    await injector.set(routes.filter((r) => r.table === 'vol1'));
    const first = await injector.exports();
    expect(first?.length).toBe(3);
    expect(first?.every((e) => e.to.length === 1 && e.problems.length === 0)).toBe(true);
    expect(await injector.exports()).toBe(first);
    await bird.command('disable peer1');
    try {
      await waitFor('peer1 to be down', async () =>
        /peer1\s+BGP\s+\S+\s+down/.test(await bird.command('show protocols peer1')) ? true : undefined,
      );
      const down = await injector.exports();
      expect(down?.map((e) => e.to)).toEqual([[], [], []]);
    } finally {
      await bird.command('enable peer1');
    }
    await established();
    const back = await injector.exports();
    expect(back).not.toBe(first);
    expect(back?.map((e) => e.to)).toEqual([['peer1'], ['peer1'], ['peer1']]);
  });
});
