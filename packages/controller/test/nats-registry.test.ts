import { agentPermissions, kvDirectGetSubject } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import {
  NatsRegistryError,
  NatsRegistrySchema,
  renderAuthConfig,
  renderServerConfig,
  withNode,
  withoutNode,
  type NatsRegistry,
} from '../src/nats-admin/registry.js';
import { clusterOf } from '../src/nats-admin/nats-command.js';
import { subjectAltName } from '../src/nats-admin/tls.js';

// The registry of NATS users and the server authorization rendered from it (pure); the permissions
// themselves are the contract's.

const key = (c: string) => `U${c.repeat(55)}`;
const base: NatsRegistry = {
  schema: 'rhi.v1.nats-registry',
  account: 'RHI',
  system: { publicKey: key('S') },
  controller: { publicKey: key('C') },
  nodes: {},
};
const at = '2026-12-03T10:00:00.000Z';

describe('the NATS registry', () => {
  it('adds a node once, removes only one that is there, and refuses a name that is not a token', () => {
    const one = withNode(base, 'lb-1', { publicKey: key('A'), labels: { site: 'par1' }, addedAt: at });
    expect(Object.keys(one.nodes)).toEqual(['lb-1']);
    expect(base.nodes).toEqual({});
    expect(() => withNode(one, 'lb-1', { publicKey: key('B'), labels: {}, addedAt: at })).toThrow(
      expect.objectContaining({ code: 'NATS_NODE_EXISTS' }),
    );
    expect(() => withNode(base, 'lb.1', { publicKey: key('B'), labels: {}, addedAt: at })).toThrow(
      expect.objectContaining({ code: 'NATS_NODE_INVALID' }),
    );
    expect(withoutNode(one, 'lb-1').nodes).toEqual({});
    expect(() => withoutNode(one, 'lb-2')).toThrow(NatsRegistryError);
    expect(
      NatsRegistrySchema.safeParse({ ...one, nodes: { 'lb-1': { ...one.nodes['lb-1'], publicKey: 'SU' } } })
        .success,
    ).toBe(false);
  });

  it('renders every user inside accounts {}, the system account named, no top-level authorization', () => {
    const r = withNode(withNode(base, 'lb-2', { publicKey: key('B'), labels: {}, addedAt: at }), 'lb-1', {
      publicKey: key('A'),
      labels: { site: 'par1', role: 'edge' },
      addedAt: at,
    });
    const text = renderAuthConfig(r);
    expect(text).not.toMatch(/^\s*authorization\s*\{/m);
    expect(text).toMatch(/^accounts \{\n {2}RHI: \{\n {4}jetstream: enabled\n/m);
    expect(text).toContain('system_account: SYS');
    expect(text).toContain(`users: [ { nkey: "${key('S')}" } ]`);
    // Nodes by name, each with its labels in the comment and exactly its permissions.
    expect(text.indexOf('# node lb-1 (role=edge,site=par1)')).toBeLessThan(text.indexOf('# node lb-2\n'));
    for (const s of agentPermissions('lb-1', { site: 'par1', role: 'edge' }).subscribe.allow)
      expect(text).toContain(JSON.stringify(s));
    expect(text).toContain(JSON.stringify(kvDirectGetSubject('rhi_v1_rulesets', 'assign.lb-1')));
    expect(renderAuthConfig(r)).toBe(text);
  });
});

describe('agentPermissions', () => {
  it('allows a node its own subjects and its labels’ commands, answers to what it hears, nothing else', () => {
    const p = agentPermissions('lb-1', { site: 'par1' });
    expect(p.publish.allow).toEqual([
      'rhi.v1.status.lb-1',
      'rhi.v1.heartbeat.lb-1',
      'rhi.v1.health.lb-1',
      'rhi.v1.events.lb-1',
      'rhi.v1.ack.lb-1',
      '$JS.API.DIRECT.GET.KV_rhi_v1_rulesets.$KV.rhi_v1_rulesets.assign.lb-1',
      '$JS.API.DIRECT.GET.KV_rhi_v1_rulesets.$KV.rhi_v1_rulesets.set.*',
    ]);
    expect(p.subscribe.allow).toEqual([
      'rhi.v1.cmd.node.lb-1',
      'rhi.v1.cmd.label.site.par1',
      'rhi.v1.resend.lb-1',
      '$KV.rhi_v1_rulesets.assign.lb-1',
      '_INBOX_lb-1.>',
    ]);
    expect(p.allowResponses).toBe(true);
    expect(
      [...p.publish.allow, ...p.subscribe.allow].some((s) => s.includes('>') && !s.startsWith('_INBOX_lb-1')),
    ).toBe(false);
  });
});

describe('subjectAltName', () => {
  it('names each host as DNS or IP, and refuses what is neither', () => {
    expect(subjectAltName(['nats1.par1.example', '198.18.0.10', '::1'])).toBe(
      'DNS:nats1.par1.example,IP:198.18.0.10,IP:::1',
    );
    expect(() => subjectAltName([])).toThrow(expect.objectContaining({ code: 'NATS_TLS_HOST_INVALID' }));
    expect(() => subjectAltName(['bad host'])).toThrow(/neither a host name nor an IP address/);
  });
});

describe('clusterOf (--cluster)', () => {
  it('reads three members with their client and route listeners', () => {
    expect(
      clusterOf(
        'n1=198.18.0.1:4222/198.18.0.1:6222, n2=198.18.0.2:4222/198.18.0.2:6222,n3=[2001:db8::3]:4222/[2001:db8::3]:6222',
      ),
    ).toEqual([
      { name: 'n1', client: '198.18.0.1:4222', route: '198.18.0.1:6222' },
      { name: 'n2', client: '198.18.0.2:4222', route: '198.18.0.2:6222' },
      { name: 'n3', client: '[2001:db8::3]:4222', route: '[2001:db8::3]:6222' },
    ]);
    expect(clusterOf(undefined)).toBeUndefined();
  });

  it('names what is wrong: the shape, a port, a name or a listener twice, fewer than three', () => {
    const three = 'n1=h1:4222/h1:6222,n2=h2:4222/h2:6222,n3=h3:4222/h3:6222';
    expect(() => clusterOf('n1=h1:4222')).toThrow(/NAME=CLIENT_HOST:PORT\/ROUTE_HOST:PORT.*'n1=h1:4222'/);
    expect(() => clusterOf(three.replace('h2:6222', 'h2:99999'))).toThrow(/n2's route address 'h2:99999'/);
    expect(() => clusterOf(three.replace('n3=', 'n1='))).toThrow(/names n1 twice/);
    expect(() => clusterOf(three.replace('h3:4222', 'h1:6222'))).toThrow(/h1:6222 is given to two listeners/);
    expect(() => clusterOf('n1=h1:4222/h1:6222,n2=h2:4222/h2:6222')).toThrow(/at least 3 servers.*not 2/);
  });
});

describe('renderServerConfig for a cluster member', () => {
  const members = [
    { name: 'n1', client: '198.18.0.1:4222', route: '198.18.0.1:6222' },
    { name: 'n2', client: '198.18.0.2:4222', route: '198.18.0.2:6222' },
    { name: 'n3', client: '198.18.0.3:4222', route: '198.18.0.3:6222' },
  ];
  const base = {
    listen: '198.18.0.2:4222',
    storeDir: '/var/lib/nats/n2',
    maxFileStore: '10G',
    maxMemoryStore: '1G',
  };

  it('names the server, routes to every member and keeps explicit storage limits', () => {
    const text = renderServerConfig({ ...base, cluster: { name: 'rhi', members, self: 1 } });
    expect(text).toContain('server_name: "n2"');
    expect(text).toContain('listen: "198.18.0.2:6222"');
    expect(text).toContain(
      'routes: ["nats://198.18.0.1:6222", "nats://198.18.0.2:6222", "nats://198.18.0.3:6222"]',
    );
    expect(text).toContain('max_file_store: 10G');
    expect(text).not.toMatch(/^authorization/m);
    expect(text).toContain('include auth.conf');
  });

  it('secures the routes with mutual TLS when made with TLS', () => {
    const text = renderServerConfig({
      ...base,
      tls: true,
      cluster: {
        name: 'rhi',
        members,
        self: 1,
        tls: { cert: '/d/tls/server.pem', key: '/d/tls/server.key', ca: '/d/tls/ca.pem' },
      },
    });
    expect(text).toContain('"tls://198.18.0.1:6222"');
    expect(text).toMatch(/cluster \{[\s\S]*tls \{[\s\S]*verify: true[\s\S]*\}\n\}/);
    expect(text).toContain('include tls.conf');
  });
});
