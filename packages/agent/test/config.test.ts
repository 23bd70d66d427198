import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigInvalidError, overrideFromFlag, overridesFromEnv, parseConfig } from '../src/config/load.js';

const example = readFileSync(new URL('../../../examples/agent.yaml', import.meta.url), 'utf8');
const minimal = `node: { name: lb-1 }
haproxy: { sockets: [/run/haproxy/admin.sock] }
bird: { socket: /run/bird/bird.ctl, include: /etc/bird/rhi.conf }
rules: { file: /etc/rhi/rules.cfg }
allowlist: [198.18.200.0/24]
`;

const issues = (text: string) => {
  try {
    parseConfig(text, 'agent.yaml');
  } catch (err) {
    if (err instanceof ConfigInvalidError) return err.issues;
    throw err;
  }
  throw new Error('expected the configuration to be refused');
};

describe('agent configuration', () => {
  it('reads the annotated example', () => {
    const config = parseConfig(example, 'examples/agent.yaml');
    expect(config.node).toEqual({ name: 'lb-par1-01', labels: { site: 'par1', role: 'edge' } });
    expect(config.allowlist).toEqual(['198.18.200.0/24', '2001:db8:200::/48']);
    expect(config.nats?.servers).toEqual(['nats://127.0.0.1:4222']);
  });

  it('fills safe defaults into a minimal file', () => {
    const config = parseConfig(minimal, 'agent.yaml');
    expect(config.haproxy).toMatchObject({ pollIntervalMs: 250, reloadGraceMs: 2000 });
    expect(config.bird.dialect).toBe('bird2');
    expect(config.damping).toEqual({
      rise: { count: 1, ms: 1000 },
      fall: { count: 1, ms: 0 },
      holdDown: { flaps: 3, windowMs: 60_000, holdMs: 30_000 },
    });
    expect(config.policies.withdrawOnStop).toBe(true);
    expect(config.nats).toBeUndefined();
    expect(config.admin).toEqual({
      listen: '127.0.0.1:9180',
      socket: '/run/rhi/admin.sock',
      socketMode: 0o660,
    });
  });

  it('takes the admin socket mode as chmod does, and refuses one that lets everyone drain', () => {
    const mode = (value: string) =>
      parseConfig(`${minimal}admin: { socketMode: ${value} }\n`, 'agent.yaml').admin.socketMode;
    // YAML reads an unquoted 0660 as the number 660: the same mode.
    expect([mode("'0660'"), mode('0660'), mode('660'), mode("'600'")]).toEqual([0o660, 0o660, 0o660, 0o600]);
    expect(parseConfig(`${minimal}admin: { listen: 127.0.0.1:1 }\n`, 'agent.yaml').admin).toEqual({
      listen: '127.0.0.1:1',
      socket: '/run/rhi/admin.sock',
      socketMode: 0o660,
    });
    expect(issues(`${minimal}admin: { socketMode: '0666' }\n`)).toEqual([
      {
        path: 'admin.socketMode',
        message: 'lets every local user drain this node: drop the write bit for others',
        line: 6,
        column: 22,
      },
    ]);
    expect(
      issues(`${minimal}admin: { socketMode: rw-rw----, socketGroup: 'a b', socket: run/admin.sock }\n`),
    ).toEqual([
      expect.objectContaining({ path: 'admin.socket', message: 'expected an absolute path' }),
      expect.objectContaining({ path: 'admin.socketMode', message: "expected a file mode such as '0660'" }),
      expect.objectContaining({ path: 'admin.socketGroup' }),
    ]);
  });

  it('polls every 250 ms without the event ring and every 2 s with it, unless told otherwise', () => {
    const withRing = (extra: string) =>
      parseConfig(
        minimal.replace('sockets: [/run/haproxy/admin.sock]', `sockets: [/run/haproxy/admin.sock]${extra}`),
        'agent.yaml',
      ).haproxy.pollIntervalMs;
    expect(withRing('')).toBe(250);
    expect(withRing(', eventRing: events')).toBe(2000);
    expect(withRing(', eventRing: events, pollIntervalMs: 200')).toBe(200);
    expect(withRing(', pollIntervalMs: 500')).toBe(500);
  });

  it('names the path, line and column of each problem, all at once', () => {
    const bad = minimal
      .replace('socket: /run/bird/bird.ctl', 'socket: bird.ctl')
      .replace('[198.18.200.0/24]', '[198.18.200.0/24, 198.18.201.1/24]');
    const found = issues(bad);
    expect(found.map((i) => i.path)).toEqual(['bird.socket', 'allowlist.1']);
    expect(found[0]).toMatchObject({ message: 'expected an absolute path', line: 3 });
    expect(found[1]?.message).toContain("did you mean '198.18.201.0/24'");
    expect(found[1]).toMatchObject({ line: 5 });
  });

  it.each([
    [
      'unauthenticated NATS',
      `${minimal}nats: { servers: [nats://127.0.0.1:4222] }\n`,
      'nats',
      'authenticated',
    ],
    [
      'controller rule sets without trusted keys',
      minimal.replace('{ file: /etc/rhi/rules.cfg }', '{ fromController: true }'),
      'rules.trustedKeys',
      'trusted key',
    ],
    ['no rules source', minimal.replace('{ file: /etc/rhi/rules.cfg }', '{}'), 'rules', 'rules file'],
    ['an empty allowlist', minimal.replace('[198.18.200.0/24]', '[]'), 'allowlist', 'at least one network'],
    [
      'a bad stats socket',
      minimal.replace('/run/haproxy/admin.sock', 'localhost:9999'),
      'haproxy.sockets.0',
      'unix socket path',
    ],
    ['an unknown key', `${minimal}colour: blue\n`, '', 'colour'],
  ])('refuses %s', (_, text, path, message) => {
    const found = issues(text);
    expect(found[0]?.path).toBe(path);
    expect(found[0]?.message).toContain(message);
  });

  it('takes rules file changes after 2 s of quiet, and no empty rule set, unless told otherwise', () => {
    expect(parseConfig(minimal, 'agent.yaml').rules).toMatchObject({ allowEmpty: false, settleMs: 2000 });
    const rules = parseConfig(
      minimal.replace(
        '{ file: /etc/rhi/rules.cfg }',
        '{ file: /etc/rhi/rules.cfg, allowEmpty: true, settleMs: 500 }',
      ),
      'agent.yaml',
    ).rules;
    expect(rules).toMatchObject({ allowEmpty: true, settleMs: 500 });
  });

  it('refuses a route table that cannot be rendered, or a gateway of the wrong family, at its place', () => {
    const withTables = (tables: string) =>
      minimal.replace('include: /etc/bird/rhi.conf }', `include: /etc/bird/rhi.conf, tables: ${tables} }`);
    expect(issues(withTables(`{ vol-1: {}, bgp: {}, ${'t'.repeat(62)}: {} }`))).toEqual([
      expect.objectContaining({
        path: 'bird.tables.vol-1',
        message: "table 'vol-1' must be a BIRD symbol ([A-Za-z_][A-Za-z0-9_]*)",
        line: 3,
      }),
      expect.objectContaining({
        path: 'bird.tables.bgp',
        message: "route table name 'bgp' is a BIRD keyword",
      }),
      expect.objectContaining({
        path: `bird.tables.${'t'.repeat(62)}`,
        message: expect.stringContaining(
          `its ipv6 protocol name '${'t'.repeat(62)}_v6' is 65 characters long`,
        ),
      }),
    ]);
    expect(issues(withTables('{ vol1: {}, vol1_v6: {} }'))).toEqual([
      expect.objectContaining({
        path: 'bird.tables.vol1_v6',
        message:
          "table 'vol1_v6' cannot be rendered: its ipv4 protocol vol1_v6 is also a protocol of table vol1",
      }),
    ]);
    expect(issues(withTables('{ vol1: { gateway: 2001:db8::1, gateway6: 198.18.0.1 } }'))).toEqual([
      expect.objectContaining({ path: 'bird.tables.vol1.gateway', message: 'expected an IPv4 address' }),
      expect.objectContaining({ path: 'bird.tables.vol1.gateway6', message: 'expected an IPv6 address' }),
    ]);
  });

  it('reports YAML syntax errors with their place', () => {
    const found = issues('node: { name: lb-1\nhaproxy: [\n');
    expect(found[0]?.line).toBeGreaterThan(0);
  });

  it('refuses a YAML alias bomb, an alias with no anchor, a huge file and a non-mapping as invalid configuration', () => {
    const levels = Array.from(
      { length: 8 },
      (_, i) => `x${i + 1}: &a${i + 1} [${Array.from({ length: 10 }, () => `*a${i}`).join(', ')}]`,
    );
    const bomb = `${minimal}a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n${levels.join('\n')}\n`;
    expect(issues(bomb)).toEqual([
      {
        path: '',
        message: 'YAML aliases expand this document more than 100 times (an alias bomb?): refused',
      },
    ]);
    expect(issues(`${minimal}stateDir: *nowhere\n`)[0]?.message).toMatch(/alias/i);
    const huge = `${minimal}${'#'.repeat(300 * 1024)}\n`;
    expect(issues(huge)).toEqual([
      { path: '', message: `${huge.length} bytes: a configuration file is at most 262144 bytes` },
    ]);
    expect(issues('[1, 2]')).toEqual([
      { path: '', message: 'expected a mapping of sections (node:, haproxy:, ...)' },
    ]);
    // At most 20 syntax errors are listed, then how many more.
    const mangled = issues(`a: ${'['.repeat(2000)}`);
    expect(mangled).toHaveLength(21);
    expect(mangled[20]?.message).toMatch(/^and \d+ more YAML errors$/);
    // A few anchors and aliases are fine.
    const shared = parseConfig(
      `${minimal}damping: { rise: &same { count: 2, ms: 500 }, fall: *same }\n`,
      'agent.yaml',
    );
    expect(shared.damping.fall).toEqual({ count: 2, ms: 500 });
  });

  it("refuses ports out of range at their place, and takes BIRD's timeout", () => {
    expect(issues(`${minimal}admin: { listen: 127.0.0.1:70000 }\n`)).toEqual([
      { path: 'admin.listen', message: 'expected a port from 0 to 65535', line: 6, column: 18 },
    ]);
    expect(issues(minimal.replace('[/run/haproxy/admin.sock]', '[ipv4@127.0.0.1:99999]'))[0]).toMatchObject({
      path: 'haproxy.sockets.0',
      message: 'expected a port from 1 to 65535',
    });
    expect(parseConfig(minimal, 'agent.yaml').bird.timeoutMs).toBe(1000);
    expect(
      issues(minimal.replace('include: /etc/bird/rhi.conf', 'include: /etc/bird/rhi.conf, timeoutMs: 5'))[0],
    ).toMatchObject({ path: 'bird.timeoutMs' });
  });
});

