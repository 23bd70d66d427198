import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeDetail } from '@rhi/contracts';
import { routeId } from '@rhi/contracts';
import { waitFor } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancellable, dockerUnavailable, exec, sh } from './support/docker.js';
import type { RolloutRecord } from '@rhi/contracts';
import {
  CONTROLLERS,
  NATS_SERVERS,
  NODES,
  RISE_MS,
  RULES,
  RULES_WITH_VIP2,
  RULES_WITH_VIP3,
  VIP1,
  VIP2,
  VIP3,
} from './support/fleet/configs.js';
import { forgedRecord, injectAssignment } from './support/fleet/inject.js';
import type { ScenarioResult } from './support/fleet/report.js';
import { formatReport } from './support/fleet/report.js';
import { Fleet } from './support/fleet/topology.js';
import { built } from './support/processes.js';

// The fleet in containers, control plane and data plane: three HAProxy nodes behind a router doing ECMP,
// real HTTP traffic from a client behind the router, NATS and the controller. Each scenario asserts on the
// router's kernel routing table, on the client's traffic and on the controller's view through its API, and
// adds a row to the report printed at the end (with the measured convergence times).

const unavailable = await dockerUnavailable();
if (unavailable) console.warn(`fleet.docker.test.ts skipped: ${unavailable}`);
if (!built) console.warn('fleet.docker.test.ts: the agent or controller is not built; nx runs ^build first');

const VIP1_ID = routeId({ table: 'vol1', prefix: `${VIP1}/32` });
const ALL_HOPS = NODES.map((n) => n.ip).sort();

interface VipNode {
  node: string;
  state: string;
  reason: string;
}

