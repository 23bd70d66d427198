import type { KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BirdClient } from '@rhi/bird-client';
import type { Command } from '@rhi/contracts';
import { HaproxyClient, watch } from '@rhi/haproxy-client';
import type { HealthSnapshot } from '@rhi/haproxy-client';
import type { Logger } from 'pino';
import { AgentMetrics } from '../admin/metrics.js';
import type { AgentConfig } from '../config/schema.js';
import { toHealthEvent } from '../adapters/haproxy-health.js';
import type { Acceptance } from '../core/accept-rule-set.js';
import type { CommandAnswer } from '../core/agent-commands.js';
import { allowlist } from '../core/allowlist.js';
import type { DrainRequest } from '../core/drain-state.js';
import { AgentLoop } from '../loop/agent-loop.js';
import type { AgentSnapshot } from '../loop/ports.js';
import { InjectorFailure } from '../loop/ports.js';
import { AssignmentFollower } from '../nats/assignment-follower.js';
import { NodeStatusStamper } from '../nats/status-stamper.js';
import type { ReadCommand } from '../nats/nats-link.js';
import { NatsLink } from '../nats/nats-link.js';
import { StateStore } from '../state/state-store.js';
import { birdPort } from './bird-port.js';
import { handleExaminedCommand } from './command-handler.js';
import { DrainKeeper } from './drain-keeper.js';
import { EventRingSink } from './event-ring-sink.js';
import { openAdmin, PreflightFailedError, readRunFiles } from './preflight.js';
import { FanoutSink } from './fanout-sink.js';
import { realClock } from './real-clock.js';
import type { RuleSetExaminer, WorkerExaminerOptions } from './rule-set-examiner.js';
import { WorkerExaminer } from './rule-set-examiner.js';
import { RuleSetKeeper } from './rule-set-keeper.js';
import { RulesFileWatcher } from './rules-file.js';

export type { DrainRequest } from '../core/drain-state.js';

/** What the agent process is given besides its config. */
export interface AgentAppOptions {
  readonly config: AgentConfig;
  readonly logger: Logger;
  readonly version: string;
  /**
   * Makes what examines new rule sets (parse or verify, hash). Default: a {@link WorkerExaminer}, off the
   * main thread; tests give one whose worker fails, the benchmark an `InlineExaminer` to compare.
   */
  readonly examiner?: (options: WorkerExaminerOptions) => RuleSetExaminer;
}

/** What {@link buildApp} wires: the options and what the preflight read (`readRunFiles`). */
export interface AgentDeps extends AgentAppOptions {
  readonly trustedKeys: ReadonlyMap<string, KeyObject>;
  readonly credentials?: Uint8Array | undefined;
  readonly nkeySeed?: Uint8Array | undefined;
}

/** The units {@link buildApp} made, which the app starts, runs and stops. */
interface AgentParts {
  readonly deps: AgentDeps;
  readonly loop: AgentLoop;
  readonly sink: FanoutSink;
  readonly metrics: AgentMetrics;
  /** `haproxy.eventRing`'s state, added to every status; null without a ring. */
  readonly ring: EventRingSink | null;
  readonly birdClients: readonly BirdClient[];
  readonly examiner: RuleSetExaminer;
  readonly store: StateStore;
  readonly haproxy: HaproxyClient;
  readonly ruleSets: RuleSetKeeper;
  readonly drains: DrainKeeper;
}

/**
 * Wires the agent from its config and ports, starting nothing: the loop behind BIRD's injector, the sinks
 * (metrics, the event ring's state, later NATS), the examiner, the state dir, and the policy units
 * (rule sets in force, drains, commands). {@link AgentApp.run} starts it.
 */
