import { generateKeyPairSync } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BirdClient } from '@rhi/bird-client';
import { signRuleSet } from '@rhi/contracts';
import { parse, ruleSetHash } from '@rhi/rules-dsl';
import type { BgpPair, BirdInstance, HaproxyInstance, UnixBackends } from '@rhi/test-support';
import {
  retryOnPortClash,
  routerCaughtUp,
  startBgpPair,
  startHaproxy,
  startUnixBackends,
  waitFor,
} from '@rhi/test-support';
import type { MockInstance } from 'vitest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentApp } from '../src/app/agent-app.js';
import { runChecks } from '../src/cli/check.js';
import { parseConfig } from '../src/config/load.js';
import type { AgentConfig } from '../src/config/schema.js';
import { recordingLogger } from './support/fakes.js';
import { agentSettled } from './support/agent-settled.js';
import { FeedReads } from './support/feed-reads.js';

// Operator mistakes against real daemons (HAProxy with real health checks, the node's BIRD with the
// include, a router BIRD over iBGP): a rule in a table the config does not list, a table that cannot be
// rendered, BIRD refusing its config, and a rules file read while it is being written. Whatever the
// mistake, the router keeps the routes whose rules hold and loses the ones whose rules fail. No test
// sleeps: each waits for a condition, and absences are proved by the router's exact BGP counters once
// it has every update the node sent.

const VIP1 = '198.18.200.1/32';
const VIP2 = '198.18.200.2/32';
const VIP3 = '198.18.200.3/32';
const BOTH = `198.18.200.1 = all(b:be_app)\nvol2%198.18.200.2 = all(b:be_other)\n`;

