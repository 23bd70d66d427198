import type { AgentEvent, AlertEvent } from '@rhi/contracts';
import { jetstream as names, subjects } from '@rhi/contracts';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTimeline } from '../src/nats/timeline.js';
import { followTransitions } from '../src/nats/transition-follower.js';
import type { ControllerRuntime } from '../src/runtime.js';
import { apiGet, startReplica } from './support/replicas.js';
import { status } from './support/statuses.js';

// The flapping counts come from the events stream: a replica started cold, or one taking the lease over,
// judges `nodeFlapping` from the transitions the stream stored (at their stored times), not from those it
// happened to hear since it started. Real nats-server 2.9.10, simulated agents.

const HEARTBEAT = 1000;
const LEASE_TTL = 2000;
const FLAP_AT = 4;

const transition = (node: string, i: number, over: Partial<AgentEvent> = {}): AgentEvent => ({
  schema: 'rhi.v1.event',
  node,
  time: new Date().toISOString(),
  event: i % 2 === 0 ? 'routeWithdrawn' : 'routeAnnounced',
  table: 'vol1',
  prefix: '198.18.200.1/32',
  reason: i % 2 === 0 ? 'b:be_app down' : 'b:be_app up',
  ...over,
});

/** Publishes `count` route transitions of `node`, each acknowledged: stored before this returns. */
async function flap(js: JetStreamClient, node: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await js.publish(subjects.event(node), JSON.stringify(transition(node, i)));
}

describe('nodeFlapping from the events stream, with controller replicas on a real nats-server', () => {
  let nats: NatsInstance;
  let agents: NatsConnection;
  let js: JetStreamClient;
  const replicas: ControllerRuntime[] = [];
  const beating = new Map<string, NodeJS.Timeout>();
  let seq = 0;

  const publishStatus = (node: string) =>
    agents.publish(
      subjects.status(node),
      JSON.stringify(
        status(node, {
          time: new Date().toISOString(),
          seq: ++seq,
          ruleSet: null,
          haproxy: { reachable: true },
        }),
      ),
    );
  const start = async (windowMs = 300_000) => {
    const r = await startReplica(nats, {
      heartbeatMs: HEARTBEAT,
      leaseTtlMs: LEASE_TTL,
      flapping: { transitions: FLAP_AT, windowMs },
    });
    replicas.push(r);
    return r;
  };
  const get = async (r: ControllerRuntime, path: string) => (await apiGet(r, path)).body;
  const alerts = async (r: ControllerRuntime) =>
    (await get(r, '/api/v1/alerts')).alerts as { key: string; message: string }[];
  const flapping = async (r: ControllerRuntime, node: string) =>
    (await alerts(r)).find((a) => a.key === `nodeFlapping:${node}`);
  /** The alert events about `node` in the timeline, oldest first. */
  const alertEvents = async (r: ControllerRuntime, node: string) =>
    ((await get(r, `/api/v1/events?node=${node}`)).events as { event: AlertEvent }[])
      .map((e) => e.event)
      .filter((e) => e.schema === 'rhi.v1.alert');

  beforeAll(async () => {
    nats = await startNats();
    agents = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    js = jetstream(agents);
    // The events stream as an earlier controller left it: the agents' events are kept from the start.
    await ensureTimeline(agents, { replicas: 1, retentionMs: 24 * 3600_000 });
  });

  afterAll(async () => {
    for (const t of beating.values()) clearInterval(t);
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await agents?.close();
    await nats?.destroy();
  });

  it('shows a node flapping before the replica started, with no new event, and the holder writes it once', async () => {
    publishStatus('lb1');
    beating.set(
      'lb1',
      setInterval(() => publishStatus('lb1'), HEARTBEAT),
    );
    await flap(js, 'lb1', FLAP_AT);
    const cold = await start();
    const alert = await waitFor('the cold replica to see lb1 flapping', () => flapping(cold, 'lb1'));
    expect(alert.message).toBe(`lb1: ${FLAP_AT} transitions of one route in the flapping window`);
    const [opened] = await waitFor('the opening in the timeline', async () => {
      const got = await alertEvents(cold, 'lb1');
      return got.length > 0 ? got : undefined;
    });
    expect(opened).toMatchObject({ event: 'alertOpened', kind: 'nodeFlapping', node: 'lb1' });
  });

  it('keeps the alert open when a cold replica takes the lease over from a holder that died', async () => {
    const lead = replicas[0]!;
    await waitFor('the first replica to hold the lease', () => (lead.leaseHeld ? true : undefined));
    const [opening] = await alertEvents(lead, 'lb1');
    const cold = await start();
    await lead.stop({ releaseLease: false });
    await waitFor(
      'the cold replica to take the lease',
      () => (cold.leaseHeld ? true : undefined),
      4 * LEASE_TTL,
    );
    await waitFor('the new holder to see lb1 flapping', () => flapping(cold, 'lb1'));
    // Something the new holder writes after its first syncs: by then a wrong closing would be in.
    clearInterval(beating.get('lb1'));
    const events = await waitFor(
      'the new holder to write lb1 lost',
      async () => {
        const got = await alertEvents(cold, 'lb1');
        return got.some((e) => e.kind === 'nodeLost') ? got : undefined;
      },
      5 * HEARTBEAT + 4000,
    );
    expect(events.map((e) => [e.kind, e.event])).toEqual([
      ['nodeFlapping', 'alertOpened'],
      ['nodeLost', 'alertOpened'],
    ]);
    expect(events[0]!.id).toBe(opening!.id);
    expect(await flapping(cold, 'lb1')).toBeDefined();
  });

  it('does not count transitions stored longer ago than the window', async () => {
    const windowMs = 3000;
    // lb2: enough to flap, but before the window; then two within it. lb3: enough, within it, last.
    await flap(js, 'lb2', FLAP_AT);
    await new Promise((r) => setTimeout(r, windowMs + 500));
    await flap(js, 'lb2', 2);
    await flap(js, 'lb3', FLAP_AT);
    const cold = await start(windowMs);
    // lb3's transitions come after lb2's in the stream: once lb3 flaps, every lb2 one was delivered.
    await waitFor('the cold replica to see lb3 flapping', () => flapping(cold, 'lb3'));
    expect(await flapping(cold, 'lb2')).toBeUndefined();
    // A replica with the long window counts all six of lb2's.
    const long = replicas.find((r) => r !== cold && r.leaseHeld)!;
    const six = await waitFor('the long-window replica to count six', async () => {
      const a = await flapping(long, 'lb2');
      return a?.message.startsWith('lb2: 6 ') ? a : undefined;
    });
    expect(six.message).toBe('lb2: 6 transitions of one route in the flapping window');
  });
});

