import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StartedTestContainer } from 'testcontainers';
import { getContainerRuntimeClient, Wait } from 'testcontainers';
import { execFile } from 'node:child_process';
import { waitFor } from '@rhi/test-support';
import { controllerBin, rhictlBin, runCommand } from '../processes.js';
import type { FixedNetwork } from '../docker.js';
import {
  createNetwork,
  e2eImage,
  exec,
  removeLeftovers,
  repoRoot,
  sh,
  StaticContainer,
  throwIfCancelled,
} from '../docker.js';
import {
  agentConfig,
  API_PORT,
  CLIENT_IP,
  CLIENT_NET,
  clientStart,
  controllerConfig,
  CONTROLLERS,
  controllerStart,
  FABRIC,
  haproxyConfig,
  NATS_SERVERS,
  natsStart,
  nodeBirdConfig,
  nodeStart,
  NODES,
  ROUTER_CLIENT_IP,
  ROUTER_FABRIC_IP,
  routerBirdConfig,
  routerStart,
  RULES,
  SIGNING_KEY_ID,
  START_AGENT,
} from './configs.js';

const nodeDir = join(process.execPath, '..', '..');
const assets = join(repoRoot, 'e2e', 'docker', 'fleet');
const READY = 'rhi-e2e ready';

/** The router's ECMP route to a VIP in its kernel: the next hops, sorted. */
export type KernelRoute = readonly string[];

/** What the client counted, from `since` (epoch ms). */
export interface ClientCounts {
  readonly sent: number;
  readonly failed: number;
  readonly byNode: Record<string, number>;
  readonly errors: readonly { at: number; vip: string; node: string | null; error: string }[];
}

/** One line of the router's BIRD route log: `lb1.ipv4 > added|removed [...] 198.18.200.1/32 ...`. */
export interface RouterRouteEvent {
  readonly at: number;
  readonly peer: string;
  readonly op: 'added' | 'removed';
  readonly prefix: string;
}

/**
 * The fleet in containers on two fixed networks: a NATS JetStream cluster of three servers (the configs
 * and per-node nkeys of `rhi-controller nats init --cluster`/`add-node`), two controller replicas, three HAProxy nodes (haproxy, bird2 and the
 * agent installed with its `packaging/install.sh`), a router BIRD peering with each over eBGP with BFD
 * and installing ECMP routes in its kernel, and a client sending HTTP requests to the VIPs through it.
 * The repository and this Node are mounted read-only into every container (the built agent and
 * controller are installed from there).
 */
export class Fleet {
  readonly token = randomBytes(24).toString('hex');
  /** Each replica's API, in the order of {@link CONTROLLERS}. */
  readonly apis = CONTROLLERS.map((c) => `http://${c.ip}:${API_PORT}`);
  readonly natsUrl = `nats://${NATS_SERVERS[0].ip}:4222`;
  /** The controller's NATS seed and rule-set signing key (PEM), for the tests that bypass it. */
  controllerSeed = '';
  signingKeyPem = '';
  readonly nodes = new Map<string, StartedTestContainer>();
  router!: StartedTestContainer;
  client!: StartedTestContainer;
  /** The NATS servers and the controller replicas, by name (`n1`, `controller1`, ...). */
  readonly natsServers = new Map<string, StartedTestContainer>();
  readonly controllers = new Map<string, StartedTestContainer>();
  private networks: FixedNetwork[] = [];
  private constructor(readonly dir: string) {}

