import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NodeStatusSchema, routeId } from '@rhi/contracts';
import { BirdClient } from '@rhi/bird-client';
import { parse } from '@rhi/rules-dsl';
import type { BirdInstance, HaproxyInstance, NetnsLink, UnixBackends } from '@rhi/test-support';
import {
  freePort,
  retryOnPortClash,
  startBird,
  startHaproxy,
  startNetnsLink,
  startUnixBackends,
  waitFor,
} from '@rhi/test-support';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyNames } from '../src/core/proxy-names.js';
import { spawnAgent, stopAgent } from './support/agent-process.js';

// examples/agent.yaml, examples/bird.conf and examples/rules.cfg used together, as the README says, on
// the addresses they name: the node (198.18.0.11, 2001:db8:ffff::11) in one network namespace, its eBGP
// router (198.18.0.1, 2001:db8:ffff::1) in another. Only what names this machine is rewritten: socket,
// file and state paths, the admin port, the operators' group (rhi exists only where the package made
// it), BIRD's log (syslog would go to the console here) and no NATS (its credentials are a NATS
// account's, issue 16). The installed command runs them. Then the two next-hop mistakes the examples
// once made, to show that `check` and the running agent both name them.

const run = promisify(execFile);
const example = (name: string) => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));
const bin = fileURLToPath(new URL('../bin/rhi-agent.js', import.meta.url));

const ROUTER_CONFIG = `router id 198.18.0.1;
protocol device { scan time 10; }
protocol bgp node1 {
  local 198.18.0.1 as 65000; neighbor 198.18.0.11 as 65001;
  connect delay time 1; connect retry time 1; error wait time 1,2;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
`;

interface Received {
  readonly prefix: string;
  readonly via: string | undefined;
}

