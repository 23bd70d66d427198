import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  agentInboxPrefix,
  jetstream as names,
  kvDirectGetSubject,
  kvSubject,
  ruleSetKeys,
  subjects,
} from '@rhi/contracts';
import { Kvm } from '@nats-io/kv';
import { connect, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { startNatsWithConfig, waitFor, type ConfiguredNats } from '@rhi/test-support';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControllerConfigSchema } from '../src/config/schema.js';
import { tokenHash } from '../src/http/auth.js';
import { natsAddNode, natsFiles, natsInit, natsRemoveNode } from '../src/nats-admin/nats-admin.js';
import { natsTls, tlsFiles } from '../src/nats-admin/tls.js';
import { ControllerRuntime } from '../src/runtime.js';
import { status } from './support/statuses.js';

// The NATS users `rhi-controller nats` writes, on a real nats-server 2.9.10 started on the config it
// generated: each node may use its own subjects only, the controller everything, nobody unauthenticated;
// nodes added and removed with a reload, no restart.

const TOKEN = 'security-test-token-of-some-length';

describe('NATS users and permissions from rhi-controller nats, on a real nats-server', () => {
  let dir: string;
  let server: ConfiguredNats;
  let controller: ControllerRuntime;
  const open: NatsConnection[] = [];

  const seedOf = async (file: string) => new TextEncoder().encode((await readFile(file, 'utf8')).trim());
  /** Connects as a node does: its seed, and its own inbox prefix. */
  const asNode = async (node: string) => {
    const nc = await connect({
      servers: server.url,
      authenticator: nkeyAuthenticator(await seedOf(join(dir, natsFiles.nodeSeed(node)))),
      inboxPrefix: agentInboxPrefix(node),
      reconnect: false,
    });
    open.push(nc);
    return nc;
  };
  /** The permission errors the server sent a connection. */
  const violations = (nc: NatsConnection) => {
    const seen: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') seen.push(String(s.error));
    })();
    return seen;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-nats-security-'));
    await natsInit(dir, { listen: '127.0.0.1:4222', storeDir: join(dir, 'jetstream') });
    await natsAddNode(dir, 'lb-1', { site: 'par1' });
    await natsAddNode(dir, 'lb-2', { site: 'ams1' });
    server = await startNatsWithConfig(join(dir, natsFiles.server));
    controller = await ControllerRuntime.start({
      config: ControllerConfigSchema.parse({
        nats: { servers: [server.url], nkeyFile: join(dir, natsFiles.controllerSeed) },
        api: { listen: '127.0.0.1:0', tokens: [{ name: 'ops', role: 'operator', sha256: tokenHash(TOKEN) }] },
        fleet: { heartbeatMs: 60_000 },
      }),
      logger: pino({ level: 'silent' }),
      version: 'test',
    });
    await waitFor('the controller on NATS with its nkey', async () => {
      const res = await fetch(`http://127.0.0.1:${controller.address?.port}/healthz`);
      return res.status === 200 ? true : undefined;
    });
  }, 30_000);

  afterAll(async () => {
    for (const nc of open) await nc.close().catch(() => undefined);
    await controller?.stop();
    await server?.stop();
  });

  it('keeps every user inside accounts {} and refuses a client without a known key', async () => {
    const auth = await readFile(join(dir, natsFiles.auth), 'utf8');
    expect(auth).not.toMatch(/^\s*authorization\s*\{/m);
    expect(auth).toContain('system_account: SYS');
    await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(/Authorization/i);
    await expect(
      connect({ servers: server.url, user: 'rhi', pass: 'guess', reconnect: false }),
    ).rejects.toThrow(/Authorization/i);
  });

  it('lets a node publish its own status, and drops one it publishes as another node', async () => {
    const nc = await asNode('lb-1');
    const errors = violations(nc);
    nc.publish(subjects.status('lb-2'), JSON.stringify(status('lb-2', { time: new Date().toISOString() })));
    nc.publish(subjects.status('lb-1'), JSON.stringify(status('lb-1', { time: new Date().toISOString() })));
    await waitFor('lb-1 in the view', () => (controller.view.node('lb-1') ? true : undefined));
    await waitFor('the violation told', () =>
      errors.some((e) => /Permissions Violation for Publish to "rhi\.v1\.status\.lb-2"/.test(e))
        ? true
        : undefined,
    );
    expect(controller.view.node('lb-2')).toBeUndefined();
  });

  it('refuses a node listening to another node’s commands or assignment, and lets it hear its own', async () => {
    const nc = await asNode('lb-1');
    const errors = violations(nc);
    nc.subscribe(subjects.nodeCommand('lb-2'));
    nc.subscribe(kvSubject(names.ruleSetBucket, ruleSetKeys.assignment('lb-2')));
    nc.subscribe(subjects.labelCommand('site', 'ams1'));
    const own = nc.subscribe(subjects.labelCommand('site', 'par1'));
    await waitFor('three violations told', () =>
      errors.filter((e) => /Permissions Violation for Subscription/.test(e)).length >= 3 ? true : undefined,
    );
    expect(errors.join('\n')).toContain(`"${subjects.nodeCommand('lb-2')}"`);
    expect(errors.join('\n')).not.toContain(subjects.labelCommand('site', 'par1'));
    expect(own.isClosed()).toBe(false);
  });

  it('lets a node read its own assignment and the rule sets, not another node’s, and write none', async () => {
    const ops = await connect({
      servers: server.url,
      authenticator: nkeyAuthenticator(await seedOf(join(dir, natsFiles.controllerSeed))),
    });
    open.push(ops);
    const kv = await new Kvm(ops).open(names.ruleSetBucket);
    const assignment = (node: string) =>
      JSON.stringify({
        schema: 'rhi.v1.assignment',
        node,
        serial: 1,
        hash: 'a'.repeat(64),
        rollout: null,
        assignedAt: new Date().toISOString(),
      });
    await kv.put(ruleSetKeys.assignment('lb-1'), assignment('lb-1'));
    await kv.put(ruleSetKeys.assignment('lb-2'), assignment('lb-2'));
    const nc = await asNode('lb-1');
    const errors = violations(nc);
    const mine = await nc.request(
      kvDirectGetSubject(names.ruleSetBucket, ruleSetKeys.assignment('lb-1')),
      '',
      { timeout: 2000 },
    );
    expect(JSON.parse(mine.string())).toMatchObject({ node: 'lb-1' });
    await expect(
      nc.request(kvDirectGetSubject(names.ruleSetBucket, ruleSetKeys.assignment('lb-2')), '', {
        timeout: 1000,
      }),
    ).rejects.toThrow();
    // A put is a publish on the key's subject: refused, and the value stays.
    nc.publish(kvSubject(names.ruleSetBucket, ruleSetKeys.assignment('lb-1')), assignment('lb-9'));
    await waitFor('the violations told', () =>
      errors.filter((e) => /Permissions Violation for Publish/.test(e)).length >= 2 ? true : undefined,
    );
    expect(((await kv.get(ruleSetKeys.assignment('lb-1')))!.json() as { node: string }).node).toBe('lb-1');
    const asKv = await new Kvm(nc).open(names.ruleSetBucket, { bindOnly: true, timeout: 1000 });
    await expect(asKv.put(ruleSetKeys.assignment('lb-1'), assignment('lb-9'))).rejects.toThrow();
  });

  it('admits a node added, and refuses one removed, at a reload without a restart', async () => {
    await expect(asNode('lb-3')).rejects.toThrow();
    await natsAddNode(dir, 'lb-3', {});
    await server.reload();
    const nc = await asNode('lb-3');
    nc.publish(subjects.status('lb-3'), JSON.stringify(status('lb-3', { time: new Date().toISOString() })));
    await waitFor('lb-3 in the view', () => (controller.view.node('lb-3') ? true : undefined));
    const seed = await seedOf(join(dir, natsFiles.nodeSeed('lb-3')));
    await natsRemoveNode(dir, 'lb-3');
    await server.reload();
    await waitFor('the removed user disconnected', () => (nc.isClosed() ? true : undefined));
    await expect(
      connect({ servers: server.url, authenticator: nkeyAuthenticator(seed), reconnect: false }),
    ).rejects.toThrow(/Authorization/i);
  });
});

