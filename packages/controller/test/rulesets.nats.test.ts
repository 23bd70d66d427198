import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeRuleSetRecord,
  encodeRuleSetRecord,
  jetstream as names,
  publicKeyFrom,
  ruleSetKeys,
  subjects,
  verifySignedRuleSet,
  type RuleSetRecord,
} from '@rhi/contracts';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ruleSetHash, parse } from '@rhi/rules-dsl';
import { startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControllerConfigSchema } from '../src/config/schema.js';
import { SigningKeyError, writeKeyPair } from '../src/config/signing-key.js';
import { tokenHash } from '../src/http/auth.js';
import { JetStreamRuleSetStore, RuleSetTooLargeError } from '../src/nats/rule-set-store.js';
import { buildRecord, lintUpload } from '../src/rulesets/lint-upload.js';
import { ControllerRuntime } from '../src/runtime.js';
import { healthReport } from './support/health.js';
import { route, status, withdrawn } from './support/statuses.js';

// Rule sets stored by controller replicas in a real nats-server's JetStream: lint at upload, signed
// serials that only go up across replicas, the history, what-if against simulated agents' reports.

const OPERATOR = 'operator-token-of-some-length';
const VIEWER = 'viewer-token-of-some-length';
const RULES = '# edge\n198.18.200.1 = all(b:be_app)\n198.18.200.2 = all(b:be_app, f:fe_web)\n';