describe('the examples, used together, with real haproxy, bird2 and an eBGP router', () => {
  let dir: string;
  let net: NetnsLink;
  let node: BirdInstance;
  let router: BirdInstance;
  let routerClient: BirdClient;
  let haproxy: HaproxyInstance;
  let backends: UnixBackends;
  let adminPort: number;
  let agent: { agent: ChildProcess; output: () => string } | null = null;
  const includePath = () => join(dir, 'rhi-routes.conf');

  /** examples/agent.yaml with this machine's paths, and `edit` applied to the document. */
  const agentConfig = async (edit: (doc: ReturnType<typeof parseDocument>) => void = () => {}) => {
    const doc = parseDocument(await readFile(example('agent.yaml'), 'utf8'));
    doc.setIn(['haproxy', 'sockets'], [haproxy.adminSocket]);
    doc.setIn(['bird', 'socket'], node.socket);
    doc.setIn(['bird', 'include'], includePath());
    doc.setIn(['bird', 'config'], node.configPath);
    doc.setIn(['rules', 'file'], example('rules.cfg'));
    doc.setIn(['rules', 'trustedKeys'], { 'ops-2026': join(dir, 'ops-2026.pub') });
    doc.delete('nats');
    doc.setIn(['admin', 'listen'], `127.0.0.1:${adminPort}`);
    doc.setIn(['admin', 'socket'], join(dir, 'admin.sock'));
    doc.setIn(['admin', 'socketGroup'], 'root');
    doc.set('stateDir', join(dir, 'state'));
    edit(doc);
    const file = join(dir, 'agent.yaml');
    await writeFile(file, doc.toString());
    return file;
  };
  /** examples/bird.conf as the node's BIRD reads it, with `edit` applied to the text. */
  const nodeBirdConfig = async (edit: (text: string) => string = (t) => t) =>
    edit(
      (await readFile(example('bird.conf'), 'utf8'))
        .replace('/run/rhi/rhi-routes.conf', includePath())
        .replace(/^log syslog all;$/m, 'log stderr all;'),
    );
  const check = async (file: string) => {
    try {
      const { stdout } = await run(process.execPath, [bin, 'check', '--config', file]);
      return { code: 0, out: stdout };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  };
  const status = async () =>
    NodeStatusSchema.parse(await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json());
  const received = async (): Promise<Received[]> => {
    const routes = [
      ...(await routerClient.showRoute({ table: 'master4' })),
      ...(await routerClient.showRoute({ table: 'master6' })),
    ];
    return routes
      .map((r) => ({ prefix: r.prefix, via: r.nextHops[0]?.gateway }))
      .sort((a, b) => a.prefix.localeCompare(b.prefix));
  };
  const startAgent = async (configFile: string) => {
    agent = await spawnAgent(configFile);
    const spawned = agent;
    await waitFor('the agent to answer on its admin port', async () => {
      if (spawned.agent.exitCode !== null) throw new Error(`the agent exited: ${spawned.output()}`);
      return (await status().catch(() => undefined)) ?? undefined;
    });
  };
  /** The agent advertises its routes, BIRD holds them all and has checked where they go. */
  const settled = () =>
    waitFor(
      'the agent to settle and check its exports',
      async () => {
        const s = await status();
        const advertised = s.routes.filter((r) => r.desired);
        // A check after the rule set in force was applied, that saw every advertised route in BIRD.
        const checkedAt = s.bird.exportsCheckedAt;
        const fresh =
          checkedAt !== undefined &&
          s.ruleSet !== null &&
          Date.parse(checkedAt) >= Date.parse(s.ruleSet.appliedAt);
        return advertised.length > 0 &&
          fresh &&
          s.routes.every((r) => r.damping === 'stable') &&
          advertised.every((r) => r.exported !== undefined)
          ? s
          : undefined;
      },
      30_000,
    );
  const stopRunningAgent = async () => {
    if (agent) await stopAgent(agent.agent);
    agent = null;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-examples-'));
    await writeFile(includePath(), '');
    await mkdir(join(dir, 'state'));
    const keys = generateKeyPairSync('ed25519');
    await writeFile(join(dir, 'ops-2026.pub'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
    net = await startNetnsLink({
      tag: 'ex',
      nodeAddresses: ['198.18.0.11/24', '2001:db8:ffff::11/64'],
      routerAddresses: ['198.18.0.1/24', '2001:db8:ffff::1/64'],
    });
    router = await startBird({ name: 'router', netns: net.router, config: () => ROUTER_CONFIG });
    routerClient = new BirdClient({ socketPath: router.socket });
    const text = await nodeBirdConfig();
    node = await startBird({ name: 'node', netns: net.node, config: () => text });
    backends = await startUnixBackends(3);
    const proxies = proxyNames(parse(await readFile(example('rules.cfg'), 'utf8')).ruleSet);
    haproxy = await retryOnPortClash(() =>
      startHaproxy({
        sections: (d) =>
          proxies
            .map((p) =>
              p.startsWith('f:')
                ? `frontend ${p.slice(2)}\n    bind unix@${d}/${p.slice(2)}.sock`
                : [
                    `backend ${p.slice(2)}`,
                    '    option httpchk GET /',
                    ...backends.paths.map(
                      (path, i) => `    server s${i} unix@${path} check inter 200 fall 1 rise 1`,
                    ),
                  ].join('\n'),
            )
            .join('\n'),
      }),
    );
    adminPort = await freePort();
    await waitFor('the eBGP session', async () =>
      (await node.command('show protocols upstream1')).includes('Established') ? true : undefined,
    );
  }, 60_000);

  afterAll(async () => {
    await stopRunningAgent();
    routerClient?.close();
    await Promise.allSettled([haproxy?.stop(), node?.stop(), router?.stop(), backends?.close()]);
    await net?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes rhi-agent check, with the next hops judged against the live session', async () => {
    const { code, out } = await check(await agentConfig());
    expect(out).not.toContain('[FAIL]');
    expect(out).toMatch(/\[ ok \] ipv4 next hops are valid for BGP upstream1/);
    expect(out).toMatch(/\[ ok \] ipv6 next hops are valid for BGP upstream1/);
    expect(code).toBe(0);
  });

  it('delivers the IPv4 and IPv6 VIPs whose rules hold to the router, each with a next hop it takes', async () => {
    await startAgent(await agentConfig());
    const s = await settled();
    const advertised = s.routes.filter((r) => r.desired).map((r) => r.prefix);
    expect(advertised).toEqual(
      expect.arrayContaining(['198.18.200.1/32', '198.18.200.10/32', '2001:db8:200::1/128']),
    );
    const want = s.routes
      .filter((r) => r.desired)
      .map((r) => ({
        prefix: r.prefix,
        via: r.family === 'ipv6' ? '2001:db8:ffff::11' : r.table === 'vol2' ? '198.18.0.21' : '198.18.0.11',
      }))
      .sort((a, b) => a.prefix.localeCompare(b.prefix));
    await waitFor('the router to hold every advertised VIP', async () =>
      JSON.stringify(await received()) === JSON.stringify(want) ? true : undefined,
    );
    // And the agent knows it: every route BIRD holds is sent to upstream1, with no problem.
    expect(
      s.routes.filter(
        (r) => r.exported && (r.exported.problems.length || r.exported.to.join() !== 'upstream1'),
      ),
    ).toEqual([]);
    // The rules' one route outside the allowlist is never advertised.
    expect(s.routes.find((r) => r.prefix === '198.18.201.0/24')?.desired).toBe(false);
    await stopRunningAgent();
    await waitFor('the router to lose every VIP (the agent withdraws on SIGTERM)', async () =>
      (await received()).length === 0 ? true : undefined,
    );
  });

  it("names the examples' old mistakes in check and in the running agent: a gateway that is the neighbour, no IPv6 next hop", async () => {
    await writeFile(
      node.configPath,
      await nodeBirdConfig((t) => t.replace(/^\s*next hop address 2001:db8:ffff::11;\n/m, '')),
    );
    expect(await node.command('configure')).toMatch(/Reconfigured/);
    // Without `next hop address`, an IPv4 session takes its IPv6 next hop from an IPv6 address the node
    // has on the link: the mistake shows on a link with none (as where it was found).
    await net.exec(net.node, 'ip', ['addr', 'del', '2001:db8:ffff::11/64', 'dev', net.nodeDevice]);
    await node.command('restart upstream1');
    let seen = '';
    await waitFor('the eBGP session again, with no IPv6 next hop', async () => {
      seen = await node.command('show protocols all upstream1');
      return seen.includes('Established') && /BGP Next hop:\s+::\s*$/m.test(seen) ? true : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; BIRD says:\n${seen}`);
    });
    const file = await agentConfig((doc) => doc.setIn(['bird', 'tables', 'vol1'], { gateway: '198.18.0.1' }));
    const { code, out } = await check(file);
    expect(out).toMatch(
      /\[FAIL\] table vol1 \(ipv4\): BGP upstream1 would send next hop 198\.18\.0\.1, the neighbour's own address/,
    );
    expect(out).toMatch(
      /\[FAIL\] table vol1 \(ipv6\): BGP upstream1 has no ipv6 next hop address of its own \(Missing next hop address\)/,
    );
    expect(code).toBe(1);

    await startAgent(file);
    const s = await settled();
    const byKey = new Map(s.routes.map((r) => [routeId(r), r.exported]));
    expect(byKey.get('vol1%198.18.200.1/32')).toMatchObject({
      to: [],
      problems: [expect.stringContaining('Invalid NEXT_HOP attribute')],
    });
    expect(byKey.get('vol1%2001:db8:200::1/128')).toMatchObject({
      to: [],
      problems: [expect.stringContaining('Missing next hop address')],
    });
    expect(byKey.get('vol2%198.18.200.10/32')).toMatchObject({ to: ['upstream1'], problems: [] });
    // The router has only what BIRD could send: vol2's routes.
    await waitFor('the router to hold vol2 only', async () => {
      const got = await received();
      return got.length > 0 && got.every((r) => r.via === '198.18.0.21') ? got : undefined;
    });
    const { stdout } = await run(process.execPath, [bin, 'status', '--config', file]);
    expect(stdout).toMatch(
      /198\.18\.200\.1\/32.*NONE\s+NOT SENT TO ANY ROUTER: BGP upstream1 would send next hop/,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    const notSent = [...byKey.values()].filter((e) => e?.to.length === 0).length;
    expect(notSent).toBeGreaterThan(1);
    expect(metrics).toContain(`rhi_routes_not_exported ${notSent}`);
    expect(agent?.output()).toMatch(/"event":"routeNotExported".*"prefix":"198\.18\.200\.1\/32"/);
  });
});