describe('configuration overrides', () => {
  it('applies RHI_* variables and --set flags over the file, flags last', () => {
    const env = overridesFromEnv({
      RHI_HAPROXY__POLL_INTERVAL_MS: '100',
      RHI_NODE__NAME: 'lb-env',
      RHI_STATE_DIR: '/srv/rhi',
      RHI_CONFIG: '/x',
      RHI_LOG_LEVEL: 'debug',
      HOME: '/root',
    });
    expect(env.map((o) => o.path.join('.'))).toEqual(['haproxy.pollIntervalMs', 'node.name', 'stateDir']);
    const config = parseConfig(minimal, 'agent.yaml', [
      ...env,
      overrideFromFlag('node.name=lb-flag'),
      overrideFromFlag('allowlist=[198.18.0.0/15]'),
    ]);
    expect(config.haproxy.pollIntervalMs).toBe(100);
    expect(config.node.name).toBe('lb-flag');
    expect(config.allowlist).toEqual(['198.18.0.0/15']);
    expect(config.stateDir).toBe('/srv/rhi');
  });

  it('names a bad override by its path', () => {
    expect(() =>
      parseConfig(minimal, 'agent.yaml', [overrideFromFlag('haproxy.pollIntervalMs=fast')]),
    ).toThrow(/haproxy\.pollIntervalMs/);
    expect(() => overrideFromFlag('nonsense')).toThrow(ConfigInvalidError);
    // An override that is not YAML, or an alias with no anchor, is a configuration error, not a crash.
    for (const flag of ['node.name=[', 'node.name=*x']) {
      const err = (() => {
        try {
          parseConfig(minimal, 'agent.yaml', [overrideFromFlag(flag)]);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ConfigInvalidError);
      expect(err).toMatchObject({ file: `--set ${flag}`, issues: [{ path: 'node.name' }] });
    }
  });
});