export function buildApp(deps: AgentDeps): AgentApp {
  const { config, logger } = deps;
  const sink = new FanoutSink();
  const ring =
    config.haproxy.eventRing === undefined
      ? null
      : new EventRingSink(sink, {
          ring: config.haproxy.eventRing,
          pollIntervalMs: config.haproxy.pollIntervalMs,
          logger,
          clock: realClock,
        });
  const metrics = new AgentMetrics();
  // BIRD gone from under a connection (stopped, restarted empty): checked at once, not at the next reconcile.
  const { port, clients, tables } = birdPort(config.bird, logger, () => loop.birdConnectionLost());
  const loop: AgentLoop = new AgentLoop({
    injector: port,
    sink: ring ?? sink,
    clock: realClock,
    logger,
    allowlist: allowlist(config.allowlist),
    damping: { ...config.damping, holdDown: config.damping.holdDown || null },
    reconcileIntervalMs: config.bird.reconcileIntervalMs,
    exportCheck: { intervalMs: config.bird.exportCheckIntervalMs },
    onApplied: (ms) => metrics.decisionLatency(ms / 1000),
  });
  sink.add({ status: (s) => metrics.observe(s), event: (e) => metrics.transition(e) });
  const examinerOptions: WorkerExaminerOptions = {
    limits: config.rules.limits,
    allowlist: config.allowlist,
    trustedKeys: deps.trustedKeys,
    timeoutMs: config.rules.worker.timeoutMs,
    maxHeapMb: config.rules.worker.maxHeapMb,
    idleMs: config.rules.worker.idleMs,
    minRules: config.rules.worker.minRules,
    logger,
  };
  const examiner = (deps.examiner ?? ((o) => new WorkerExaminer(o)))(examinerOptions);
  const store = new StateStore(config.stateDir);
  const haproxy = new HaproxyClient({
    socket: config.haproxy.sockets[0] ?? '',
    timeoutMs: config.haproxy.timeoutMs,
    logger,
  });
  // Set once the app exists: a new selection restarts its feed.
  let app: AgentApp | null = null;
  const ruleSets = new RuleSetKeeper({
    rules: config.rules,
    examiner,
    haproxy,
    birdTables: tables,
    loop,
    store,
    logger,
    onSelection: () => app?.selectionChanged(),
    onInventory: (snapshot) => app?.inventory(snapshot),
  });
  const drains = new DrainKeeper({ loop, store, logger, now: () => new Date() });
  app = new AgentApp({
    deps,
    loop,
    sink,
    metrics,
    ring,
    birdClients: clients,
    examiner,
    store,
    haproxy,
    ruleSets,
    drains,
  });
  return app;
}

/**
 * The agent process, the composition root: {@link buildApp} wires it, {@link AgentApp.run} starts the admin
 * endpoints, the loop, the state, HAProxy's health feed, NATS and the rules file watch, in that order. The
 * failover path (feed -> loop -> BIRD) never waits on NATS or disk.
 */
export class AgentApp {
  private readonly abort = new AbortController();
  private feedAbort: AbortController | null = null;
  private nats: NatsLink | null = null;
  private follower: AssignmentFollower | null = null;
  private admin: Server | null = null;
  private control: Server | null = null;
  private watcher: RulesFileWatcher | null = null;
  private feed: Promise<void> = Promise.resolve();
  adminAddress: AddressInfo | null = null;
  readonly loop: AgentLoop;
  readonly metrics: AgentMetrics;
  /** Numbers the statuses of NATS and `GET /status` from one counter. */
  private readonly stamper: NodeStatusStamper;

  constructor(private readonly parts: AgentParts) {
    this.loop = parts.loop;
    this.metrics = parts.metrics;
    const { config, version } = parts.deps;
    this.stamper = new NodeStatusStamper({
      node: config.node.name,
      labels: config.node.labels,
      agentVersion: version,
      allowlist: config.allowlist,
    });
  }

  /**
   * Reads the files the agent needs besides its config (the preflight), builds the agent and runs it;
   * resolves once it runs (not once NATS or HAProxy answer).
   */
  static async start(options: AgentAppOptions): Promise<AgentApp> {
    // What `rhi-agent check` checks first: a problem here stops the agent before it changes anything.
    const { files, problems } = await readRunFiles(options.config);
    if (problems.length) throw new PreflightFailedError(problems);
    const app = buildApp({ ...options, ...files });
    await app.run();
    return app;
  }

  /** Starts what {@link buildApp} wired, once. */
  async run(): Promise<void> {
    const { config, logger, version } = this.parts.deps;
    // First: an agent that cannot open its admin endpoints stops before it has announced anything.
    await this.startAdmin();
    await this.loop.start();
    await this.restoreState();
    this.startFeed();
    this.startNats();
    await this.watchRulesFile();
    logger.info({ event: 'agentStarted', version, node: config.node.name }, 'rhi-agent running');
  }

