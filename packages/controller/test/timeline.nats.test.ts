import type { AgentEvent, AlertEvent } from '@rhi/contracts';
import { alertEventMsgId, subjects } from '@rhi/contracts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, type NatsInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTimeline, JetStreamTimeline } from '../src/nats/timeline.js';

// The event timeline on a real nats-server 2.9.10: agents publish their events on core NATS, the stream
// keeps them, and queries select by node, VIP, time and count.

const event = (node: string, prefix: string, what: AgentEvent['event']): AgentEvent => ({
  schema: 'rhi.v1.event',
  node,
  time: new Date().toISOString(),
  event: what,
  table: 'vol1',
  prefix,
  reason: 'b:be_app down',
});

describe('the event timeline on a real nats-server', () => {
  let nats: NatsInstance;
  let nc: NatsConnection;
  let timeline: JetStreamTimeline;
  let middle = 0;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    await ensureTimeline(nc, { replicas: 1, retentionMs: 86_400_000 });
    await ensureTimeline(nc, { replicas: 1, retentionMs: 3_600_000 });
    // Published as the agents do (core NATS), except that the test waits for each to be stored, so that
    // the order and the time split below are certain.
    const put = async (e: AgentEvent) => {
      nc.publish(subjects.event(e.node), JSON.stringify(e));
      await nc.flush();
    };
    for (let i = 1; i <= 6; i++)
      await put(event(i % 2 ? 'lb1' : 'lb2', `198.18.200.${i % 3}/32`, 'routeWithdrawn'));
    await new Promise((r) => setTimeout(r, 20));
    middle = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 7; i <= 10; i++) await put(event('lb1', '198.18.200.9/32', 'routeAnnounced'));
    timeline = new JetStreamTimeline(nc);
    // The stream holds all ten before any query runs.
    const info = await (await jetstreamManager(nc)).streams.info('RHI_V1_EVENTS');
    expect(info.state.messages).toBe(10);
    // The second ensure updated the retention in place.
    expect(info.config.max_age).toBe(3_600_000 * 1_000_000);
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.destroy();
  });

  it('returns everything oldest first, with the stream sequence as a stable id', async () => {
    const { entries, truncated } = await timeline.query({ limit: 100 });
    expect(truncated).toBe(false);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('selects by node, by VIP and by time, together', async () => {
    expect((await timeline.query({ node: 'lb2', limit: 100 })).entries.map((e) => e.seq)).toEqual([2, 4, 6]);
    expect(
      (await timeline.query({ vip: 'vol1%198.18.200.1/32', limit: 100 })).entries.map((e) => e.seq),
    ).toEqual([1, 4]);
    expect((await timeline.query({ since: middle, limit: 100 })).entries.map((e) => e.seq)).toEqual([
      7, 8, 9, 10,
    ]);
    expect((await timeline.query({ until: middle, limit: 100 })).entries.map((e) => e.seq)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    expect(
      (await timeline.query({ node: 'lb1', vip: 'vol1%198.18.200.9/32', until: middle, limit: 100 })).entries,
    ).toEqual([]);
  });

  it('stops at the limit and says there is more', async () => {
    const { entries, truncated } = await timeline.query({ node: 'lb1', limit: 3 });
    expect(entries.map((e) => e.seq)).toEqual([1, 3, 5]);
    expect(truncated).toBe(true);
    expect((await timeline.query({ node: 'lb2', limit: 3 })).truncated).toBe(false);
  });
});

describe('alert events in the timeline on a real nats-server', () => {
  let nats: NatsInstance;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    await ensureTimeline(nc, { replicas: 1, retentionMs: 3_600_000 });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.destroy();
  });

  it('returns alerts about a node or a VIP with that node’s or VIP’s events, once per message id', async () => {
    const js = jetstream(nc);
    const alert = (over: Partial<AlertEvent>): AlertEvent => ({
      schema: 'rhi.v1.alert',
      event: 'alertOpened',
      id: 'x',
      kind: 'nodeLost',
      subject: 'lb2',
      node: 'lb2',
      reason: 'lb2 has not reported for 16 s',
      since: new Date().toISOString(),
      time: new Date().toISOString(),
      ...over,
    });
    const put = async (e: AlertEvent) =>
      js.publish(subjects.alertEvents, JSON.stringify(e), { msgID: alertEventMsgId(e) });
    nc.publish(subjects.event('lb2'), JSON.stringify(event('lb2', '198.18.200.1/32', 'routeWithdrawn')));
    await nc.flush();
    await put(alert({ id: 'nodeLost:lb2@1' }));
    const vipId = 'vol1%198.18.200.1/32';
    await put(
      alert({
        id: `vipNoAdvertiser:${vipId}@1`,
        kind: 'vipNoAdvertiser',
        subject: vipId,
        node: undefined,
        vip: vipId,
      }),
    );
    // The same transition again (a replica taking over): the stream keeps it once.
    expect((await put(alert({ id: 'nodeLost:lb2@1' }))).duplicate).toBe(true);
    await put(alert({ id: 'nodeLost:lb2@1', event: 'alertClosed' }));
    const timeline = new JetStreamTimeline(nc);
    const lb2 = (await timeline.query({ node: 'lb2', limit: 100 })).entries;
    expect(lb2.map((e) => [e.seq, (e.event as { event: string }).event])).toEqual([
      [1, 'routeWithdrawn'],
      [2, 'alertOpened'],
      [4, 'alertClosed'],
    ]);
    const vip = (await timeline.query({ vip: vipId, limit: 100 })).entries;
    expect(vip.map((e) => e.seq)).toEqual([1, 3]);
    expect(await timeline.query({ node: 'lb2', limit: 2 })).toMatchObject({ truncated: true });
    expect((await timeline.query({ node: 'lb2', limit: 2 })).entries.map((e) => e.seq)).toEqual([1, 2]);
    expect((await timeline.query({ node: 'lb1', limit: 100 })).entries).toEqual([]);
  });
});