describe('followTransitions on a real nats-server', () => {
  let nats: NatsInstance;
  let nc: NatsConnection;
  let js: JetStreamClient;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({
      servers: nats.url,
      user: nats.user,
      pass: nats.password,
      reconnectTimeWait: 200,
      maxReconnectAttempts: -1,
    });
    js = jetstream(nc);
    await ensureTimeline(nc, { replicas: 1, retentionMs: 24 * 3600_000 });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.destroy();
  });

  it('delivers the route transitions stored since the start time, at their stored times, once, across a server restart', async () => {
    const old = await js.publish(subjects.event('lb1'), JSON.stringify(transition('lb1', 0)));
    const jsm = await jetstreamManager(nc);
    const storedAt = async (seq: number) =>
      (await jsm.streams.getMessage(names.eventsStream, { seq }))!.time.getTime();
    const since = (await storedAt(old.seq)) + 1;
    await new Promise((r) => setTimeout(r, 10));
    const seqs = [];
    seqs.push((await js.publish(subjects.event('lb1'), JSON.stringify(transition('lb1', 1)))).seq);
    await js.publish(subjects.event('lb2'), JSON.stringify(transition('lb2', 0, { event: 'drained' })));
    await js.publish(subjects.event('lb2'), '{"not json');
    await js.publish(subjects.alertEvents, JSON.stringify(transition('alerts', 0)));
    seqs.push((await js.publish(subjects.event('lb2'), JSON.stringify(transition('lb2', 0)))).seq);

    const got: [string, number][] = [];
    let caughtUp = 0;
    const abort = new AbortController();
    const following = followTransitions(
      nc,
      since,
      (node, _route, at) => got.push([node, at]),
      abort.signal,
      () => caughtUp++,
    );
    await waitFor('caught up', () => (caughtUp > 0 ? true : undefined));
    expect(got).toEqual([
      ['lb1', await storedAt(seqs[0]!)],
      ['lb2', await storedAt(seqs[1]!)],
    ]);

    await nats.stop();
    await nats.start();
    const after = await waitFor('a publish after the restart', () =>
      js.publish(subjects.event('lb3'), JSON.stringify(transition('lb3', 0))),
    );
    await waitFor('the transition after the restart', () => (got.length >= 3 ? true : undefined), 20_000);
    expect(got.slice(2)).toEqual([['lb3', await storedAt(after.seq)]]);
    expect(caughtUp).toBe(1);
    abort.abort();
    await following;
  }, 30_000);

  it('says it has caught up at once when nothing was stored since the start time', async () => {
    let caughtUp = false;
    const got: string[] = [];
    const abort = new AbortController();
    const following = followTransitions(
      nc,
      Date.now() + 1000,
      (node) => got.push(node),
      abort.signal,
      () => (caughtUp = true),
    );
    await waitFor('caught up', () => (caughtUp ? true : undefined));
    expect(got).toEqual([]);
    abort.abort();
    await following;
  });
});
