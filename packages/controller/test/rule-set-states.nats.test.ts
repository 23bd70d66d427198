import { jetstream as names, ruleSetKeys, subjects, type RuleSetAck } from '@rhi/contracts';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControllerRuntime } from '../src/runtime.js';
import { apiGet, startReplica } from './support/replicas.js';
import { status } from './support/statuses.js';

// Each node's rule-set state (assigned, active, last good, error) as a controller replica shows it, from
// a real nats-server: assignments from the rule-set bucket, acks as agents publish them (core NATS), kept
// in the acks stream for a replica that starts later.

const H3 = '3'.repeat(64);
const H4 = '4'.repeat(64);

describe('rule-set states on a real nats-server', () => {
  let nats: NatsInstance;
  let nc: NatsConnection;
  let kv: KV;
  const replicas: ControllerRuntime[] = [];

  const start = async () => {
    const r = await startReplica(nats, { heartbeatMs: 1000 });
    replicas.push(r);
    await waitFor('the replica to reach NATS', async () =>
      (await apiGet(r, '/healthz')).status === 200 ? true : undefined,
    );
    return r;
  };
  const ruleSetOf = async (r: ControllerRuntime, node: string) => {
    const res = await apiGet(r, `/api/v1/nodes/${node}`);
    return res.status === 200 ? (res.body['ruleSet'] as Record<string, unknown>) : undefined;
  };
  const publishStatus = (node: string, serial: number, hash: string, seq: number) =>
    nc.publish(
      subjects.status(node),
      JSON.stringify(
        status(node, {
          time: new Date().toISOString(),
          seq,
          ruleSet: { hash, serial, source: 'controller', appliedAt: new Date().toISOString() },
        }),
      ),
    );
  const ackOf = (node: string, serial: number, hash: string, rejected: boolean): RuleSetAck => ({
    schema: 'rhi.v1.ruleset.ack',
    node,
    serial,
    hash,
    result: rejected ? 'rejected' : 'applied',
    ...(rejected
      ? { code: 'RULESET_UNKNOWN_PROXIES', reason: 'the rules name be_new, which HAProxy lacks' }
      : {}),
    time: new Date().toISOString(),
  });
  const assign = (node: string, serial: number, hash: string) =>
    kv.put(
      ruleSetKeys.assignment(node),
      JSON.stringify({
        schema: 'rhi.v1.assignment',
        node,
        serial,
        hash,
        rollout: null,
        assignedAt: new Date().toISOString(),
      }),
    );

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    await start();
    kv = await new Kvm(nc).open(names.ruleSetBucket);
  }, 30_000);

  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await nc?.close();
    await nats?.stop();
  });

  it('shows a node pending on its assignment, then its rejection as an error beside the last good it runs', async () => {
    const r = replicas[0]!;
    publishStatus('n1', 3, H3, 1);
    await waitFor(
      'n1 reported',
      async () => (await ruleSetOf(r, 'n1'))?.['sync'] === 'unassigned' || undefined,
    );
    nc.publish(subjects.ruleSetAck('n1'), JSON.stringify(ackOf('n1', 3, H3, false)));
    await assign('n1', 4, H4);
    expect(
      await waitFor('n1 pending', async () => {
        const s = await ruleSetOf(r, 'n1');
        return s?.['sync'] === 'pending' ? s : undefined;
      }),
    ).toMatchObject({
      assigned: { serial: 4, hash: H4, rollout: null },
      active: { serial: 3, hash: H3 },
      error: null,
    });
    nc.publish(subjects.ruleSetAck('n1'), JSON.stringify(ackOf('n1', 4, H4, true)));
    expect(
      await waitFor('n1 in error', async () => {
        const s = await ruleSetOf(r, 'n1');
        return s?.['sync'] === 'error' ? s : undefined;
      }),
    ).toMatchObject({
      active: { serial: 3, hash: H3 },
      error: {
        serial: 4,
        code: 'RULESET_UNKNOWN_PROXIES',
        reason: 'the rules name be_new, which HAProxy lacks',
      },
    });
    const alerts = await waitFor('the NACK alert', async () => {
      const list = (await apiGet(r, '/api/v1/alerts')).body['alerts'] as { kind: string; subject: string }[];
      return list.some((a) => a.kind === 'ruleSetRejected') ? list : undefined;
    });
    expect(alerts.filter((a) => a.kind === 'ruleSetRejected')).toEqual([
      expect.objectContaining({
        subject: 'n1',
        message:
          'n1 rejected its assigned rule set, serial 4 (RULESET_UNKNOWN_PROXIES): the rules name be_new, which HAProxy lacks; it keeps its last good one',
      }),
    ]);
  });

  it('drops an ack published for another node than its subject names', async () => {
    const r = replicas[0]!;
    await assign('n9', 4, H4);
    nc.publish(subjects.ruleSetAck('n9'), JSON.stringify(ackOf('n2', 4, H4, true)));
    publishStatus('n9', 3, H3, 1);
    await nc.flush();
    await waitFor('n9 reported', async () => (r.view.node('n9') ? true : undefined));
    expect(await ruleSetOf(r, 'n9')).toMatchObject({ sync: 'pending', error: null });
  });

  it('shows a node synced once it runs the assigned serial, and a replica started later shows the same', async () => {
    const r = replicas[0]!;
    await assign('n5', 5, H4);
    nc.publish(subjects.ruleSetAck('n5'), JSON.stringify(ackOf('n5', 5, H4, false)));
    publishStatus('n5', 5, H4, 1);
    await waitFor('n5 synced', async () =>
      (await ruleSetOf(r, 'n5'))?.['sync'] === 'synced' ? true : undefined,
    );
    const later = await start();
    publishStatus('n1', 3, H3, 2);
    await waitFor('the later replica to show both', async () =>
      (await ruleSetOf(later, 'n5'))?.['sync'] === 'synced' &&
      (await ruleSetOf(later, 'n1'))?.['sync'] === 'error'
        ? true
        : undefined,
    );
    expect(await ruleSetOf(later, 'n1')).toEqual(await ruleSetOf(r, 'n1'));
  });
});
