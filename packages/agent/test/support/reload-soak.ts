import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RingEvent } from '@rhi/haproxy-client';
import { parseRingEvent, ringVerdict } from '@rhi/haproxy-client';
import type { BgpPair, HaproxyInstance, RouteLogEntry, UnixBackends } from '@rhi/test-support';
import { freePort, startBgpPair, startHaproxy, startUnixBackends, waitFor } from '@rhi/test-support';

// The reload soak: the built agent against a real HAProxy reloaded again and again, with rules on a
// frontend and on a backend that stay up all along, steady HTTP load on the frontend, and a third
// backend whose only server is killed and started again, so that real decisions happen during the
// reloads. What counts is seen at a BGP peer BIRD, from its own route log: a withdraw of a VIP whose
// proxy never went down is a false withdraw.

/** How HAProxy is reloaded. */
export type ReloadStyle = 'master-worker' | '-sf';

export interface SoakOptions {
  readonly style: ReloadStyle;
  readonly reloads: number;
  /** Pause between two reloads, drawn uniformly from [min, max] ms. */
  readonly gapMs: readonly [number, number];
  /** Pause between two changes of be_flip's server (killed, started), drawn uniformly. */
  readonly flipGapMs: readonly [number, number];
  /** HTTP clients on fe_web, each sending one request at a time on a new connection. Default 4. */
  readonly clients?: number;
  /** Starts the built agent on a config file. */
  readonly spawnAgent: (configFile: string) => Promise<{ agent: ChildProcess; output: () => string }>;
  readonly stopAgent: (agent: ChildProcess) => Promise<void>;
  readonly progress?: (line: string) => void;
}

export interface SoakResult {
  readonly style: ReloadStyle;
  readonly reloads: number;
  readonly seconds: number;
  /** HAProxy workers that served during the soak (each reload makes one). */
  readonly workers: number;
  /** Withdraws at the peer of the VIPs on fe_web and be_app, which stayed up throughout (goal: none). */
  readonly falseWithdraws: readonly RouteLogEntry[];
  /** Other changes at the peer that no HAProxy verdict explains (an announce of a steady VIP, say). */
  readonly unexplained: readonly RouteLogEntry[];
  readonly requests: {
    readonly ok: number;
    readonly failed: number;
    readonly errors: Record<string, number>;
  };
  /** be_flip's server killed or started. */
  readonly flips: number;
  /**
   * Per change of be_flip's VIP at the peer: from HAProxy's verdict (its log line's own timestamp) to the
   * peer's BIRD logging the route added or removed, in ms. Both are the machine's real-time clock.
   */
  readonly decisionMs: readonly number[];
  /** The agent's log records at warn and above, by event. */
  readonly agentWarnings: Readonly<Record<string, number>>;
  /** be_flip's story, in order (epoch ms): flips, HAProxy's verdicts, reloads, the peer's changes. */
  readonly flipTimeline: readonly string[];
}

// Rules on more than 50 proxies make the agent read every proxy in one `show stat` (haproxy-client
// README); the padding backends come before fe_web in the config, so fe_web's row is at the end of a
// long reply, where a worker stopped by a reload in the middle of a read would show it STOP.
const PADDING = 60;
const padVip = (i: number) => `198.18.202.${i + 1}`;
const STEADY = [
  '198.18.201.1/32',
  '198.18.201.2/32',
  ...Array.from({ length: PADDING }, (_, i) => `${padVip(i)}/32`),
];
const FLIP = '198.18.201.3/32';
const RULES = `# The reload soak's rules: on a frontend, on a backend, on a backend that flips, and on the padding.
198.18.201.1 = all(f:fe_web)
198.18.201.2 = all(b:be_app)
198.18.201.3 = all(b:be_flip)
${Array.from({ length: PADDING }, (_, i) => `${padVip(i)} = all(b:pad${i})`).join('\n')}
`;

const between = ([min, max]: readonly [number, number]) => min + Math.random() * (max - min);

