import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuleSetAck, RuleSetRecord } from '@rhi/contracts';
import {
  encodeRuleSetRecord,
  jetstream,
  kvDirectGetSubject,
  RuleSetAckSchema,
  ruleSetKeys,
  subjects,
} from '@rhi/contracts';
import { waitFor } from '@rhi/test-support';
import type { KV } from '@nats-io/kv';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentApp } from '../src/app/agent-app.js';
import { parseConfig } from '../src/config/load.js';
import { recordingLogger } from './support/fakes.js';
import { NatsServer } from './support/nats-server.js';
import { assignmentOf, ruleSetRecord } from './support/rule-set-records.js';

// The agent (in-process, as agent.daemons.test.ts runs it) against a real nats-server with JetStream: the
// rule-set bucket is made here as the controller makes it, and records and assignments are written as it
// writes them. No HAProxy or BIRD: the agent runs without them (its proxies are then not checked), and
// what is judged here is where a rule set comes from, not what it advertises.

const pem = () =>
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const trusted = generateKeyPairSync('ed25519');
const ops = {
  privateKeyPem: trusted.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  keyId: 'ops',
};
/** A key the agents do not trust. */
const stranger = { privateKeyPem: pem(), keyId: 'old-ops' };
const rules = (n: number) => `198.18.200.${n} = true\n`;