describe.runIf(built && !unavailable)(
  'the fleet in containers, with real traffic through an ECMP router',
  () => {
    let fleet: Fleet;
    const results: ScenarioResult[] = [];
    let logsDir: string | null = null;

    /**
     * Runs one scenario and records its row: what it measured, and the requests the client sent and saw
     * fail meanwhile. A failed scenario keeps every container's logs.
     */
    const scenario = (
      name: string,
      timeoutMs: number,
      body: (measured: Record<string, number>) => Promise<void>,
    ) =>
      it(name, { timeout: timeoutMs }, async ({ signal }) => {
        const measured: Record<string, number> = {};
        const since = Date.now();
        let passed = false;
        try {
          await cancellable(signal, () => body(measured));
          passed = true;
        } finally {
          const counts = await fleet.counts(since).catch(() => ({ sent: -1, failed: -1 }));
          results.push({ scenario: name, passed, measured, sent: counts.sent, failed: counts.failed });
          if (!passed) {
            await fleet.keepLogs(name);
            logsDir = fleet.logsDir;
          }
        }
      });

    const vipNodes = async (): Promise<VipNode[]> => {
      const { vip } = await fleet.get<{ vip: { nodes: VipNode[] } }>(
        `/api/v1/vips/${encodeURIComponent(VIP1_ID)}`,
      );
      return vip.nodes;
    };
    const viewSays = (what: string, test: (nodes: VipNode[]) => boolean, timeoutMs?: number) =>
      waitFor(
        `the controller's view: ${what}`,
        async () => {
          const nodes = await vipNodes().catch(() => []);
          return test(nodes) ? nodes : undefined;
        },
        timeoutMs,
      );
    const kernelHas = (hops: readonly string[], timeoutMs?: number, vip = VIP1) =>
      fleet.waitForRoute(vip, hops, timeoutMs);
    /** Fails every backend of `node` until its route leaves the router: ms from the failure to the withdraw. */
    const backendDeathToWithdraw = async (node: string) => {
      const before = Date.now();
      await fleet.setBackend(node, false);
      await kernelHas(NODES.filter((n) => n.name !== node).map((n) => n.ip));
      const removed = await fleet.routerEvent(`${VIP1}/32`, 'removed', node, before);
      expect(removed, `the router logged the withdraw from ${node}`).toBeDefined();
      return removed!.at - before;
    };
    const allAdvertise = (nodes: VipNode[]) => nodes.filter((n) => n.state === 'advertising').length === 3;
    const birdc = (command: string) => ['birdc', '-s', '/run/bird/bird.ctl', ...command.split(' ')];
    const rhictlRun = (args: string[], api = fleet.api) => fleet.rhictl(args, api);
    /** `rhictl`, which must exit 0: its stdout. */
    const rhictl = async (args: string[]) => {
      const run = await rhictlRun(args);
      if (run.code !== 0) throw new Error(`rhictl ${args.join(' ')}: exit ${run.code}\n${run.stderr}`);
      return run.stdout;
    };
    const nodeDetails = () => Promise.all(NODES.map((n) => fleet.get<NodeDetail>(`/api/v1/nodes/${n.name}`)));
    /** The router's route changes of both VIPs since `since`. */
    const routerChanges = async (since: number) => [
      ...(await fleet.routerEvents(`${VIP1}/32`, since)),
      ...(await fleet.routerEvents(`${VIP2}/32`, since)),
    ];
    const rulesFile = async (name: string, text: string) => {
      const file = join(fleet.dir, name);
      await writeFile(file, text);
      return file;
    };
    /** The serial scenario 4 rolled out. */
    let pushed = 0;
    /** The client's counts of the next `ms` of traffic, which must all have succeeded. */
    const cleanTraffic = async (ms: number) => {
      const since = Date.now();
      const counts = await waitFor(`${ms} ms of traffic`, async () =>
        Date.now() - since >= ms ? fleet.counts(since) : undefined,
      );
      expect(counts.errors, 'requests failed').toEqual([]);
      expect(counts.sent).toBeGreaterThan(ms / 100);
      return counts;
    };

    beforeAll(async () => {
      fleet = await Fleet.start();
    }, 180_000);

    afterAll(async () => {
      if (results.length > 0) console.log(formatReport(results, logsDir));
      await fleet?.stop();
      if (!logsDir) await fleet?.clean();
    }, 60_000);

    scenario(
      '1. start: the VIP is ECMP over all three nodes, every node serves, the view says so',
      120_000,
      async () => {
        await kernelHas(ALL_HOPS, 45_000);
        // The NATS cluster elects its JetStream leaders and the replicas make their streams first.
        await viewSays('all three advertise', allAdvertise, 60_000);
        const window = await cleanTraffic(3000);
        expect(Object.keys(window.byNode).sort()).toEqual(NODES.map((n) => n.name));
      },
    );

    scenario(
      '2. every backend of lb1 fails: the route leaves the router, no request fails after',
      60_000,
      async (m) => {
        m['backend death to withdraw at the router (ms)'] = await backendDeathToWithdraw('lb1');
        const nodes = await viewSays('lb1 withdrawn, with the reason', (ns) =>
          ns.some((n) => n.node === 'lb1' && n.state === 'withdrawn'),
        );
        expect(nodes.find((n) => n.node === 'lb1')?.reason).toMatch(/be_app/);
        const window = await cleanTraffic(2000);
        expect(Object.keys(window.byNode).sort()).toEqual(['lb2', 'lb3']);
      },
    );

    scenario(
      '3. lb1 recovers: the route returns after the rise time, lb1 serves again',
      60_000,
      async (m) => {
        const before = Date.now();
        await fleet.setBackend('lb1', true);
        await kernelHas(ALL_HOPS);
        const added = await fleet.routerEvent(`${VIP1}/32`, 'added', 'lb1', before);
        expect(added, 'the router logged the route from lb1').toBeDefined();
        m['backend back to route at the router (ms)'] = added!.at - before;
        // Not before the agent's rise time (damping.rise.ms) has passed.
        expect(added!.at - before).toBeGreaterThanOrEqual(RISE_MS);
        await viewSays('all three advertise again', allAdvertise);
        const window = await cleanTraffic(3000);
        expect(Object.keys(window.byNode).sort()).toEqual(NODES.map((n) => n.name));
      },
    );

    scenario(
      '4. rhictl rules push adds VIP2: the canary first, then every node; VIP2 is served by all three',
      120_000,
      async (m) => {
        const soakMs = 3000;
        const before = Date.now();
        const run = await rhictlRun([
          'rules',
          'push',
          await rulesFile('rules-vip2.cfg', RULES_WITH_VIP2),
          '-m',
          'e2e: add VIP2',
          '--canary',
          '1',
          '--soak',
          `${soakMs / 1000}s`,
          '--ack-timeout',
          '30s',
          '--wait',
        ]);
        expect(run.code, run.stderr + run.stdout).toBe(0);
        expect(run.stdout).toContain('COMPLETED');
        pushed = Number(/as serial (\d+)/.exec(run.stderr)?.[1]);
        expect(pushed).toBeGreaterThan(0);
        await kernelHas(ALL_HOPS, 10_000, VIP2);
        m['push to VIP2 on all nodes at the router (ms)'] = Date.now() - before;
        // The canary's route first; the others only after it soaked.
        const added = (await fleet.routerEvents(`${VIP2}/32`, before))
          .filter((e) => e.op === 'added')
          .sort((a, b) => a.at - b.at);
        expect(added.map((e) => e.peer).sort()).toEqual(NODES.map((n) => n.name));
        const gap = added[1]!.at - added[0]!.at;
        m['canary route to the next node route (ms)'] = gap;
        // The soak starts when the controller has the canary's ack, a few ms after its route went out.
        expect(gap).toBeGreaterThan(soakMs - 250);
        expect(await fleet.routerEvents(`${VIP1}/32`, before), 'VIP1 untouched').toEqual([]);
        for (const d of await nodeDetails())
          expect(d.ruleSet, d.node.name).toMatchObject({
            sync: 'synced',
            active: { serial: pushed },
            error: null,
          });
        await fleet.setTargets([VIP1, VIP2]);
        const since = Date.now();
        await cleanTraffic(3000);
        const vip2 = await fleet.counts(since, VIP2);
        expect(Object.keys(vip2.byNode).sort()).toEqual(NODES.map((n) => n.name));
      },
    );

    scenario(
      '5. the what-if guard refuses a rule set that leaves VIP1 without advertiser; a forged one written into NATS is rejected by every agent; nothing changes',
      120_000,
      async (m) => {
        const before = Date.now();
        const lose = await rhictlRun([
          'rules',
          'push',
          await rulesFile('rules-no-vip1.cfg', RULES_WITH_VIP2.replace(RULES, '')),
          '-m',
          'e2e: drop VIP1',
          '--wait',
        ]);
        expect(lose.code).toBe(1);
        expect(lose.stderr).toContain('nothing was changed');
        expect(lose.stderr).toContain(VIP1);
        const outside = await rhictlRun([
          'rules',
          'push',
          await rulesFile('rules-outside.cfg', `${RULES_WITH_VIP2}198.18.201.1 = all(f:fe_web)\n`),
          '-m',
          'e2e: a VIP outside the allowlist',
          '--wait',
        ]);
        expect(outside.code).toBe(1);
        expect(outside.stderr).toMatch(/outsideAllowlist: lb\d forbids .*198\.18\.201\.1/);
        // Straight into NATS, past the controller: signed by a key no agent trusts.
        const stranger = generateKeyPairSync('ed25519');
        const forged = forgedRecord(`198.18.200.3 = all(f:fe_web)\n`, 1000, {
          privateKeyPem: stranger.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
          keyId: 'e2e',
        });
        const injected = Date.now();
        await injectAssignment(
          fleet.natsUrl,
          fleet.controllerSeed,
          forged,
          NODES.map((n) => n.name),
        );
        const details = await waitFor('every agent to reject the forged rule set', async () => {
          const all = await nodeDetails();
          return all.every((d) => d.ruleSet?.sync === 'error') ? all : undefined;
        });
        m['forged rule set written to rejected by all, in the view (ms)'] = Date.now() - injected;
        for (const d of details)
          expect(d.ruleSet, d.node.name).toMatchObject({
            active: { serial: pushed },
            error: { serial: 1000, code: 'RULESET_BAD_SIGNATURE' },
          });
        await cleanTraffic(2000);
        expect(await routerChanges(before), 'no route moved').toEqual([]);
        expect(await fleet.kernelRoute(VIP1)).toEqual(ALL_HOPS);
        expect(await fleet.kernelRoute(VIP2)).toEqual(ALL_HOPS);
        expect(await fleet.kernelRoute('198.18.200.3')).toEqual([]);
        // The operator puts the fleet back on its rule set: a new serial of the same rules, no route moves.
        const back = await rhictlRun(['rules', 'rollback', '--to', String(pushed), '--wait']);
        expect(back.code, back.stderr + back.stdout).toBe(0);
        for (const d of await nodeDetails())
          expect(d.ruleSet, d.node.name).toMatchObject({ sync: 'synced', error: null });
        expect(await routerChanges(before), 'no route moved').toEqual([]);
      },
    );

    scenario(
      '6. the whole control plane stopped: nodes still fail over on their own; restarted: the view is whole',
      120_000,
      async (m) => {
        await fleet.stopControlPlane();
        m['backend death to withdraw, no control plane (ms)'] = await backendDeathToWithdraw('lb1');
        await cleanTraffic(2000);
        await fleet.setBackend('lb1', true);
        await kernelHas(ALL_HOPS);
        await kernelHas(ALL_HOPS, undefined, VIP2);
        const restarted = Date.now();
        await fleet.startControlPlane();
        await viewSays('all three advertise again, none stale', allAdvertise, 60_000);
        m['control plane start to whole view (ms)'] = Date.now() - restarted;
        for (const d of await nodeDetails()) {
          expect(d.stale, d.node.name).toBe(false);
          expect(d.ruleSet, d.node.name).toMatchObject({ sync: 'synced', error: null });
        }
        await cleanTraffic(2000);
      },
    );

    scenario(
      '7. HAProxy reloaded on lb2 under traffic: no withdraw, no failed request',
      60_000,
      async (m) => {
        const lb2 = fleet.node('lb2');
        const workers = async () => (await sh(lb2, 'pgrep -P "$(cat /run/haproxy.pid)"')).trim().split(/\s+/);
        const old = await workers();
        const before = Date.now();
        await sh(lb2, 'kill -USR2 "$(cat /run/haproxy.pid)"');
        await waitFor('the new HAProxy worker on lb2', async () =>
          (await workers()).some((pid) => !old.includes(pid)) ? true : undefined,
        );
        m['reload to new worker (ms)'] = Date.now() - before;
        await cleanTraffic(2000);
        const counts = await fleet.counts(before);
        expect(counts.errors, 'requests failed during the reload').toEqual([]);
        expect(counts.byNode['lb2'], 'lb2 served during the reload').toBeGreaterThan(0);
        expect(await fleet.routerEvents(`${VIP1}/32`, before)).toEqual([]);
        expect(await fleet.kernelRoute(VIP1)).toEqual(ALL_HOPS);
      },
    );

    scenario('8a. BIRD restarted on lb2 without its routes: the agent restores them', 60_000, async (m) => {
      const lb2 = fleet.node('lb2');
      const before = Date.now();
      // As after a reboot that emptied /run: BIRD comes back without the include's routes.
      await sh(
        lb2,
        'pid=$(cat /run/bird.pid); kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; ' +
          ': > /run/rhi/rhi-routes.conf; bird -c /etc/bird/bird.conf -s /run/bird/bird.ctl -P /run/bird.pid > /dev/null 2>&1 < /dev/null',
      );
      await kernelHas([NODES[0]!.ip, NODES[2]!.ip]).catch(() => undefined);
      await kernelHas(ALL_HOPS, 45_000);
      m['BIRD restart to route back at the router (ms)'] = Date.now() - before;
      const window = await cleanTraffic(2000);
      expect(Object.keys(window.byNode).sort()).toEqual(NODES.map((n) => n.name));
    });

    scenario(
      '8b. the agent on lb2 stopped with SIGTERM: its route withdrawn first; started again: back',
      60_000,
      async (m) => {
        const lb2 = fleet.node('lb2');
        const before = Date.now();
        await sh(
          lb2,
          'pid=$(cat /run/e2e/agent.pid); kill -TERM "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done',
        );
        const exited = Date.now();
        // BIRD still runs and HAProxy still serves: the route left only because the agent withdrew it.
        await kernelHas([NODES[0]!.ip, NODES[2]!.ip], 5_000);
        const removed = await fleet.routerEvent(`${VIP1}/32`, 'removed', 'lb2', before);
        expect(removed, 'the router logged the withdraw from lb2').toBeDefined();
        expect(removed!.at).toBeLessThanOrEqual(exited);
        m['SIGTERM to withdraw at the router (ms)'] = removed!.at - before;
        const window = await cleanTraffic(2000);
        expect(Object.keys(window.byNode).sort()).toEqual(['lb1', 'lb3']);
        await sh(lb2, 'sh /e2e/start-agent.sh');
        await kernelHas(ALL_HOPS, 30_000);
        await viewSays('all three advertise again', allAdvertise);
      },
    );

    scenario(
      '9. rhictl drain lb2 --wait-sessions: de-preferred, then withdrawn; traffic moves; undrain restores',
      90_000,
      async (m) => {
        const lb2 = fleet.node('lb2');
        // A session that stays open on lb2 (HAProxy's frontend counts it) until the test ends it.
        await sh(
          lb2,
          `setsid /opt/rhi-node/bin/node -e "require('net').connect(80, '${VIP1}').on('close', () => process.exit()); setInterval(() => {}, 1e6)" > /dev/null 2>&1 < /dev/null & echo $! > /run/e2e/holder.pid`,
        );
        const before = Date.now();
        const drained = await rhictl([
          'drain',
          'lb2',
          '--reason',
          'e2e',
          '--wait-sessions',
          '0',
          '--timeout',
          '20',
        ]);
        expect(drained).toContain('1/1 node(s) applied');
        // De-preferred first: the router still holds lb2's route, with the worst MED, out of the ECMP set.
        await kernelHas([NODES[0]!.ip, NODES[2]!.ip], 10_000);
        m['drain to de-preferred at the router (ms)'] = Date.now() - before;
        expect(await exec(fleet.router, birdc('show route for 198.18.200.1 protocol lb2 all'))).toMatch(
          /BGP\.med: 4294967294/,
        );
        expect(await fleet.routerEvent(`${VIP1}/32`, 'removed', 'lb2', before)).toBeUndefined();
        // The last session ends: the route is withdrawn.
        const ended = Date.now();
        await sh(lb2, 'kill "$(cat /run/e2e/holder.pid)"');
        const removed = await waitFor('the router to log the withdraw from lb2', async () =>
          fleet.routerEvent(`${VIP1}/32`, 'removed', 'lb2', before),
        );
        m['last session ended to withdrawn (ms)'] = removed.at - ended;
        const window = await cleanTraffic(2000);
        expect(Object.keys(window.byNode).sort()).toEqual(['lb1', 'lb3']);
        await viewSays('lb2 drained', (ns) => ns.some((n) => n.node === 'lb2' && n.state !== 'advertising'));
        expect(await rhictl(['undrain', 'lb2'])).toContain('1/1 node(s) applied');
        await kernelHas(ALL_HOPS, 15_000);
        await viewSays('all three advertise again', allAdvertise);
      },
    );

    scenario(
      '10. the controller replica driving a rollout killed mid-rollout: the other finishes it',
      120_000,
      async (m) => {
        const started = await rhictl([
          'rules',
          'push',
          await rulesFile('rules-vip3.cfg', RULES_WITH_VIP3),
          '-m',
          'e2e: add VIP3',
          '--canary',
          '1',
          '--soak',
          '5s',
          '--json',
        ]);
        const id = (JSON.parse(started) as { rollout: RolloutRecord }).rollout.id;
        const rollout = (replica?: number) =>
          replica === undefined
            ? fleet.get<{ rollout: RolloutRecord }>(`/api/v1/rollouts/${id}`).then((r) => r.rollout)
            : fleet
                .getFrom(replica, `/api/v1/rollouts/${id}`)
                .then((r) => (r.body as { rollout: RolloutRecord }).rollout);
        // The canary applied and soaking: the replica driving it is killed.
        const soaking = await waitFor('the canary to soak', async () => {
          const r = await rollout();
          return r.steps[0]!.soakUntil !== null && r.owner ? r : undefined;
        });
        const owner = CONTROLLERS.findIndex((c) => soaking.owner!.startsWith(`${c.name}-`));
        expect(owner, `the owner ${soaking.owner} is a replica`).toBeGreaterThanOrEqual(0);
        const other = 1 - owner;
        const killed = Date.now();
        await fleet.kill(CONTROLLERS[owner]!.name);
        const done = await waitFor(
          'the other replica to finish the rollout',
          async () => {
            const r = await rollout(other).catch(() => undefined);
            return r?.status === 'completed' ? r : undefined;
          },
          60_000,
        );
        m['replica killed to rollout completed (ms)'] = Date.now() - killed;
        expect(done.owner, 'driven by the other replica').toMatch(
          new RegExp(`^${CONTROLLERS[other]!.name}-`),
        );
        await kernelHas(ALL_HOPS, 15_000, VIP3);
        await fleet.setTargets([VIP1, VIP2, VIP3]);
        const since = Date.now();
        await cleanTraffic(2000);
        expect(Object.keys((await fleet.counts(since, VIP3)).byNode).sort()).toEqual(
          NODES.map((n) => n.name),
        );
        await fleet.startContainers([CONTROLLERS[owner]!.name]);
        await waitFor(
          'the killed replica to answer again',
          async () =>
            (await fleet.getFrom(owner, '/healthz').catch(() => ({ status: 0 }))).status === 200
              ? true
              : undefined,
          60_000,
        );
      },
    );

    scenario(
      '12. one NATS server killed: nothing noticeable; two: agents go on, quorum lost reported; all back: whole',
      150_000,
      async (m) => {
        const [, n2, n3] = NATS_SERVERS.map((s) => s.name) as [string, string, string];
        await fleet.kill(n3);
        await cleanTraffic(2000);
        // One down: a backend's failure still reaches the router and the view.
        let before = Date.now();
        await fleet.setBackend('lb1', false);
        await kernelHas([NODES[1]!.ip, NODES[2]!.ip]);
        await viewSays(
          'lb1 withdrawn, one NATS server down',
          (ns) => ns.some((n) => n.node === 'lb1' && n.state === 'withdrawn'),
          30_000,
        );
        m['one server down: backend death to the view (ms)'] = Date.now() - before;
        await fleet.setBackend('lb1', true);
        await kernelHas(ALL_HOPS);
        await viewSays('all three advertise', allAdvertise, 30_000);
        // Two down: the agents go on on their own, the controller says the quorum is lost.
        await fleet.kill(n2);
        before = Date.now();
        await waitFor(
          'the controller to report the NATS quorum lost',
          async () => {
            const h = await fleet.getFrom(0, '/healthz').catch(() => undefined);
            return h && h.status === 503 && JSON.stringify(h.body).includes('quorum') ? h : undefined;
          },
          60_000,
        );
        m['two servers down to quorum lost reported (ms)'] = Date.now() - before;
        m['no quorum: backend death to withdraw at the router (ms)'] = await backendDeathToWithdraw('lb2');
        await fleet.setBackend('lb2', true);
        await kernelHas(ALL_HOPS);
        // All back: whole again, no one doing anything.
        const back = Date.now();
        await fleet.startContainers([n2, n3]);
        await waitFor(
          'the controller healthy again',
          async () =>
            (await fleet.getFrom(0, '/healthz').catch(() => undefined))?.status === 200 ? true : undefined,
          90_000,
        );
        await viewSays('all three advertise', allAdvertise, 60_000);
        m['servers back to healthy view (ms)'] = Date.now() - back;
        await cleanTraffic(2000);
      },
    );

    scenario(
      '11. lb3 dies: BFD drops it at the router within 1 s, not the BGP hold time; the view marks it lost',
      60_000,
      async (m) => {
        const before = Date.now();
        await fleet.freeze('lb3');
        await kernelHas([NODES[0]!.ip, NODES[1]!.ip], 10_000);
        const removed = await fleet.routerEvent(`${VIP1}/32`, 'removed', 'lb3', before);
        expect(removed, 'the router logged the loss of lb3').toBeDefined();
        m['node death to withdraw at the router (ms)'] = removed!.at - before;
        expect(removed!.at - before).toBeLessThan(1000);
        expect(
          await exec(fleet.router, ['birdc', '-s', '/run/bird/bird.ctl', 'show', 'protocols', 'all', 'lb3']),
        ).toMatch(/BFD session down/);
        const window = await cleanTraffic(2000);
        expect(Object.keys(window.byNode).sort()).toEqual(['lb1', 'lb2']);
        await fleet.kill('lb3');
        await viewSays('lb3 lost', (ns) => ns.some((n) => n.node === 'lb3' && n.state === 'stale'), 15_000);
      },
    );
  },
);