/** HAProxy's log lines, from every worker, as a syslog server on UDP would get them. */
async function startLogCollector() {
  const socket = createSocket('udp4');
  const events: { event: RingEvent; at: number }[] = [];
  socket.on('message', (message) => {
    const event = parseRingEvent(message.toString('utf8').trimEnd());
    if (event.timestamp !== undefined) events.push({ event, at: microTime(event.timestamp) });
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, events, close: () => socket.close() };
}

/** Epoch ms of an RFC 5424 timestamp, keeping its microseconds (Date.parse keeps milliseconds). */
function microTime(timestamp: string): number {
  const micros = /\.\d{3}(\d{3})/.exec(timestamp)?.[1];
  return Date.parse(timestamp) + (micros === undefined ? 0 : Number(micros) / 1000);
}

/** One request at a time on a new connection, until `running()` is false. */
async function httpClient(port: number, running: () => boolean, tally: SoakResult['requests']) {
  const counts = tally as { ok: number; failed: number; errors: Record<string, number> };
  while (running()) {
    const outcome = await new Promise<string>((resolve) => {
      const request = get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : `HTTP ${res.statusCode}`));
        res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    if (outcome === 'ok') counts.ok++;
    else {
      counts.failed++;
      counts.errors[outcome] = (counts.errors[outcome] ?? 0) + 1;
    }
    await sleep(10);
  }
}

/**
 * Waits until worker `pid` has checked be_flip's server once (its `check_status` is no longer `INI`), so
 * that it acts on what it found rather than on the state it loaded. `show info` last: a reply from
 * another worker says so.
 */
async function firstChecks(haproxy: HaproxyInstance, pid: number): Promise<void> {
  await waitFor(`worker ${pid}'s first check of be_flip`, async () => {
    const reply = await haproxy.command('show stat be_flip 4 -1;show info');
    const header = reply.split('\n', 1)[0]?.replace(/^# /, '').split(',') ?? [];
    const row = reply
      .split('\n')
      .find((line) => line.startsWith('be_flip,s1,'))
      ?.split(',');
    const status = row?.[header.indexOf('check_status')];
    return reply.includes(`\nPid: ${pid}\n`) && status !== undefined && !/\bINI\b/.test(status)
      ? true
      : undefined;
  });
}

/** Runs one soak and returns what the peer, the clients and the agent saw. */
export async function runReloadSoak(options: SoakOptions): Promise<SoakResult> {
  const progress = options.progress ?? (() => undefined);
  const dir = await mkdtemp(join(tmpdir(), 'rhi-soak-'));
  const log = await startLogCollector();
  let backends: UnixBackends | undefined;
  let haproxy: HaproxyInstance | undefined;
  let pair: BgpPair | undefined;
  let agent: ChildProcess | undefined;
  let output = () => '';
  try {
    // On unix sockets: a stopped backend frees no TCP port that another process could take meanwhile.
    backends = await startUnixBackends(3);
    const [app1, app2, flip] = backends.paths;
    const fePort = await freePort();
    haproxy = await startHaproxy({
      masterWorker: options.style === 'master-worker',
      serverState: true,
      global: [`log 127.0.0.1:${log.port} format rfc5424 local0 notice`],
      sections: [
        ...Array.from({ length: PADDING }, (_, i) => `backend pad${i}\n    server s unix@${app1}`),
        'frontend fe_web',
        `    bind 127.0.0.1:${fePort}`,
        '    default_backend be_app',
        'backend be_app',
        `    server s1 unix@${app1} check inter 100 rise 2 fall 2`,
        `    server s2 unix@${app2} check inter 100 rise 2 fall 2`,
        'backend be_flip',
        `    server s1 unix@${flip} check inter 100 rise 1 fall 1`,
      ].join('\n'),
    });
    pair = await startBgpPair({ exports: ['vol1'], routeLog: true });
    await writeFile(join(dir, 'rules.cfg'), RULES);
    // Stricter than the defaults: no damping at all, so that a single false "down" read withdraws at once
    // and shows at the peer, and a poll every 50 ms besides the ring (2 s by default), so that many reads
    // straddle the reloads.
    await writeFile(
      join(dir, 'agent.yaml'),
      `node: { name: soak }
haproxy: { sockets: [${haproxy.adminSocket}], eventRing: events, pollIntervalMs: 50 }
bird: { socket: ${pair.node.socket}, include: ${pair.includePath}, tables: { vol1: {} } }
rules: { file: ${join(dir, 'rules.cfg')} }
allowlist: [198.18.201.0/24, 198.18.202.0/24]
damping: { rise: { count: 1, ms: 0 }, fall: { count: 1, ms: 0 }, holdDown: false }
admin: { listen: 127.0.0.1:0, socket: ${join(dir, 'admin.sock')} }
stateDir: ${dir}
`,
    );
    ({ agent, output } = await options.spawnAgent(join(dir, 'agent.yaml')));
    const all = [...STEADY, FLIP].sort();
    const peerHoldsAll = () =>
      waitFor('the peer to hold every VIP', async () =>
        JSON.stringify(await pair!.routerRoutes()) === JSON.stringify(all) ? true : undefined,
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; agent output:\n${output().slice(-3000)}`);
      });
    await peerHoldsAll();

    // A reload saves the server states first, and its new worker loads them. A change of be_flip between
    // that save and the new worker's first checks would make the new worker start from a stale state (a
    // real, if brief, "up" of a dead server): reloads and flips take turns, and a flip holds the turn
    // until HAProxy has logged its verdict.
    let turn = Promise.resolve();
    const inTurn = async <T>(fn: () => Promise<T>): Promise<T> => {
      const previous = turn;
      let release = () => undefined as void;
      turn = new Promise((resolve) => (release = resolve));
      await previous;
      try {
        return await fn();
      } finally {
        release();
      }
    };

    const workers = new Set([await haproxy.workerPid()]);
    const startedAt = Date.now();
    const requests = { ok: 0, failed: 0, errors: {} as Record<string, number> };
    let running = true;
    const clients = Array.from({ length: options.clients ?? 4 }, () =>
      httpClient(fePort, () => running, requests),
    );
    let flips = 0;
    let flipAlive = true;
    const story: { at: number; what: string }[] = [];
    const flipTo = async (alive: boolean) => {
      const from = log.events.length;
      story.push({ at: Date.now(), what: `flip ${alive ? 'start' : 'stop'}` });
      if (alive) await backends!.start(2);
      else await backends!.stop(2);
      flipAlive = alive;
      flips++;
      await waitFor(`HAProxy's verdict on be_flip ${alive ? 'up' : 'down'}`, () =>
        log.events.slice(from).some(({ event }) => {
          const verdict = ringVerdict(event);
          return verdict?.proxy === 'be_flip' && verdict.up === alive;
        })
          ? true
          : undefined,
      );
    };
    const flipper = (async () => {
      while (running) {
        await sleep(between(options.flipGapMs));
        if (running) await inTurn(() => flipTo(!flipAlive));
      }
    })();
    try {
      for (let i = 0; i < options.reloads; i++) {
        await sleep(between(options.gapMs));
        const viaMasterCli = options.style === 'master-worker' && i % 2 === 1;
        await inTurn(async () => {
          story.push({ at: Date.now(), what: 'reload' });
          const pid = await haproxy!.reload({ viaMasterCli });
          workers.add(pid);
          story.push({ at: Date.now(), what: `worker ${pid} up` });
          await firstChecks(haproxy!, pid);
        });
        if ((i + 1) % 20 === 0) progress(`${options.style}: ${i + 1}/${options.reloads} reloads`);
      }
    } finally {
      running = false;
      await Promise.allSettled([flipper, ...clients]);
    }
    if (!flipAlive) {
      // The last flip killed the server: its withdraw must reach the peer before the server comes back,
      // or the end check below could pass on the route not yet withdrawn and close the window between
      // the withdraw and the announce (one change counted, two flips made).
      await waitFor("the peer to withdraw be_flip's VIP", async () =>
        (await pair!.routerRoutes()).includes(FLIP) ? undefined : true,
      );
      await inTurn(() => flipTo(true));
    }
    await peerHoldsAll();
    // A change the agent was still making when the peer first looked whole falls inside the window too.
    await sleep(1000);
    await peerHoldsAll();
    const endedAt = Date.now();
    const seconds = (endedAt - startedAt) / 1000;

    // The peer's log, once it has caught up with its table: its last word on be_flip's VIP is the announce.
    const routeLog = await waitFor("the peer's route log to end on be_flip's VIP announced", async () => {
      const entries = (await pair!.routerRouteLog()).filter((e) => e.at >= startedAt && e.at <= endedAt);
      return entries.filter((e) => e.prefix === FLIP).at(-1)?.op === 'removed' ? undefined : entries;
    });
    const falseWithdraws = routeLog.filter((e) => STEADY.includes(e.prefix) && e.op === 'removed');
    const unexplained = routeLog.filter((e) => STEADY.includes(e.prefix) && e.op === 'added');
    const verdicts = log.events.flatMap(({ event, at }) => {
      const verdict = ringVerdict(event);
      return verdict?.proxy === 'be_flip' ? [{ at, up: verdict.up }] : [];
    });
    const decisionMs: number[] = [];
    let since = startedAt;
    for (const entry of routeLog.filter((e) => e.prefix === FLIP)) {
      const up = entry.op === 'added';
      const verdict = verdicts.find((v) => v.up === up && v.at >= since && v.at <= entry.at);
      if (verdict === undefined) unexplained.push(entry);
      else decisionMs.push(entry.at - verdict.at);
      since = entry.at;
    }
    story.push(
      ...verdicts.map((v) => ({ at: v.at, what: `HAProxy: be_flip ${v.up ? 'up' : 'down'}` })),
      ...routeLog.filter((e) => e.prefix === FLIP).map((e) => ({ at: e.at, what: `peer: ${e.op}` })),
    );
    const flipTimeline = story
      .sort((a, b) => a.at - b.at)
      .map(({ at, what }) => `${(at - startedAt).toFixed(1)} ${what}`);
    const agentWarnings: Record<string, number> = {};
    for (const line of output().split('\n')) {
      if (!line.startsWith('{')) continue;
      const record = JSON.parse(line) as { level?: number; event?: string };
      if ((record.level ?? 0) >= 40) {
        const event = record.event ?? '(no event)';
        agentWarnings[event] = (agentWarnings[event] ?? 0) + 1;
      }
    }
    return {
      style: options.style,
      reloads: options.reloads,
      seconds,
      workers: workers.size,
      falseWithdraws,
      unexplained,
      requests,
      flips,
      decisionMs,
      agentWarnings,
      flipTimeline,
    };
  } finally {
    if (agent) await options.stopAgent(agent);
    await Promise.allSettled([haproxy?.stop(), pair?.stop(), backends?.close()]);
    log.close();
    await rm(dir, { recursive: true, force: true });
  }
}