describe('rule sets on a real nats-server', () => {
  let nats: NatsInstance;
  let nc: NatsConnection;
  let kv: KV;
  let dir: string;
  let publicPem: string;
  const replicas: ControllerRuntime[] = [];

  const config = (over: Record<string, unknown> = {}) =>
    ControllerConfigSchema.parse({
      nats: { servers: [nats.url], user: nats.user, password: nats.password },
      api: {
        listen: '127.0.0.1:0',
        tokens: [
          { name: 'alice', role: 'operator', sha256: tokenHash(OPERATOR) },
          { name: 'victor', role: 'viewer', sha256: tokenHash(VIEWER) },
        ],
      },
      rules: { signingKey: join(dir, 'signing.key'), keyId: 'ops-2026' },
      fleet: { heartbeatMs: 1000 },
      ...over,
    });
  const start = async (over: Record<string, unknown> = {}) => {
    const r = await ControllerRuntime.start({
      config: config(over),
      logger: pino({ level: 'silent' }),
      version: 'test',
    });
    replicas.push(r);
    await waitFor('the replica to reach NATS', async () => {
      const res = await fetch(`http://127.0.0.1:${r.address?.port}/healthz`);
      return res.status === 200 ? true : undefined;
    });
    return r;
  };
  const call = async (
    r: ControllerRuntime,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    token = OPERATOR,
  ) => {
    const res = await fetch(`http://127.0.0.1:${r.address?.port}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // The answers are read deep, field by field, and checked by the assertions themselves.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const upload = (r: ControllerRuntime, source: string, message = 'test', extra = {}) =>
    call(r, 'POST', '/api/v1/rulesets', { source, message, ...extra });
  const headSerial = async () => {
    const e = await kv.get(ruleSetKeys.head);
    return e?.operation === 'PUT' ? (e.json() as { serial: number }).serial : 0;
  };

  beforeAll(async () => {
    nats = await startNats();
    dir = await mkdtemp(join(tmpdir(), 'rhi-rulesets-'));
    const { publicFile } = await writeKeyPair(join(dir, 'signing'));
    publicPem = await readFile(publicFile, 'utf8');
    nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    await start();
    kv = await new Kvm(nc).open(names.ruleSetBucket);
  }, 30_000);

  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await nc?.close();
    await nats?.stop();
  });

  it('stores a linted rule set signed at serial 1, as the agents verify it, with its text kept', async () => {
    const r = replicas[0]!;
    const stored = await upload(r, RULES, 'two edge VIPs', { target: 'site=par1, role=edge' });
    expect(stored.status).toBe(201);
    expect(stored.body.ruleset).toMatchObject({
      serial: 1,
      author: 'alice',
      message: 'two edge VIPs',
      target: { kind: 'selector', selector: 'role=edge,site=par1' },
      rules: 2,
      routes: 2,
      keyId: 'ops-2026',
      hash: ruleSetHash(parse(RULES).ruleSet),
    });
    const read = await call(r, 'GET', '/api/v1/rulesets/1', undefined, VIEWER);
    expect(read.status).toBe(200);
    expect(read.body.source).toBe(RULES);
    const entry = await kv.get(ruleSetKeys.record(1));
    const record = decodeRuleSetRecord(entry!.value, 'set.1');
    const verdict = verifySignedRuleSet(
      JSON.parse(JSON.stringify(record.signed)),
      new Map([['ops-2026', publicKeyFrom(publicPem)]]),
    );
    expect(verdict.ok).toBe(true);
  });

  it('refuses a text with errors, each with its line and column, and stores nothing', async () => {
    const r = replicas[0]!;
    const before = await headSerial();
    const bad = await upload(r, '198.18.200.1 = all(b:be_app\n198.18.200.2 = nope(b:x)\n', 'broken', {
      file: 'edge.cfg',
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('RULESET_INVALID');
    expect(bad.body.error.field).toBe('source');
    expect(bad.body.error.errors).toBeGreaterThanOrEqual(2);
    expect(bad.body.error.diagnostics[0]).toMatchObject({ file: 'edge.cfg', line: 1, severity: 'error' });
    expect(bad.body.error.diagnostics.some((d: { line: number }) => d.line === 2)).toBe(true);
    expect(bad.body.error.text).toMatch(/^edge\.cfg:1:\d+/m);
    const empty = await upload(r, '# nothing yet\n', 'empty');
    expect(empty.status).toBe(422);
    expect(empty.body.error.code).toBe('RULESET_EMPTY');
    const noWhy = await upload(r, RULES, '  ');
    expect(noWhy.status).toBe(400);
    expect(noWhy.body.error.field).toBe('message');
    const badTarget = await upload(r, RULES, 'x', { target: 'site=' });
    expect(badTarget.status).toBe(400);
    expect(badTarget.body.error).toMatchObject({ code: 'SELECTOR_SYNTAX', field: 'target' });
    expect(await headSerial()).toBe(before);
  });

  it('lets only operators store; viewers read, and no token gets nothing', async () => {
    const r = replicas[0]!;
    const before = await headSerial();
    const viewer = await call(r, 'POST', '/api/v1/rulesets', { source: RULES, message: 'x' }, VIEWER);
    expect(viewer.status).toBe(403);
    expect(viewer.body.error.code).toBe('FORBIDDEN');
    const anonymous = await fetch(`http://127.0.0.1:${r.address?.port}/api/v1/rulesets`);
    expect(anonymous.status).toBe(401);
    expect((await call(r, 'GET', '/api/v1/rulesets', undefined, VIEWER)).status).toBe(200);
    expect(await headSerial()).toBe(before);
  });

  it('gives every rule set its own serial when two replicas store at once, and lists them newest first', async () => {
    const a = replicas[0]!;
    const b = await start();
    const before = await headSerial();
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        upload(i % 2 ? a : b, `198.18.201.${i} = all(b:be_app)\n`, `concurrent ${i}`),
      ),
    );
    expect(results.map((x) => x.status)).toEqual(Array(16).fill(201));
    const serials = results.map((x) => x.body.ruleset.serial as number).sort((x, y) => x - y);
    expect(new Set(serials).size).toBe(16);
    expect(serials[0]).toBe(before + 1);
    expect(serials[15]).toBe(before + 16);
    expect(await headSerial()).toBe(before + 16);
    const page = await call(a, 'GET', `/api/v1/rulesets?limit=5`, undefined, VIEWER);
    expect(page.body.rulesets.map((s: { serial: number }) => s.serial)).toEqual(
      [0, 1, 2, 3, 4].map((i) => before + 16 - i),
    );
    const next = await call(a, 'GET', `/api/v1/rulesets?limit=3&before=${before + 12}`, undefined, VIEWER);
    expect(next.body.rulesets.map((s: { serial: number }) => s.serial)).toEqual([
      before + 11,
      before + 10,
      before + 9,
    ]);
    expect(next.body.rulesets[0]).not.toHaveProperty('source');
  });

  it('steps over a serial a writer took without moving the head, and reads it without its summary', async () => {
    const r = replicas[0]!;
    const head = await headSerial();
    // What a replica killed between storing a record and moving the head leaves.
    const lint = lintUpload('198.18.202.1 = all(b:be_app)\n', 'orphan');
    if (!lint.ok) throw new Error('fixture does not lint');
    const orphan = buildRecord(
      lint,
      { source: '198.18.202.1 = all(b:be_app)\n', author: 'bob', message: 'orphan', target: { kind: 'all' } },
      head + 1,
      { keyId: 'ops-2026', privateKeyPem: await readFile(join(dir, 'signing.key'), 'utf8') },
      new Date(),
    );
    await kv.create(ruleSetKeys.record(head + 1), encodeRuleSetRecord(orphan));
    const next = await upload(r, RULES, 'after the orphan');
    expect(next.body.ruleset.serial).toBe(head + 2);
    const list = await call(r, 'GET', '/api/v1/rulesets?limit=2', undefined, VIEWER);
    expect(list.body.rulesets.map((s: { serial: number; message: string }) => [s.serial, s.message])).toEqual(
      [
        [head + 2, 'after the orphan'],
        [head + 1, 'orphan'],
      ],
    );
  });

  it('takes a serial above every one a node reports running (a bucket lost and made again)', async () => {
    const r = replicas[0]!;
    const floor = (await headSerial()) + 40;
    nc.publish(
      subjects.status('lb-floor'),
      JSON.stringify(
        status('lb-floor', {
          time: new Date().toISOString(),
          ruleSet: {
            hash: 'b'.repeat(64),
            serial: floor,
            source: 'controller',
            appliedAt: new Date().toISOString(),
          },
        }),
      ),
    );
    await waitFor('the status to reach the view', () => (r.view.node('lb-floor') ? true : undefined));
    const next = await upload(r, RULES, 'above the floor');
    expect(next.body.ruleset.serial).toBe(floor + 1);
  });

  it('answers 404 for a serial never stored, and keeps the history over a restart', async () => {
    const r = replicas[0]!;
    const missing = await call(r, 'GET', '/api/v1/rulesets/999999', undefined, VIEWER);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('RULESET_NOT_FOUND');
    const head = await headSerial();
    const cold = await start();
    const list = await call(cold, 'GET', '/api/v1/rulesets?limit=1', undefined, VIEWER);
    expect(list.body.rulesets[0].serial).toBe(head);
  });

  it('simulates a candidate against the nodes’ last reports, and the guard blocks taking a VIP’s last advertiser', async () => {
    const r = replicas[0]!;
    const now = () => new Date().toISOString();
    for (const node of ['lb-w1', 'lb-w2']) {
      nc.publish(
        subjects.status(node),
        JSON.stringify(
          status(node, {
            time: now(),
            labels: { site: 'ams1' },
            routes: [route('198.18.210.1/32'), withdrawn('198.18.210.2/32')],
          }),
        ),
      );
      nc.publish(
        subjects.health(node),
        JSON.stringify(
          healthReport(node, {
            time: now(),
            backends: {
              be_app: { up: true, serversUp: 2, serversTotal: 2 },
              be_down: { up: false, serversUp: 0, serversTotal: 2 },
            },
          }),
        ),
      );
    }
    await waitFor('both nodes and their health in the view', () =>
      r.view.node('lb-w1') && r.view.node('lb-w2') && r.health.get('lb-w2') ? true : undefined,
    );
    const candidate = '198.18.210.1 = all(b:be_down)\n198.18.210.2 = all(b:be_app)\n';
    const answer = await call(
      r,
      'POST',
      '/api/v1/whatif',
      { source: candidate, target: 'site=ams1' },
      VIEWER,
    );
    expect(answer.status).toBe(200);
    const vips = Object.fromEntries(
      answer.body.whatIf.vips.map((v: { id: string; before: number; after: number }) => [
        v.id,
        [v.before, v.after],
      ]),
    );
    expect(vips['vol1%198.18.210.1/32']).toEqual([2, 0]);
    expect(vips['vol1%198.18.210.2/32']).toEqual([0, 2]);
    expect(answer.body.guard.allowed).toBe(false);
    expect(answer.body.guard.blockers).toContainEqual(
      expect.objectContaining({ kind: 'belowMinimum', vip: 'vol1%198.18.210.1/32', after: 0 }),
    );
    const unknown = await call(r, 'POST', '/api/v1/whatif', {
      source: '198.18.210.1 = all(b:be_nowhere)\n',
      target: 'site=ams1',
    });
    // Health reports hold the proxies the nodes' rules name now: one named anew is unverified, taken as down.
    expect(unknown.body.guard.warnings.unverifiedProxies).toContainEqual({
      node: 'lb-w1',
      proxies: ['b:be_nowhere'],
    });
    expect(unknown.body.guard.blockers).toEqual([
      expect.objectContaining({ kind: 'belowMinimum', vip: 'vol1%198.18.210.1/32', after: 0 }),
    ]);
    const stored = await upload(r, '198.18.210.1 = all(b:be_app)\n198.18.210.2 = all(b:be_app)\n', 'both', {
      target: 'site=ams1',
    });
    const bySerial = await call(r, 'POST', '/api/v1/whatif', { serial: stored.body.ruleset.serial });
    expect(bySerial.body).toMatchObject({
      serial: stored.body.ruleset.serial,
      target: { selector: 'site=ams1' },
    });
    expect(bySerial.body.guard.allowed).toBe(true);
  });

  it('refuses a record bigger than the servers’ max_payload, naming the setting', async () => {
    const store = new JetStreamRuleSetStore(kv, () => 2048);
    const text = Array.from(
      { length: 400 },
      (_, i) => `198.18.${220 + (i >> 8)}.${i & 255} = all(b:be_${i})`,
    ).join('\n');
    const lint = lintUpload(text, 'big');
    if (!lint.ok) throw new Error('fixture does not lint');
    const before = await headSerial();
    const key = {
      keyId: 'ops-2026',
      privateKeyPem: await readFile(join(dir, 'signing.key'), 'utf8'),
    };
    await expect(
      store.add((serial): RuleSetRecord =>
        buildRecord(
          lint,
          { source: text, author: 'a', message: 'big', target: { kind: 'all' } },
          serial,
          key,
          new Date(),
        ),
      ),
    ).rejects.toThrow(RuleSetTooLargeError);
    expect(await headSerial()).toBe(before);
  });

  it('does not start without a usable signing key, and says which and why', async () => {
    await expect(
      ControllerRuntime.start({
        config: config({ rules: { signingKey: join(dir, 'absent.key'), keyId: 'k' } }),
        logger: pino({ level: 'silent' }),
        version: 'test',
      }),
    ).rejects.toThrow(/rules\.signingKey \(.*absent\.key\): cannot read it/);
    await writeFile(join(dir, 'public-only.key'), publicPem);
    const err = await ControllerRuntime.start({
      config: config({ rules: { signingKey: join(dir, 'public-only.key'), keyId: 'k' } }),
      logger: pino({ level: 'silent' }),
      version: 'test',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SigningKeyError);
    expect((err as Error).message).toMatch(/it is a public key: the controller needs the private key/);
  });

  it('answers 409 for a store on a controller with no rules section, and still lists', async () => {
    const bare = await start({ rules: undefined });
    const refused = await upload(bare, RULES, 'no key');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('RULESETS_NOT_CONFIGURED');
    expect((await call(bare, 'GET', '/api/v1/rulesets', undefined, VIEWER)).status).toBe(200);
  });
});