describe('rhi-agent following its rule-set assignment in JetStream (real nats-server)', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let kv: KV;
  let dir: string;
  const acks: RuleSetAck[] = [];
  const apps = new Map<string, AgentApp>();
  const { logger, records } = recordingLogger();

  const store = (record: RuleSetRecord) =>
    kv.put(ruleSetKeys.record(record.serial), encodeRuleSetRecord(record));
  const assign = (node: string, target: { serial: number; hash: string }, assignedAt?: string) =>
    kv.put(
      ruleSetKeys.assignment(node),
      JSON.stringify(assignmentOf(node, target, assignedAt ? { assignedAt } : {})),
    );
  const ackOf = (node: string, serial: number, from: number) =>
    waitFor(`an ack of serial ${serial} from ${node}`, () =>
      acks.slice(from).find((a) => a.node === node && a.serial === serial),
    );
  const logged = (event: string, match: Record<string, unknown> = {}, from = 0) =>
    records
      .slice(from)
      .filter((r) => r['event'] === event && Object.entries(match).every(([k, v]) => r[k] === v));
  /** The serial and source of the rule set in force on `node`, or null. */
  const inForce = (node: string) => {
    const ruleSet = apps.get(node)?.snapshot().ruleSet;
    return ruleSet ? { serial: ruleSet.serial, source: ruleSet.source } : null;
  };
  const start = async (node: string, assignmentPollMs: number) => {
    const home = join(dir, node);
    await mkdir(home);
    const config = parseConfig(
      `node: { name: ${node} }
haproxy: { sockets: [${join(home, 'haproxy.sock')}] }
bird: { socket: ${join(home, 'bird.ctl')}, include: ${join(home, 'rhi-routes.conf')}, config: ${join(home, 'bird.conf')} }
rules: { fromController: true, trustedKeys: { ops: ${join(dir, 'ops.pub')} } }
allowlist: [198.18.200.0/24]
nats: { servers: [${server.url}], user: ${server.user}, password: ${server.password}, heartbeatMs: 60000, assignmentPollMs: ${assignmentPollMs} }
admin: { listen: 127.0.0.1:0, socket: ${join(home, 'admin.sock')} }
stateDir: ${home}
`,
      'agent.yaml',
    );
    const app = await AgentApp.start({ config, logger: logger.child({ agent: node }), version: 'test' });
    apps.set(node, app);
    return app;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-assign-'));
    await writeFile(
      join(dir, 'ops.pub'),
      trusted.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    server = await NatsServer.start();
    nc = await connect({
      servers: server.url,
      user: server.user,
      pass: server.password,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    // As the controller creates it (packages/controller/src/nats/rule-set-store.ts).
    kv = await new Kvm(nc).create(jetstream.ruleSetBucket, { history: 5, replicas: 1 });
    nc.subscribe(subjects.allRuleSetAcks, {
      callback: (_err, msg) => void acks.push(RuleSetAckSchema.parse(msg.json())),
    });
    await nc.flush();
  });

  afterAll(async () => {
    for (const app of apps.values()) await app.stop();
    await nc?.close();
    await server?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads the newest value of a key by direct get on nats-server 2.9.10 (the bucket allows it)', async () => {
    expect(nc.info?.version).toBe('2.9.10');
    expect((await kv.status()).streamInfo.config.allow_direct).toBe(true);
    await kv.put('probe', 'one');
    await kv.put('probe', 'two');
    const newest = await nc.request(kvDirectGetSubject(jetstream.ruleSetBucket, 'probe'), undefined, {
      timeout: 5000,
    });
    expect(newest.string()).toBe('two');
    expect(newest.headers?.get('Nats-Sequence')).toMatch(/^\d+$/);
    const absent = await nc.request(kvDirectGetSubject(jetstream.ruleSetBucket, 'absent'), undefined, {
      timeout: 5000,
    });
    expect(absent.headers?.code).toBe(404);
  });

  it('converges to the assignment written before it started, and acks it applied', async () => {
    const first = ruleSetRecord(rules(1), 1, ops);
    await store(first);
    await assign('lb-a', first);
    await start('lb-a', 60_000);
    expect(await ackOf('lb-a', 1, 0)).toMatchObject({ node: 'lb-a', hash: first.hash, result: 'applied' });
    expect(inForce('lb-a')).toEqual({ serial: 1, source: 'controller' });
    expect(logged('assignmentFetched', { serial: 1, trigger: 'connect' })).toHaveLength(1);
  });

  it('applies a new assignment within a second of its write, as it hears it', async () => {
    const second = ruleSetRecord(rules(2), 2, ops);
    await store(second);
    const from = acks.length;
    const writtenAt = Date.now();
    await assign('lb-a', second);
    const ack = await ackOf('lb-a', 2, from);
    expect(Date.now() - writtenAt).toBeLessThan(1000);
    expect(ack).toMatchObject({ hash: second.hash, result: 'applied' });
    expect(inForce('lb-a')).toEqual({ serial: 2, source: 'controller' });
    // Heard on the key's subject: the poll (a minute) had no part in it.
    expect(logged('assignmentFetched', { serial: 2, trigger: 'message' })).toHaveLength(1);
  });

  it('acks a refused rule set rejected with its code, keeps the one in force, and never judges it again', async () => {
    const untrusted = ruleSetRecord(rules(3), 3, stranger);
    await store(untrusted);
    let from = acks.length;
    await assign('lb-a', untrusted);
    const ack = await ackOf('lb-a', 3, from);
    expect(ack).toMatchObject({ hash: untrusted.hash, result: 'rejected', code: 'RULESET_UNTRUSTED_KEY' });
    expect(ack.reason).toContain('old-ops');
    expect(inForce('lb-a')).toEqual({ serial: 2, source: 'controller' });
    // Written again (a new assignedAt, twice): the same refusal each time, without judging it again.
    for (const assignedAt of ['2026-12-03T08:00:00.000Z', '2026-12-03T09:00:00.000Z']) {
      from = acks.length;
      await assign('lb-a', untrusted, assignedAt);
      expect(await ackOf('lb-a', 3, from)).toEqual({ ...ack, time: expect.any(String) });
    }
    // And after a reconnect, when the agent reads and answers again.
    const mark = records.length;
    await server.stop();
    await server.start();
    await waitFor('the agent to ack again after its reconnect', () =>
      logged('natsReconnected', {}, mark).length > 0 &&
      logged('ruleSetAcked', { serial: 3, result: 'rejected' }, mark).length > 0
        ? true
        : undefined,
    );
    expect(logged('assignmentFetched', { serial: 3 })).toHaveLength(1);
    expect(logged('ruleSetRejected', { code: 'RULESET_UNTRUSTED_KEY' })).toHaveLength(1);
    // The next tests write again once this side is back too, with JetStream answering.
    await waitFor('JetStream to answer the test again', async () => {
      const info = await nc.request(`$JS.API.STREAM.INFO.KV_${jetstream.ruleSetBucket}`, undefined, {
        timeout: 500,
      });
      return 'error' in info.json<object>() ? undefined : true;
    });
    expect(inForce('lb-a')).toEqual({ serial: 2, source: 'controller' });
  }, 30_000);

  it('acks an assignment without a record rejected, changing nothing', async () => {
    const missing = ruleSetRecord(rules(4), 4, ops);
    const from = acks.length;
    const mark = records.length;
    await assign('lb-a', missing);
    expect(await ackOf('lb-a', 4, from)).toMatchObject({
      hash: missing.hash,
      result: 'rejected',
      code: 'RULESET_RECORD_MISSING',
      reason: 'no rule set is stored under set.4',
    });
    expect(logged('assignmentRecordMissing', { serial: 4 }, mark)).toHaveLength(1);
    expect(inForce('lb-a')).toEqual({ serial: 2, source: 'controller' });
  });

  it('refuses an unreadable record, and one of other rules than assigned, changing nothing', async () => {
    const mark = records.length;
    await kv.put(ruleSetKeys.record(6), new TextEncoder().encode('not a record'));
    let from = acks.length;
    await assign('lb-a', { serial: 6, hash: 'a'.repeat(64) });
    expect(await ackOf('lb-a', 6, from)).toMatchObject({
      result: 'rejected',
      code: 'RULESET_RECORD_UNREADABLE',
      reason: expect.stringContaining('set.6'),
    });
    const seventh = ruleSetRecord(rules(7), 7, ops);
    await store(seventh);
    from = acks.length;
    await assign('lb-a', { serial: 7, hash: 'b'.repeat(64) });
    expect(await ackOf('lb-a', 7, from)).toMatchObject({
      hash: 'b'.repeat(64),
      result: 'rejected',
      code: 'RULESET_RECORD_MISMATCH',
    });
    expect(logged('assignmentRecordUnreadable', { serial: 6 }, mark)).toHaveLength(1);
    expect(logged('assignmentRecordMismatch', { serial: 7 }, mark)).toHaveLength(1);
    expect(inForce('lb-a')).toEqual({ serial: 2, source: 'controller' });
  });

  it('refuses an assignment for another node or not an assignment at all, changing nothing', async () => {
    const mark = records.length;
    let from = acks.length;
    const eighth = ruleSetRecord(rules(8), 8, ops);
    await store(eighth);
    await kv.put(ruleSetKeys.assignment('lb-a'), JSON.stringify(assignmentOf('lb-z', eighth)));
    expect(await ackOf('lb-a', 8, from)).toMatchObject({
      node: 'lb-a',
      result: 'rejected',
      code: 'RULESET_ASSIGNMENT_INVALID',
      reason: "the assignment stored for node 'lb-a' names node 'lb-z'",
    });
    from = acks.length;
    await kv.put(ruleSetKeys.assignment('lb-a'), 'serial 9, please');
    await waitFor(
      'the warning',
      () => logged('assignmentInvalid', { reason: 'the assignment is not JSON' }, mark)[0],
    );
    // The rule set in force assigned again: acked applied, and nothing came before for the junk.
    await assign('lb-a', { serial: 2, hash: (await ackOf('lb-a', 2, 0)).hash });
    await ackOf('lb-a', 2, from);
    expect(acks.slice(from).map((a) => [a.serial, a.result])).toEqual([[2, 'applied']]);
    expect(logged('assignmentFetched', { serial: 8 })).toHaveLength(0);
    expect(inForce('lb-a')).toEqual({ serial: 2, source: 'controller' });
  });

  it('leaves the rule set in force alone when the assignment is deleted', async () => {
    const mark = records.length;
    const from = acks.length;
    await kv.delete(ruleSetKeys.assignment('lb-a'));
    await waitFor(
      'the agent to read the deletion',
      () => logged('assignmentRead', { trigger: 'message', why: 'absent' }, mark)[0],
    );
    expect(acks.slice(from)).toEqual([]);
    expect(inForce('lb-a')).toEqual({ serial: 2, source: 'controller' });
  });

  it('finds by its poll a record written after the assignment that named it', async () => {
    const fifth = ruleSetRecord(rules(5), 5, ops);
    await assign('lb-p', fifth);
    await start('lb-p', 1000);
    expect(await ackOf('lb-p', 5, 0)).toMatchObject({ result: 'rejected', code: 'RULESET_RECORD_MISSING' });
    expect(inForce('lb-p')).toBeNull();
    const from = acks.length;
    await store(fifth);
    expect(await ackOf('lb-p', 5, from)).toMatchObject({ hash: fifth.hash, result: 'applied' });
    expect(inForce('lb-p')).toEqual({ serial: 5, source: 'controller' });
    expect(logged('assignmentFetched', { serial: 5, trigger: 'poll' })).toHaveLength(1);
  });

  it('takes a failed read for no answer, not for no assignment, and reads again soon', async () => {
    const mark = records.length;
    const from = acks.length;
    // The bucket gone: a direct get has no responder and times out.
    const stream = `KV_${jetstream.ruleSetBucket}`;
    await nc.request(`$JS.API.STREAM.DELETE.${stream}`, undefined, { timeout: 5000 });
    await waitFor('a failed read', () => logged('assignmentReadFailed', { node: 'lb-p' }, mark)[0]);
    expect(inForce('lb-p')).toEqual({ serial: 5, source: 'controller' });
    kv = await new Kvm(nc).create(jetstream.ruleSetBucket, { history: 5, replicas: 1 });
    const ninth = ruleSetRecord(rules(9), 9, ops);
    await store(ninth);
    await assign('lb-p', ninth);
    expect(await ackOf('lb-p', 9, from)).toMatchObject({ result: 'applied' });
    expect(acks.slice(from).map((a) => [a.node, a.serial, a.result])).toEqual([['lb-p', 9, 'applied']]);
    expect(inForce('lb-p')).toEqual({ serial: 9, source: 'controller' });
  }, 30_000);
});