  snapshot(): AgentSnapshot {
    const s = this.loop.snapshot();
    return this.parts.ring ? this.parts.ring.decorate(s) : s;
  }

  private get logger(): Logger {
    return this.parts.deps.logger;
  }

  private async restoreState(): Promise<void> {
    const { store, drains, ruleSets } = this.parts;
    const problems: { file: string; reason: string }[] = [];
    const persisted = await store.loadRuleSet(problems);
    const drain = await store.loadDrain(problems);
    for (const p of problems)
      this.logger.warn({ event: 'stateUnreadable', file: p.file, reason: p.reason }, 'ignoring a state file');
    // Drained before the first plan: a node drained before a restart must not announce for a moment.
    drains.restore(drain);
    await ruleSets.restore(persisted);
  }

  /**
   * Re-reads the rules file (SIGHUP or boot; a change the watcher saw settle comes with its `text`); a bad
   * file changes nothing.
   */
  reloadRules(why: string, given?: Uint8Array): Promise<Acceptance | null> {
    return this.parts.ruleSets.reloadRules(why, given);
  }

  /** A change is taken once the file stayed the same for `rules.settleMs`, or at once when renamed into place. */
  private async watchRulesFile(): Promise<void> {
    const { rules } = this.parts.deps.config;
    if (!rules.file) return;
    this.watcher = new RulesFileWatcher({
      file: rules.file,
      settleMs: rules.settleMs,
      maxBytes: rules.limits.maxBytes,
      logger: this.logger,
      take: (text) => void this.reloadRules('file changed', text),
    });
    await this.watcher.start();
  }

  /** {@link buildApp}'s hook: the rule set now in force names other proxies, so a running feed restarts on them. */
  /** HAProxy's every proxy from a full read: the health reports carry their names. */
  inventory(snapshot: HealthSnapshot): void {
    this.nats?.inventory({
      pid: snapshot.process.pid,
      frontends: Object.keys(snapshot.frontends).sort(),
      backends: Object.keys(snapshot.backends).sort(),
    });
  }

  selectionChanged(): void {
    if (this.feedAbort) this.startFeed();
  }

  /** (Re)starts the health feed on the current selection; a replaced feed's late events are dropped. */
  private startFeed(): void {
    const { config } = this.parts.deps;
    this.feedAbort?.abort();
    const own = new AbortController();
    this.feedAbort = own;
    const signal = AbortSignal.any([this.abort.signal, own.signal]);
    const { proxies, withServers } = this.parts.ruleSets.selection;
    const feed = (async () => {
      for await (const event of watch(this.parts.haproxy, {
        intervalMs: config.haproxy.pollIntervalMs,
        graceMs: config.haproxy.reloadGraceMs,
        signal,
        proxies,
        withServers,
        // Connection counts matter only while a drain waits for them to fall.
        trackSessions: () => this.loop.waitingForSessions,
        logger: this.logger,
        ...(config.haproxy.eventRing ? { eventsRing: config.haproxy.eventRing } : {}),
        onEventsRing: (s) =>
          this.parts.ring?.report(
            s.following
              ? { following: true, pid: s.pid }
              : { following: false, pid: s.pid, code: s.error.code, message: s.error.message },
          ),
      })) {
        if (signal.aborted) break;
        this.loop.onHealth(toHealthEvent(event, this.logger));
      }
    })().catch((err: unknown) => {
      if (!signal.aborted) this.logger.fatal({ event: 'feedFailed', err }, 'the HAProxy health feed stopped');
    });
    this.feed = Promise.all([this.feed, feed]).then(() => undefined);
  }

  /**
   * The reads on TCP (`admin.listen`), and the reads and controls on the control socket (`admin.socket`),
   * opened as `rhi-agent check` opens them; a {@link PreflightFailedError} says why they cannot be.
   */
  private async startAdmin(): Promise<void> {
    const endpoints = await openAdmin(this.parts.deps.config.admin, {
      metrics: this.metrics,
      snapshot: () => this.snapshot(),
      status: () => this.stamper.next(this.snapshot()),
      ruleSet: () => this.loop.ruleSetInForce,
      drain: (request: DrainRequest) => this.drain(request),
      undrain: () => this.undrain(),
    });
    this.admin = endpoints.tcp;
    this.adminAddress = endpoints.address;
    this.control = endpoints.control;
  }