  /** Starts the fleet (removing what an earlier run left); `progress` hears each stage as it begins. */
  static async start(progress: (stage: string) => void = () => undefined): Promise<Fleet> {
    await removeLeftovers();
    const fleet = new Fleet(await mkdtemp(join(tmpdir(), 'rhi-e2e-fleet-')));
    try {
      await fleet.boot(progress);
    } catch (error) {
      await fleet.keepLogs('start').catch(() => undefined);
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  private async boot(progress: (stage: string) => void): Promise<void> {
    progress('networks: the fabric (nodes, router, NATS, controllers) and the client side');
    const suffix = randomBytes(3).toString('hex');
    const fabric = await createNetwork(`rhi-e2e-fabric-${suffix}`, FABRIC.subnet, FABRIC.gateway);
    this.networks.push(fabric);
    const clientNet = await createNetwork(`rhi-e2e-client-${suffix}`, CLIENT_NET.subnet, CLIENT_NET.gateway);
    this.networks.push(clientNet);

    const natsDir = join(this.dir, 'nats');
    progress(
      'rhi-controller nats init --cluster: NATS configs, per-node nkeys; keygen: the rule-set signing key',
    );
    await runCommand(controllerBin, [
      'nats',
      'init',
      '--dir',
      natsDir,
      '--store-dir',
      '/var/lib/nats/jetstream',
      '--cluster',
      NATS_SERVERS.map((s) => `${s.name}=${s.ip}:4222/${s.ip}:6222`).join(','),
    ]);
    // The controller's rule-set signing key, made here so that the agents can be given its public half
    // (the controller's install keeps a key it finds).
    const signing = join(this.dir, 'ruleset-signing');
    await runCommand(controllerBin, ['keygen', '--out', signing]);
    const signingPub = await readFile(`${signing}.pub`, 'utf8');
    this.signingKeyPem = await readFile(`${signing}.key`, 'utf8');
    for (const node of NODES)
      await runCommand(controllerBin, [
        'nats',
        'add-node',
        node.name,
        '--dir',
        natsDir,
        '--labels',
        'site=e2e',
      ]);

    const base = (
      attachments: ConstructorParameters<typeof StaticContainer>[1],
      sysctls?: Record<string, string>,
    ) =>
      new StaticContainer(e2eImage, attachments, sysctls)
        .withBindMounts([
          { source: repoRoot, target: '/src', mode: 'ro' },
          { source: nodeDir, target: '/opt/rhi-node', mode: 'ro' },
        ])
        .withCopyDirectoriesToContainer([{ source: assets, target: '/e2e' }])
        .withWaitStrategy(Wait.forLogMessage(READY))
        .withStartupTimeout(60_000);

    progress(`containers: ${NATS_SERVERS.length} NATS servers, the router (BIRD, ECMP, BFD), the client`);
    const natsStarting = NATS_SERVERS.map(async (server) =>
      this.natsServers.set(
        server.name,
        await base([{ network: fabric, ip: server.ip }])
          .withName(`rhi-e2e-nats-${server.name}-${suffix}`)
          .withHostname(server.name)
          .withCopyFilesToContainer([
            {
              source: join(natsDir, `nats-server.${server.name}.conf`),
              target: '/etc/nats/nats-server.conf',
            },
            { source: join(natsDir, 'auth.conf'), target: '/etc/nats/auth.conf' },
          ])
          .withCommand(['sh', '-c', natsStart])
          .start(),
      ),
    );

    const routerStarting = base(
      [
        { network: fabric, ip: ROUTER_FABRIC_IP },
        { network: clientNet, ip: ROUTER_CLIENT_IP },
      ],
      { 'net.ipv4.ip_forward': '1', 'net.ipv4.fib_multipath_hash_policy': '1' },
    )
      .withName(`rhi-e2e-router-${suffix}`)
      .withHostname('router')
      .withAddedCapabilities('NET_ADMIN')
      .withCopyContentToContainer([{ content: routerBirdConfig(NODES), target: '/etc/bird/bird.conf' }])
      .withCommand(['sh', '-c', routerStart])
      .start();

    const clientStarting = base([{ network: clientNet, ip: CLIENT_IP }])
      .withName(`rhi-e2e-client-${suffix}`)
      .withHostname('client')
      .withAddedCapabilities('NET_ADMIN')
      .withCommand(['sh', '-c', clientStart])
      .start();

    [this.router, this.client] = await Promise.all([routerStarting, clientStarting, ...natsStarting]);

    this.controllerSeed = await readFile(join(natsDir, 'controller.nk'), 'utf8');
    progress(
      `containers: ${CONTROLLERS.length} controller replicas, ${NODES.length} nodes (HAProxy, BIRD, rhi-agent installed by packaging/install.sh)`,
    );
    const sha = createHash('sha256').update(this.token).digest('hex');
    const controllersStarting = CONTROLLERS.map(async (replica) =>
      this.controllers.set(
        replica.name,
        await base([{ network: fabric, ip: replica.ip }])
          .withName(`rhi-e2e-${replica.name}-${suffix}`)
          .withHostname(replica.name)
          .withCopyContentToContainer([
            { content: controllerConfig(replica.ip, sha), target: '/etc/rhi/controller.yaml' },
            {
              content: this.signingKeyPem,
              target: '/etc/rhi/ruleset-signing.key',
              mode: 0o600,
            },
            { content: signingPub, target: '/etc/rhi/ruleset-signing.pub' },
            {
              content: this.controllerSeed,
              target: '/etc/rhi/nats/controller.nk',
              mode: 0o600,
            },
          ])
          .withCommand(['sh', '-c', controllerStart])
          .start(),
      ),
    );

    const nodesStarting = NODES.map(async (node) =>
      this.nodes.set(
        node.name,
        await base([{ network: fabric, ip: node.ip }])
          .withName(`rhi-e2e-${node.name}-${suffix}`)
          .withHostname(node.name)
          .withAddedCapabilities('NET_ADMIN')
          .withCopyContentToContainer([
            { content: haproxyConfig(node), target: '/etc/haproxy/haproxy.cfg' },
            { content: nodeBirdConfig(node), target: '/etc/bird/bird.conf' },
            { content: agentConfig(node), target: '/etc/rhi/agent.yaml' },
            { content: RULES, target: '/etc/rhi/rules.cfg' },
            { content: signingPub, target: `/etc/rhi/keys/${SIGNING_KEY_ID}.pub` },
            {
              content: await readFile(join(natsDir, 'nodes', `${node.name}.nk`), 'utf8'),
              target: '/etc/rhi/nats.nk',
              mode: 0o600,
            },
            { content: START_AGENT, target: '/e2e/start-agent.sh' },
          ])
          .withCommand(['sh', '-c', nodeStart(node)])
          .start(),
      ),
    );
    await Promise.all([...controllersStarting, ...nodesStarting]);
  }

  node(name: string): StartedTestContainer {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  /** The router kernel's next hops for `vip`/32, sorted; empty when it has no route. */
  async kernelRoute(vip: string): Promise<KernelRoute> {
    const out = await exec(this.router, ['ip', '-j', 'route', 'show', `${vip}/32`]);
    const routes = JSON.parse(out.trim() || '[]') as { gateway?: string; nexthops?: { gateway: string }[] }[];
    return routes
      .flatMap((r) => (r.nexthops ? r.nexthops.map((h) => h.gateway) : r.gateway ? [r.gateway] : []))
      .sort();
  }

  /** The router's route changes for `prefix` since `since` (epoch ms), from its BIRD log. */
  async routerEvents(prefix: string, since = 0): Promise<RouterRouteEvent[]> {
    const log = await exec(this.router, ['cat', '/var/log/e2e/bird.log']);
    const events: RouterRouteEvent[] = [];
    for (const m of log.matchAll(
      /^(\d+\.\d+) <TRACE> (\S+)\.ipv4 > (added|removed)(?: \[[^\]]*\])? (\S+)/gm,
    )) {
      const at = Number(m[1]) * 1000;
      if (at >= since && m[4] === prefix)
        events.push({ at, peer: m[2]!, op: m[3] as 'added' | 'removed', prefix: m[4]! });
    }
    return events;
  }

  /** The first `op` of `prefix` by `peer` the router logged since `since`, or undefined. */
  async routerEvent(
    prefix: string,
    op: RouterRouteEvent['op'],
    peer: string,
    since: number,
  ): Promise<RouterRouteEvent | undefined> {
    return (await this.routerEvents(prefix, since)).find((e) => e.op === op && e.peer === peer);
  }

  /** Waits until the router's kernel routes `vip` via exactly `hops` (sorted; none: no route). */
  waitForRoute(vip: string, hops: readonly string[], timeoutMs?: number): Promise<KernelRoute> {
    return waitFor(
      `the router's kernel to route ${vip} via ${hops.join(', ') || 'nothing'}`,
      async () => {
        const got = await this.kernelRoute(vip);
        return JSON.stringify(got) === JSON.stringify(hops) ? got : undefined;
      },
      timeoutMs,
    );
  }

  /** The built `rhictl` against a replica's API (the first by default), as an operator runs it. */
  rhictl(args: readonly string[], api = this.api): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      try {
        throwIfCancelled();
      } catch (error) {
        reject(error as Error);
        return;
      }
      execFile(
        process.execPath,
        [rhictlBin, ...args],
        { env: { ...process.env, RHICTL_URL: api, RHICTL_TOKEN: this.token } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  /** Sets the VIPs the client sends its requests to. */
  async setTargets(vips: readonly string[]): Promise<void> {
    throwIfCancelled();
    const res = await fetch(`http://${CLIENT_IP}:9000/targets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vips }),
    });
    if (!res.ok) throw new Error(`client /targets: ${res.status} ${await res.text()}`);
  }

  async counts(since: number, vip?: string): Promise<ClientCounts> {
    const query = new URLSearchParams({ since: String(since), ...(vip ? { vip } : {}) });
    const res = await fetch(`http://${CLIENT_IP}:9000/counts?${query}`);
    if (res.status !== 200) throw new Error(`client /counts: ${res.status}`);
    return (await res.json()) as ClientCounts;
  }

  /** The first replica's API: where `rhictl` points unless a scenario says otherwise. */
  get api(): string {
    return this.apis[0]!;
  }

  /**
   * A GET on the controller's API with the operator token, from the first replica that answers 200 (as
   * behind a load balancer); the last error when none does.
   */
  async get<T>(path: string): Promise<T> {
    throwIfCancelled();
    let last: unknown;
    for (const api of this.apis) {
      try {
        const res = await fetch(`${api}${path}`, {
          headers: { authorization: `Bearer ${this.token}` },
          signal: AbortSignal.timeout(2000),
        });
        if (res.status === 200) return (await res.json()) as T;
        last = new Error(`GET ${api}${path}: ${res.status} ${await res.text()}`);
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }

  /** A GET on one replica's API that answers whatever the status: the status and the JSON body. */
  async getFrom(replica: number, path: string): Promise<{ status: number; body: unknown }> {
    throwIfCancelled();
    const res = await fetch(`${this.apis[replica]}${path}`, {
      headers: { authorization: `Bearer ${this.token}` },
      signal: AbortSignal.timeout(2000),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  }

  /**
   * Freezes every process of a node (cgroup freezer), as a node that hung or lost power: unlike a kill,
   * its kernel sends no FIN or RST, so its peers learn it only from BFD or the BGP hold time.
   */
  async freeze(name: string): Promise<void> {
    throwIfCancelled();
    const client = await getContainerRuntimeClient();
    await client.container.getById(this.node(name).getId()).pause();
  }

  /** The control plane's containers, NATS servers first. */
  private controlPlane(): StartedTestContainer[] {
    return [...this.natsServers.values(), ...this.controllers.values()];
  }

  private container(name: string): StartedTestContainer {
    const c = this.nodes.get(name) ?? this.natsServers.get(name) ?? this.controllers.get(name);
    if (!c) throw new Error(`no container ${name}`);
    return c;
  }

  /** Stops containers (SIGTERM, then SIGKILL after 1 s), kept with their state for a start. */
  async stopContainers(names: readonly string[]): Promise<void> {
    throwIfCancelled();
    const client = await getContainerRuntimeClient();
    await Promise.all(names.map((n) => client.container.getById(this.container(n).getId()).stop({ t: 1 })));
  }

  /** Starts stopped containers again: each one's start script runs again. */
  async startContainers(names: readonly string[]): Promise<void> {
    throwIfCancelled();
    const client = await getContainerRuntimeClient();
    await Promise.all(names.map((n) => client.container.getById(this.container(n).getId()).start()));
  }

  /** Stops every NATS server and controller replica. */
  stopControlPlane(): Promise<void> {
    return this.stopContainers([...this.controllers.keys(), ...this.natsServers.keys()]);
  }

  /** Starts them again, NATS first. */
  async startControlPlane(): Promise<void> {
    await this.startContainers([...this.natsServers.keys()]);
    await this.startContainers([...this.controllers.keys()]);
  }

  /** Kills a container (SIGKILL to everything in it; a frozen one too): a node, server or replica. */
  async kill(name: string): Promise<void> {
    throwIfCancelled();
    const client = await getContainerRuntimeClient();
    await client.container.getById(this.container(name).getId()).kill();
  }

  /** Makes every backend of a node fail (or pass) its health checks. */
  setBackend(node: string, up: boolean): Promise<string> {
    return sh(this.node(node), up ? 'rm -f /run/e2e/backend-down' : 'touch /run/e2e/backend-down');
  }

  /** Where `keepLogs` puts each label's logs. */
  get logsDir(): string {
    return join(this.dir, 'logs');
  }

  /** Copies every container's /var/log/e2e under `<logsDir>/<label>/`. */
  async keepLogs(label: string): Promise<void> {
    const out = join(this.logsDir, label.replace(/[^\w.-]+/g, '-'));
    await mkdir(out, { recursive: true });
    const all: [string, StartedTestContainer | undefined][] = [
      ...[...this.natsServers, ...this.controllers],
      ['router', this.router],
      ['client', this.client],
      ...[...this.nodes].map(([n, c]): [string, StartedTestContainer] => [n, c]),
    ];
    for (const [name, container] of all) {
      if (!container) continue;
      const logs = await container
        .exec(['sh', '-c', 'for f in /var/log/e2e/*; do echo "==> $f"; cat "$f"; done'])
        .then((r) => r.output)
        .catch((e: unknown) => `(not readable: ${String(e)})`);
      await writeFile(join(out, `${name}.log`), logs);
    }
  }

  async stop(): Promise<void> {
    const containers = [this.client, this.router, ...this.controlPlane(), ...this.nodes.values()];
    await Promise.allSettled(containers.filter(Boolean).map((c) => c.stop({ timeout: 1 })));
    for (const network of this.networks.reverse()) await network.remove().catch(() => undefined);
    await removeLeftovers().catch(() => undefined);
  }

  /** Removes the run's directory (kept when logs were kept). */
  async clean(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