describe('TLS from rhi-controller nats, on a real nats-server', () => {
  let dir: string;
  let server: ConfiguredNats;
  let controller: ControllerRuntime | null = null;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-nats-tls-'));
    await natsInit(dir, {
      listen: '127.0.0.1:4222',
      storeDir: join(dir, 'jetstream'),
      tlsHosts: ['127.0.0.1', 'localhost'],
    });
    server = await startNatsWithConfig(join(dir, natsFiles.server));
  }, 30_000);

  afterAll(async () => {
    await controller?.stop();
    await server?.stop();
  });

  const tlsUrl = () => server.url.replace('nats://', 'tls://');
  const seed = async () =>
    new TextEncoder().encode((await readFile(join(dir, natsFiles.controllerSeed), 'utf8')).trim());

  it('admits a client that verifies the server against the CA made, and refuses one that cannot', async () => {
    const ok = await connect({
      servers: tlsUrl(),
      tls: { caFile: join(dir, tlsFiles.ca) },
      authenticator: nkeyAuthenticator(await seed()),
      reconnect: false,
    });
    expect(ok.info?.tls_required).toBe(true);
    await ok.close();
    // No CA given: the server's certificate is not one the system trusts.
    await expect(
      connect({ servers: tlsUrl(), authenticator: nkeyAuthenticator(await seed()), reconnect: false }),
    ).rejects.toThrow();
    // Another CA: the same.
    const other = await mkdtemp(join(tmpdir(), 'rhi-nats-tls-other-'));
    await natsTls(other, ['127.0.0.1']);
    await expect(
      connect({
        servers: tlsUrl(),
        tls: { caFile: join(other, tlsFiles.ca) },
        authenticator: nkeyAuthenticator(await seed()),
        reconnect: false,
      }),
    ).rejects.toThrow();
  });

  it('runs the controller over TLS with its nkey, as its config says', async () => {
    controller = await ControllerRuntime.start({
      config: ControllerConfigSchema.parse({
        nats: {
          servers: [tlsUrl()],
          nkeyFile: join(dir, natsFiles.controllerSeed),
          tls: { ca: join(dir, tlsFiles.ca) },
        },
        api: { listen: '127.0.0.1:0', tokens: [{ name: 'ops', role: 'operator', sha256: tokenHash(TOKEN) }] },
      }),
      logger: pino({ level: 'silent' }),
      version: 'test',
    });
    const c = controller;
    await waitFor('the controller on NATS over TLS', async () => {
      const res = await fetch(`http://127.0.0.1:${c.address?.port}/healthz`);
      return res.status === 200 ? true : undefined;
    });
  });
});