  private startNats(): void {
    const { config, version, credentials, nkeySeed } = this.parts.deps;
    const nats = config.nats;
    if (!nats) return;
    // With rules.fromController, the rule set assigned in JetStream is followed as well as pushes.
    const follower = config.rules.fromController
      ? new AssignmentFollower({
          node: config.node.name,
          pollMs: nats.assignmentPollMs,
          ruleSets: this.parts.ruleSets,
          examiner: this.parts.examiner,
          logger: this.logger,
        })
      : null;
    this.follower = follower;
    const tls = nats.tls && {
      ...(nats.tls.ca ? { caFile: nats.tls.ca } : {}),
      ...(nats.tls.cert ? { certFile: nats.tls.cert } : {}),
      ...(nats.tls.key ? { keyFile: nats.tls.key } : {}),
    };
    this.nats = new NatsLink({
      node: config.node.name,
      labels: config.node.labels,
      agentVersion: version,
      stamper: this.stamper,
      servers: nats.servers,
      ...(nats.user === undefined ? {} : { user: nats.user, password: nats.password ?? '' }),
      ...(nats.token === undefined ? {} : { token: nats.token }),
      ...(credentials ? { credentials } : {}),
      ...(nkeySeed ? { nkeySeed } : {}),
      ...(tls ? { tls } : {}),
      heartbeatMs: nats.heartbeatMs,
      logger: this.logger,
      readCommand: (bytes) => this.readCommand(bytes),
      onConnection: (up) => this.metrics.natsConnected(up),
      ...(follower ? { onConnect: (nc) => follower.connected(nc) } : {}),
    });
    this.parts.sink.add(this.nats);
    this.nats.start();
  }

  /**
   * Reads a command from NATS's bytes where rule sets are examined (the worker, unless it is small), so
   * that a pushed rule set is neither parsed, checked, copied nor encoded on the main thread; then says
   * how to carry it out.
   */
  async readCommand(bytes: Uint8Array): Promise<ReadCommand> {
    const { deps, ruleSets, drains, examiner } = this.parts;
    const read = await examiner.examineCommand(bytes);
    if (read.kind === 'refused') return { ok: false, id: read.id, reason: read.reason };
    const ports = { fromController: deps.config.rules.fromController, ruleSets, drains };
    return {
      ok: true,
      id: read.kind === 'command' ? read.command.id : read.id,
      op: read.kind === 'command' ? read.command.type : 'ruleset',
      run: () => handleExaminedCommand(read, ports),
    };
  }

  /**
   * Carries out a command as if it came from NATS: its JSON read as {@link readCommand} reads a
   * command's bytes (for tests and tools).
   */
  async command(command: Command): Promise<CommandAnswer> {
    const read = await this.readCommand(new TextEncoder().encode(JSON.stringify(command)));
    return read.ok ? read.run() : { result: 'rejected', reason: read.reason };
  }

  drain(request: DrainRequest): Promise<void> {
    return this.parts.drains.drain(request);
  }

  undrain(): Promise<void> {
    return this.parts.drains.undrain();
  }

  /** A clean stop: withdraws this node's routes first unless configured otherwise, then closes everything. */
  async stop(): Promise<void> {
    const withdraw = this.parts.deps.config.policies.withdrawOnStop;
    this.logger.info(
      { event: 'agentStopping', withdraw },
      withdraw ? 'stopping: withdrawing routes first' : 'stopping: leaving routes in BIRD',
    );
    this.abort.abort();
    this.watcher?.close();
    this.follower?.close();
    try {
      await this.loop.stop(withdraw);
    } catch (err) {
      const config = err instanceof InjectorFailure && err.kind === 'config';
      this.logger.error(
        { event: config ? 'birdConfigError' : 'birdUnreachable', op: 'withdrawOnStop', err },
        'could not withdraw the routes before stopping',
      );
    }
    await this.parts.examiner.close();
    await this.feed;
    await this.nats?.close();
    for (const client of this.parts.birdClients) client.close();
    await Promise.all(
      [this.admin, this.control].map(
        (server) =>
          new Promise<void>((resolve) => {
            if (!server) return resolve();
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }
}