describe('rhi-agent under operator mistakes, with real haproxy and bird2', () => {
  let backends: UnixBackends;
  let haproxy: HaproxyInstance;
  let bird: BirdInstance;
  let pair: BgpPair;
  let app: AgentApp | null = null;
  let dir: string;
  let rulesFile: string;
  let config: AgentConfig;
  let configures: MockInstance<BirdClient['configure']>;
  const failedConfigures: unknown[] = [];
  const keys = generateKeyPairSync('ed25519');
  const { logger, records } = recordingLogger();
  const reads = new FeedReads();

  const running = () => {
    if (!app) throw new Error('no agent is running');
    return app;
  };
  const peerHas = (want: string[]) =>
    waitFor(`the router to hold exactly ${want.join(', ') || 'nothing'}`, async () => {
      const got = await pair.routerRoutes();
      return JSON.stringify(got) === JSON.stringify([...want].sort()) ? got : undefined;
    });
  const since = (mark: number) => records.slice(mark);
  const eventsSince = (mark: number, event: string) => since(mark).filter((r) => r['event'] === event);
  /** The loop logs `ruleSetApplied` with the first 12 hex digits of the rule set's hash. */
  const hashOf = (text: string) => ruleSetHash(parse(text).ruleSet).slice(0, 12);
  const applied = (mark: number, text: string) =>
    waitFor(`the agent to apply the rule set ${hashOf(text)}`, () =>
      eventsSince(mark, 'ruleSetApplied').find((r) => String(r['reason']).includes(hashOf(text))),
    );
  const verdict = (mark: number) =>
    waitFor('the agent to judge the rules file', () =>
      since(mark).find((r) => r['event'] === 'ruleSetApplied' || r['event'] === 'ruleSetRejected'),
    );
  /** As a config manager or `mv` does it: a complete file renamed over the old one (a new inode). */
  const replaceRules = async (text: string) => {
    const temp = join(dir, '.rules.cfg.tmp');
    await writeFile(temp, text);
    await rename(temp, rulesFile);
  };
  const settled = () => agentSettled(running);
  /** The agent has read HAProxy since `mark`, BIRD holds what it plans, and the router has all the node sent. */
  const quiet = async (what: string, mark: number) => {
    await reads.handled(what, mark);
    await settled();
    return routerCaughtUp(pair);
  };
  /**
   * Makes `text` the rules file and the rule set in force. A file renamed in is waited for until the
   * agent has taken it, so that no later test sees it do so.
   */
  const inForce = async (text: string) => {
    const already = running().snapshot().ruleSet?.hash === ruleSetHash(parse(text).ruleSet);
    if (already && (await readFile(rulesFile, 'utf8')) === text) return settled();
    const mark = records.length;
    await replaceRules(text);
    await waitFor('the agent to take the renamed rules file', () =>
      eventsSince(mark, 'rulesFileChanged').length ? true : undefined,
    );
    if (!already) await applied(mark, text);
    return settled();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-agent-mistakes-'));
    backends = await startUnixBackends(2);
    const [p0, p1] = backends.paths;
    haproxy = await retryOnPortClash(() =>
      startHaproxy({
        sections: () =>
          [
            'backend be_app',
            '    option httpchk GET /',
            `    server s1 unix@${p0} check inter 100 fall 1 rise 1`,
            'backend be_other',
            '    option httpchk GET /',
            `    server o1 unix@${p1} check inter 100 fall 1 rise 1`,
          ].join('\n'),
      }),
    );
    pair = await startBgpPair({ exports: ['vol1', 'vol2'] });
    bird = pair.node;
    rulesFile = join(dir, 'rules.cfg');
    // Only vol2 works on today's agent: vol1, the rules' default table, is not in bird.tables.
    await writeFile(rulesFile, 'vol2%198.18.200.2 = all(b:be_other)\n');
    await writeFile(join(dir, 'ops.pub'), keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    config = parseConfig(
      `node: { name: lb-mistakes }
haproxy: { sockets: [${haproxy.adminSocket}], pollIntervalMs: 100, eventRing: events }
bird: { socket: ${bird.socket}, include: ${pair.includePath}, config: ${bird.configPath}, tables: { vol2: {} }, reconcileIntervalMs: 1000 }
rules: { file: ${rulesFile}, fromController: true, trustedKeys: { ops: ${join(dir, 'ops.pub')} } }
allowlist: [198.18.200.0/24, 2001:db8:200::/48]
damping: { rise: { count: 1, ms: 0 }, fall: { count: 1, ms: 0 }, holdDown: false }
policies: { withdrawOnStop: false }
admin: { listen: 127.0.0.1:0, socket: ${join(dir, 'admin.sock')} }
stateDir: ${dir}
`,
      'agent.yaml',
    );
    const configure = BirdClient.prototype.configure;
    configures = vi.spyOn(BirdClient.prototype, 'configure').mockImplementation(function (
      this: BirdClient,
      ...args: Parameters<BirdClient['configure']>
    ) {
      return configure.apply(this, args).catch((err: unknown) => {
        failedConfigures.push(err);
        throw err;
      });
    });
    app = await AgentApp.start({ config, logger, version: 'test' });
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    reads.restore();
    configures?.mockRestore();
    await Promise.allSettled([haproxy?.stop(), pair?.stop(), backends?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  describe('route tables', () => {
    it('gives a rule in a table bird.tables does not list the default next hop; withdrawals keep flowing', async () => {
      await peerHas([VIP2]);
      const mark = records.length;
      await replaceRules(BOTH);
      await applied(mark, BOTH);
      await peerHas([VIP1, VIP2]);
      // The injector's default next hop for a table without a gateway.
      expect(await bird.command(`show route ${VIP1} protocol vol1 all`)).toMatch(/dev lo/);
      expect(eventsSince(mark, 'ruleSetWarning')).toContainEqual(
        expect.objectContaining({
          reason: expect.stringMatching(
            new RegExp(`^${rulesFile}:1:1: table 'vol1' is not in bird.tables: .*default next hop`),
          ),
        }),
      );
      await backends.stop(1);
      await peerHas([VIP1]);
      await backends.start(1);
      await peerHas([VIP1, VIP2]);
      expect(eventsSince(mark, 'birdUnreachable')).toEqual([]);
    });

    it('renders a zone-id style IPv6 route (addr%eth0) in a table of its own and warns where it is', async () => {
      await settled();
      const before = await routerCaughtUp(pair);
      const mark = records.length;
      const text = `${BOTH}2001:db8:200::1%eth0 = all(b:be_app)\n`;
      await replaceRules(text);
      await applied(mark, text);
      await waitFor('the node BIRD to hold the route in eth0_v6', async () =>
        (await bird.command('show route protocol eth0_v6')).includes('2001:db8:200::1/128')
          ? true
          : undefined,
      );
      expect(eventsSince(mark, 'ruleSetWarning')).toContainEqual(
        expect.objectContaining({
          reason: expect.stringMatching(new RegExp(`^${rulesFile}:3:1: table 'eth0' is not in bird.tables`)),
        }),
      );
      // The router exports vol1 and vol2 only: nothing changed there.
      expect(await quiet('after the eth0 rule', reads.mark())).toEqual(before);
      await haproxy.command('disable server be_app/s1');
      await peerHas([VIP2]);
      await waitFor('the node BIRD to drop the eth0 route', async () =>
        (await bird.command('show route protocol eth0_v6')).includes('2001:db8:200::1/128')
          ? undefined
          : true,
      );
      await haproxy.command('enable server be_app/s1');
      await peerHas([VIP1, VIP2]);
    });

    it("refuses a table that cannot be rendered, naming the rule's place; the last good rule set stays", async () => {
      await inForce(BOTH);
      const before = await routerCaughtUp(pair);
      const ruleSet = running().snapshot().ruleSet;
      const refuse = async (line: string, why: RegExp) => {
        const mark = records.length;
        await replaceRules(`${BOTH}${line}\n`);
        expect(await verdict(mark)).toMatchObject({
          event: 'ruleSetRejected',
          code: 'RULESET_BAD_TABLE',
          reason: expect.stringMatching(why),
        });
      };
      // Its IPv4 protocol would be vol1's IPv6 protocol.
      await refuse(`vol1_v6%198.18.200.3 = true`, new RegExp(`${rulesFile}:3:1: table 'vol1_v6'.*vol1_v6`));
      // A protocol of the operator's BIRD config (the session to the router).
      await refuse(`router1%198.18.200.3 = true`, new RegExp(`${rulesFile}:3:1: table 'router1'.*already`));
      // Its IPv6 protocol name would be longer than BIRD's 64 characters.
      await refuse(`${'t'.repeat(62)}%198.18.200.3 = true`, new RegExp(`${rulesFile}:3:1: table 't{62}'`));
      expect(running().snapshot().ruleSet).toEqual(ruleSet);
      expect(await quiet('after the refusals', reads.mark())).toEqual(before);
      expect(await pair.routerRoutes()).toEqual([VIP1, VIP2]);
    });

    it('drops a route BIRD cannot take when its table could not be checked, and applies the rest', async () => {
      await inForce(BOTH);
      // BIRD is away while the rule set is judged: its symbols cannot be read then.
      await bird.halt();
      const mark = records.length;
      const text = `${BOTH}router1%198.18.200.3 = true\n`;
      await replaceRules(text);
      await applied(mark, text);
      await bird.start();
      await peerHas([VIP1, VIP2]);
      const refused = () => eventsSince(mark, 'routeRefused');
      await waitFor('the route to be refused', () => (refused().length ? true : undefined));
      expect(refused()).toEqual([
        expect.objectContaining({
          table: 'router1',
          prefix: VIP3,
          reason: expect.stringContaining("'router1'"),
        }),
      ]);
      expect(refused()[0]).not.toHaveProperty('err');
      expect(running().snapshot().refused).toEqual([
        expect.objectContaining({ table: 'router1', prefix: VIP3 }),
      ]);
      // Changes still reach the router, and the refusal is told once, not at every apply.
      await backends.stop(1);
      await peerHas([VIP1]);
      await backends.start(1);
      await peerHas([VIP1, VIP2]);
      await settled();
      expect(refused()).toHaveLength(1);
      await inForce(BOTH);
      // BIRD held the same routes before this apply: wait for the apply itself to clear the refusal.
      await waitFor('the refusal to clear', () =>
        running().snapshot().refused?.length === 0 ? true : undefined,
      );
    });

    it('reports BIRD refusing its configuration as a config error, once, and withdraws a dead VIP all the same', async () => {
      await inForce(BOTH);
      const good = await readFile(bird.configPath, 'utf8');
      const mark = records.length;
      const failed = failedConfigures.length;
      await writeFile(bird.configPath, `${good}\nnonsense;\n`);
      try {
        await backends.stop(1);
        // No configure goes through, yet VIP2 leaves the router: its protocol vol2 is disabled.
        await peerHas([VIP1]);
        await waitFor('three failed applies', () =>
          failedConfigures.length >= failed + 3 ? true : undefined,
        );
        const withErr = since(mark).filter((r) => r['err'] !== undefined);
        expect(withErr).toEqual([
          expect.objectContaining({ event: 'birdConfigError', code: 'BIRD_CONFIG_INVALID' }),
        ]);
        expect(eventsSince(mark, 'birdUnreachable')).toEqual([]);
        expect(eventsSince(mark, 'birdProtocolDisabled')).toEqual([
          expect.objectContaining({
            level: 50,
            protocol: 'vol2',
            table: 'vol2',
            withdrawn: [VIP2],
            alsoWithdrawn: [],
            reason: expect.stringContaining('syntax error'),
          }),
        ]);
        expect(running().snapshot().bird).toMatchObject({
          reachable: true,
          error: expect.stringContaining('syntax error'),
          disabled: ['vol2'],
        });
        expect(await bird.command('show protocols vol2')).toMatch(/vol2\s+Static\s+\S+\s+down/);
      } finally {
        await writeFile(bird.configPath, good);
      }
      await waitFor('the agent to tell BIRD took the config again', () =>
        eventsSince(mark, 'birdConfigAccepted').length ? true : undefined,
      );
      expect(eventsSince(mark, 'birdProtocolEnabled')).toEqual([
        expect.objectContaining({ protocol: 'vol2', table: 'vol2' }),
      ]);
      expect(running().snapshot().bird).toEqual({ reachable: true });
      await backends.start(1);
      await peerHas([VIP1, VIP2]);
    });

    it('takes the healthy routes of a disabled protocol with it (fail-safe), and brings them back with the config', async () => {
      const text = `${BOTH}198.18.200.3 = all(b:be_other)\n`;
      await inForce(text);
      await peerHas([VIP1, VIP2, VIP3]);
      const good = await readFile(bird.configPath, 'utf8');
      const mark = records.length;
      await writeFile(bird.configPath, `${good}\nprotocol bogus {\n`);
      try {
        // be_other dies: VIP3 (vol1) and VIP2 (vol2) must go. Disabling vol1 takes VIP1 along.
        await backends.stop(1);
        await peerHas([]);
        // The router may see the withdrawals before the agent has BIRD's reply to the disable, and logs it.
        await waitFor('the agent to log both protocols disabled and the three routes withdrawn', () => {
          const withdrawn = new Set(eventsSince(mark, 'routeWithdrawn').map((r) => r['prefix']));
          return eventsSince(mark, 'birdProtocolDisabled').length === 2 &&
            [VIP1, VIP2, VIP3].every((p) => withdrawn.has(p))
            ? true
            : undefined;
        });
        expect(eventsSince(mark, 'birdProtocolDisabled')).toEqual([
          expect.objectContaining({ protocol: 'vol1', withdrawn: [VIP3], alsoWithdrawn: [VIP1] }),
          expect.objectContaining({ protocol: 'vol2', withdrawn: [VIP2], alsoWithdrawn: [] }),
        ]);
        expect(eventsSince(mark, 'routeWithdrawn').map((r) => r['prefix'])).toEqual(
          expect.arrayContaining([VIP1, VIP2, VIP3]),
        );
        // BGP itself is untouched.
        expect(await bird.command('show protocols router1')).toContain('Established');
      } finally {
        await writeFile(bird.configPath, good);
      }
      // The next configure that succeeds brings back what is healthy.
      await peerHas([VIP1]);
      await waitFor('both protocols enabled again', () =>
        eventsSince(mark, 'birdProtocolEnabled').length === 2 ? true : undefined,
      );
      await waitFor('VIP1 announced again', () =>
        eventsSince(mark, 'routeAnnounced').some((r) => r['prefix'] === VIP1) ? true : undefined,
      );
      await backends.start(1);
      await peerHas([VIP1, VIP2, VIP3]);
      await inForce(BOTH);
      await peerHas([VIP1, VIP2]);
    });

    it('flags tables rhi-agent check would render with the default next hop, and fails unrenderable ones', async () => {
      const file = join(dir, 'check.cfg');
      await writeFile(file, `${BOTH}vol1_v6%198.18.200.3 = true\n2001:db8:200::1%eth0 = all(b:be_app)\n`);
      const items = await runChecks({ ...config, rules: { ...config.rules, file } });
      expect(items).toContainEqual(
        expect.objectContaining({
          verdict: 'warn',
          what: expect.stringMatching(/^table vol1 is not in bird.tables: .*default next hop/),
        }),
      );
      expect(items).toContainEqual(
        expect.objectContaining({
          verdict: 'warn',
          what: expect.stringMatching(/^table eth0 is not in bird.tables/),
        }),
      );
      expect(items).toContainEqual(
        expect.objectContaining({
          verdict: 'fail',
          what: expect.stringMatching(/^table vol1_v6 cannot be rendered/),
          detail: expect.stringContaining(`${file}:3:1`),
        }),
      );
    });
  });

  describe('the rules file', () => {
    it('takes nothing from a truncated file written again in pieces, only the complete one', async () => {
      await inForce(BOTH);
      const before = await routerCaughtUp(pair);
      const mark = records.length;
      // What `cp`, `cat >` and scp do: truncate, then write, maybe in pieces, the same inode throughout.
      await truncate(rulesFile, 0);
      const seen = (size: number) =>
        waitFor(`the agent to see the rules file at ${size} bytes`, () =>
          since(mark).find(
            (r) =>
              (r['event'] === 'rulesFileSettling' && r['size'] === size) ||
              r['event'] === 'ruleSetApplied' ||
              r['event'] === 'ruleSetRejected',
          ),
        );
      expect(await seen(0)).toMatchObject({ event: 'rulesFileSettling' });
      const first = '198.18.200.1 = all(b:be_app)\n';
      await appendFile(rulesFile, first);
      expect(await seen(first.length)).toMatchObject({ event: 'rulesFileSettling' });
      const full = `${BOTH}198.18.200.3 = all(b:be_app)\n`;
      await appendFile(rulesFile, full.slice(first.length));
      await applied(mark, full);
      await peerHas([VIP1, VIP2, VIP3]);
      expect(eventsSince(mark, 'ruleSetApplied')).toHaveLength(1);
      expect(eventsSince(mark, 'rulesFileChanged')).toEqual([
        expect.objectContaining({ how: 'settled', size: full.length }),
      ]);
      // One update (VIP3), no withdraw: the router never saw the empty or the half-written file.
      expect(await quiet('after the rewrite', reads.mark())).toEqual({
        updates: before.updates + 1,
        withdraws: before.withdraws,
      });
    });

    it('refuses a comment-only file that stays so: nothing is withdrawn', async () => {
      await inForce(BOTH);
      const before = await routerCaughtUp(pair);
      const ruleSet = running().snapshot().ruleSet;
      const mark = records.length;
      await writeFile(rulesFile, '# maintenance: rules moved elsewhere\n');
      expect(await verdict(mark)).toMatchObject({ event: 'ruleSetRejected', code: 'RULESET_EMPTY' });
      expect(running().snapshot().ruleSet).toEqual(ruleSet);
      expect(await quiet('after the empty file', reads.mark())).toEqual(before);
      expect(await pair.routerRoutes()).toEqual([VIP1, VIP2]);
    });

    it('takes a file renamed into place at once, even while a truncated one is settling', async () => {
      await inForce(`${BOTH}198.18.200.3 = all(b:be_app)\n`);
      const before = await routerCaughtUp(pair);
      const mark = records.length;
      await truncate(rulesFile, 0);
      await waitFor('the agent to see the truncated file', () =>
        since(mark).find((r) => ['rulesFileSettling', 'ruleSetApplied'].includes(String(r['event']))),
      );
      await replaceRules(BOTH);
      await applied(mark, BOTH);
      await peerHas([VIP1, VIP2]);
      // VIP3's withdrawal and nothing else: the truncated file was never taken.
      expect(await quiet('after the rename', reads.mark())).toEqual({
        updates: before.updates,
        withdraws: before.withdraws + 1,
      });
      expect(eventsSince(mark, 'ruleSetApplied')).toHaveLength(1);
      expect(eventsSince(mark, 'ruleSetRejected')).toEqual([]);
      // Taken at once, not after the settle period (2 s by default).
      expect(eventsSince(mark, 'rulesFileChanged')).toEqual([
        expect.objectContaining({ how: 'renamed', size: BOTH.length }),
      ]);
    });

    it('refuses an empty rules file at boot and keeps the last good copy: the router sees no change', async () => {
      await inForce(BOTH);
      const before = await routerCaughtUp(pair);
      // A stop that leaves the routes in BIRD (policies.withdrawOnStop: false), as a crash would.
      await running().stop();
      app = null;
      await writeFile(rulesFile, '');
      const mark = records.length;
      app = await AgentApp.start({ config, logger, version: 'test' });
      expect(eventsSince(mark, 'ruleSetRejected')).toContainEqual(
        expect.objectContaining({ code: 'RULESET_EMPTY' }),
      );
      expect(running().snapshot().ruleSet).toMatchObject({ source: 'persisted' });
      expect(await quiet('after the restart', reads.mark())).toEqual(before);
      expect(await pair.routerRoutes()).toEqual([VIP1, VIP2]);
      await inForce(BOTH);
    });

    it('refuses an empty signed rule set from the controller', async () => {
      const before = await routerCaughtUp(pair);
      const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const ruleSet = signRuleSet(parse('# nothing\n').ruleSet, { privateKeyPem, keyId: 'ops', serial: 1 });
      expect(
        await running().command({ schema: 'rhi.v1.command', id: 'e1', type: 'ruleset', ruleSet }),
      ).toEqual({
        result: 'rejected',
        reason: expect.stringMatching(/^RULESET_EMPTY: /),
      });
      expect(await quiet('after the push', reads.mark())).toEqual(before);
      expect(await pair.routerRoutes()).toEqual([VIP1, VIP2]);
    });
  });
});
