import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BirdClient } from '@rhi/bird-client';
import type { Ack, Command } from '@rhi/contracts';
import type { HealthSnapshot } from '@rhi/haproxy-client';
import { HaproxyClient, watch } from '@rhi/haproxy-client';
import type { Logger } from 'pino';
import { AgentMetrics } from '../admin/metrics.js';
import type { AgentConfig } from '../config/schema.js';
import { snapshotEvent, toHealthEvent } from '../adapters/haproxy-health.js';
import type { Acceptance, Examination, TableView } from '../core/accept-rule-set.js';
import { judgeCandidate } from '../core/accept-rule-set.js';
import { allowlist } from '../core/allowlist.js';
import type { FeedSelection } from '../core/feed-selection.js';
import { feedSelection, sameSelection } from '../core/feed-selection.js';
import { AgentLoop } from '../loop/agent-loop.js';
import type { AgentSnapshot } from '../loop/ports.js';
import { InjectorFailure } from '../loop/ports.js';
import { NatsLink } from '../nats/nats-link.js';
import { StateStore } from '../state/state-store.js';
import { birdPort } from './bird-port.js';
import { EventRingSink } from './event-ring-sink.js';
import { openAdmin, PreflightFailedError, readRunFiles } from './preflight.js';
import { FanoutSink } from './fanout-sink.js';
import { realClock } from './real-clock.js';
import type { RuleSetExaminer, WorkerExaminerOptions } from './rule-set-examiner.js';
import { WorkerExaminer } from './rule-set-examiner.js';
import { RulesFileWatcher, readBounded } from './rules-file.js';

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

/** Drain and undrain requests, from the admin endpoint or NATS. */
export interface DrainRequest {
  readonly reason?: string;
  readonly waitSessions?: number;
  readonly timeoutMs?: number;
}

/**
 * The agent process: wires HAProxy's health feed, the rules, the loop, BIRD, NATS, the state directory and
 * the admin endpoint. The failover path (feed -> loop -> BIRD) never waits on NATS or disk.
 */
export class AgentApp {
  private readonly abort = new AbortController();
  private readonly store: StateStore;
  private readonly haproxy: HaproxyClient;
  /** What the feed reads: the proxies the rule set in force names. */
  private selection: FeedSelection = feedSelection(null);
  private feedAbort: AbortController | null = null;
  /** Rule sets are judged and applied one at a time. */
  private judging: Promise<unknown> = Promise.resolve();
  private current: { hash: string; serial: number; fromController: boolean } | null = null;
  private nats: NatsLink | null = null;
  private admin: Server | null = null;
  private control: Server | null = null;
  private watcher: RulesFileWatcher | null = null;
  private feed: Promise<void> = Promise.resolve();
  /** `haproxy.eventRing`'s state, added to every status; null without a ring. */
  private ring: EventRingSink | null = null;
  adminAddress: AddressInfo | null = null;

  private constructor(
    private readonly options: AgentAppOptions,
    readonly loop: AgentLoop,
    private readonly sink: FanoutSink,
    readonly metrics: AgentMetrics,
    private readonly birdClients: readonly BirdClient[],
    /** The injector's tables for the rule-set check, with BIRD's symbols read at that moment. */
    private readonly birdTables: () => Promise<TableView>,
    private readonly examiner: RuleSetExaminer,
  ) {
    this.store = new StateStore(options.config.stateDir);
    this.haproxy = new HaproxyClient({
      socket: options.config.haproxy.sockets[0] ?? '',
      timeoutMs: options.config.haproxy.timeoutMs,
      logger: options.logger,
    });
  }

  /** Builds and starts everything; resolves once the agent runs (not once NATS or HAProxy answer). */
  static async start(options: AgentAppOptions): Promise<AgentApp> {
    const { config, logger } = options;
    // What `rhi-agent check` checks first: a problem here stops the agent before it changes anything.
    const { files, problems } = await readRunFiles(config);
    if (problems.length) throw new PreflightFailedError(problems);
    const { trustedKeys, credentials } = files;
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
    const { port, clients, tables } = birdPort(config.bird, logger);
    const loop = new AgentLoop({
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
    const examinerOptions: WorkerExaminerOptions = {
      limits: config.rules.limits,
      allowlist: config.allowlist,
      trustedKeys,
      timeoutMs: config.rules.worker.timeoutMs,
      maxHeapMb: config.rules.worker.maxHeapMb,
      idleMs: config.rules.worker.idleMs,
      minRules: config.rules.worker.minRules,
      logger,
    };
    const examiner = (options.examiner ?? ((o) => new WorkerExaminer(o)))(examinerOptions);
    const app = new AgentApp(options, loop, sink, metrics, clients, tables, examiner);
    app.ring = ring;
    sink.add({ status: (s) => metrics.observe(s), event: (e) => metrics.transition(e) });
    // First: an agent that cannot open its admin endpoints stops before it has announced anything.
    await app.startAdmin();
    await loop.start();
    await app.restoreState();
    app.startFeed();
    app.startNats(credentials);
    await app.watchRulesFile();
    logger.info(
      { event: 'agentStarted', version: options.version, node: config.node.name },
      'rhi-agent running',
    );
    return app;
  }

  snapshot(): AgentSnapshot {
    const s = this.loop.snapshot();
    return this.ring ? this.ring.decorate(s) : s;
  }

  private get logger(): Logger {
    return this.options.logger;
  }

  private async restoreState(): Promise<void> {
    const { config } = this.options;
    const problems: { file: string; reason: string }[] = [];
    const persisted = await this.store.loadRuleSet(problems);
    const drain = await this.store.loadDrain(problems);
    for (const p of problems)
      this.logger.warn({ event: 'stateUnreadable', file: p.file, reason: p.reason }, 'ignoring a state file');
    // Drained before the first plan: a node drained before a restart must not announce for a moment.
    if (drain?.drained) this.loop.drain(drain.reason ?? 'drained before restart');
    if (config.rules.fromController && persisted?.source === 'controller') {
      await this.judge(() => this.examiner.examineSigned(persisted.envelope), 'persisted');
    }
    if (!this.current && config.rules.file) await this.reloadRules('boot');
    if (!this.current && persisted?.source === 'file') {
      await this.judge(
        () => this.examiner.examineFile(persisted.text, `${persisted.file} (last good copy)`),
        'persisted',
      );
    }
    if (!this.current)
      this.logger.warn({ event: 'noRuleSet' }, 'no rule set yet: nothing is advertised until one arrives');
  }

  /**
   * Judges a rule set and applies it when good, one rule set at a time: examined by the examiner (in the
   * worker: parse or verify, hash) while HAProxy is read, then checked against every proxy HAProxy has
   * (one unfiltered read: the feed reads only the rule set in force's proxies) and BIRD's tables. The same
   * read seeds the loop, so the new rules never meet a snapshot that lacks their proxies.
   */
  private judge(
    examine: () => Promise<Examination>,
    source: 'file' | 'controller' | 'persisted',
  ): Promise<Acceptance> {
    const run = this.judging.then(async () => {
      const [examination, health, tables] = await Promise.all([
        examine(),
        this.readEverything(),
        this.birdTables(),
      ]);
      const verdict = this.accept(() =>
        judgeCandidate(examination, {
          current: this.current,
          allowlist: this.loop.allowlist,
          health: health && { frontends: health.frontends, backends: health.backends },
          allowUnknownProxies: this.options.config.rules.allowUnknownProxies,
          allowEmpty: this.options.config.rules.allowEmpty,
          tables,
        }),
      );
      if (verdict.ok) this.apply(verdict, source, health);
      return verdict;
    });
    this.judging = run.catch(() => undefined);
    return run;
  }

  /** Every proxy, servers included; null when HAProxy cannot be read (the unknown-proxy check is then skipped). */
  private async readEverything(): Promise<HealthSnapshot | null> {
    try {
      return await this.haproxy.readHealth();
    } catch (err) {
      this.logger.warn(
        { event: 'haproxyReadFailed', op: 'judgeRuleSet', err },
        'cannot read HAProxy to check the rule set; proxies are not checked',
      );
      return null;
    }
  }

  private accept(judge: () => Acceptance): Acceptance {
    const verdict = judge();
    if (!verdict.ok) {
      this.logger.error(
        { event: 'ruleSetRejected', code: verdict.code, reason: verdict.reason },
        'rule set rejected; the last good one stays',
      );
      this.loop.notify({ event: 'ruleSetRejected', reason: `${verdict.code}: ${verdict.reason}` });
    } else {
      for (const w of verdict.warnings) this.logger.warn({ event: 'ruleSetWarning', reason: w }, w);
    }
    return verdict;
  }

  private apply(
    verdict: Extract<Acceptance, { ok: true }>,
    source: 'file' | 'controller' | 'persisted',
    health: HealthSnapshot | null,
  ): void {
    if (verdict.unchanged && this.current) return;
    const fromController = source === 'controller' || (source === 'persisted' && verdict.serial > 0);
    this.current = { hash: verdict.hash, serial: verdict.serial, fromController };
    if (health) this.loop.onHealth(snapshotEvent(health));
    this.loop.setRuleSet(verdict.ruleSet, { source, serial: verdict.serial });
    // Worked out in the worker: reading the rules here would build them as objects.
    const selection = verdict.selection;
    if (!sameSelection(selection, this.selection)) {
      this.selection = selection;
      if (this.feedAbort) this.startFeed();
    }
  }

  /**
   * Re-reads the rules file (SIGHUP or boot; a change the watcher saw settle comes with its `text`); a bad
   * file changes nothing.
   */
  async reloadRules(why: string, given?: Uint8Array): Promise<Acceptance | null> {
    const file = this.options.config.rules.file;
    if (!file) return null;
    if (this.current?.fromController) {
      // The controller's rule set has precedence; the file is the fallback for when none was pushed.
      this.logger.info(
        { event: 'rulesFileIgnored', file, reason: why },
        'a controller rule set is in force; the rules file is not used',
      );
      return null;
    }
    // Bytes, not decoded: the worker decodes them (4 MiB cost the main thread 15 ms to decode).
    let text: Uint8Array;
    try {
      text = given ?? (await readBounded(file, this.options.config.rules.limits.maxBytes));
    } catch (err) {
      this.logger.error(
        { event: 'ruleSetRejected', op: 'read', file, err },
        `cannot read the rules file (${why})`,
      );
      return null;
    }
    // The state file's text is made where the text is: in the worker.
    let persisted: Uint8Array | undefined;
    const verdict = await this.judge(async () => {
      const examination = await this.examiner.examineFile(text, file, { persist: true });
      persisted = examination.persisted;
      return examination;
    }, 'file');
    if (verdict.ok && !verdict.unchanged && persisted) {
      void this.store
        .saveRuleSet(persisted)
        .catch((err: unknown) =>
          this.logger.warn(
            { event: 'stateWriteFailed', op: 'saveRuleSet', err },
            'cannot persist the rule set',
          ),
        );
    }
    return verdict;
  }

  /** A change is taken once the file stayed the same for `rules.settleMs`, or at once when renamed into place. */
  private async watchRulesFile(): Promise<void> {
    const file = this.options.config.rules.file;
    if (!file) return;
    this.watcher = new RulesFileWatcher({
      file,
      settleMs: this.options.config.rules.settleMs,
      maxBytes: this.options.config.rules.limits.maxBytes,
      logger: this.logger,
      take: (text) => void this.reloadRules('file changed', text),
    });
    await this.watcher.start();
  }

  /** (Re)starts the health feed on the current selection; a replaced feed's late events are dropped. */
  private startFeed(): void {
    const { config } = this.options;
    this.feedAbort?.abort();
    const own = new AbortController();
    this.feedAbort = own;
    const signal = AbortSignal.any([this.abort.signal, own.signal]);
    const { proxies, withServers } = this.selection;
    const feed = (async () => {
      for await (const event of watch(this.haproxy, {
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
          this.ring?.report(
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
    const endpoints = await openAdmin(this.options.config.admin, {
      metrics: this.metrics,
      snapshot: () => this.snapshot(),
      ruleSet: () => this.loop.ruleSetInForce,
      drain: (request: DrainRequest) => this.drain(request),
      undrain: () => this.undrain(),
    });
    this.admin = endpoints.tcp;
    this.adminAddress = endpoints.address;
    this.control = endpoints.control;
  }

  private startNats(credentials: Uint8Array | undefined): void {
    const { config, version } = this.options;
    const nats = config.nats;
    if (!nats) return;
    const tls = nats.tls && {
      ...(nats.tls.ca ? { caFile: nats.tls.ca } : {}),
      ...(nats.tls.cert ? { certFile: nats.tls.cert } : {}),
      ...(nats.tls.key ? { keyFile: nats.tls.key } : {}),
    };
    this.nats = new NatsLink({
      node: config.node.name,
      labels: config.node.labels,
      agentVersion: version,
      servers: nats.servers,
      ...(nats.user === undefined ? {} : { user: nats.user, password: nats.password ?? '' }),
      ...(nats.token === undefined ? {} : { token: nats.token }),
      ...(credentials ? { credentials } : {}),
      ...(tls ? { tls } : {}),
      heartbeatMs: nats.heartbeatMs,
      logger: this.logger,
      onCommand: (command) => this.command(command),
      onConnection: (up) => this.metrics.natsConnected(up),
    });
    this.sink.add(this.nats);
    this.nats.start();
  }

  /** Carries out a command from the controller. */
  async command(command: Command): Promise<Pick<Ack, 'result' | 'reason'>> {
    switch (command.type) {
      case 'ruleset': {
        if (!this.options.config.rules.fromController) {
          return {
            result: 'rejected',
            reason: 'this agent does not take rule sets from the controller (rules.fromController)',
          };
        }
        const verdict = await this.judge(() => this.examiner.examineSigned(command.ruleSet), 'controller');
        if (!verdict.ok) return { result: 'rejected', reason: `${verdict.code}: ${verdict.reason}` };
        await this.store
          .saveRuleSet({
            schema: 'rhi.v1.persisted-ruleset',
            source: 'controller',
            envelope: command.ruleSet,
          })
          .catch((err: unknown) =>
            this.logger.warn(
              { event: 'stateWriteFailed', op: 'saveRuleSet', err },
              'cannot persist the rule set',
            ),
          );
        return verdict.warnings.length
          ? { result: 'applied', reason: verdict.warnings.join('; ') }
          : { result: 'applied' };
      }
      case 'drain':
        await this.drain({
          ...(command.reason === undefined ? {} : { reason: command.reason }),
          ...(command.waitSessions === undefined ? {} : { waitSessions: command.waitSessions }),
          ...(command.timeoutSec === undefined ? {} : { timeoutMs: command.timeoutSec * 1000 }),
        });
        return { result: 'applied' };
      case 'undrain':
        await this.undrain();
        return { result: 'applied' };
    }
  }

  async drain(request: DrainRequest): Promise<void> {
    const reason = request.reason ?? 'drain requested';
    this.loop.drain(reason, {
      ...(request.waitSessions === undefined ? {} : { waitSessions: request.waitSessions }),
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
    });
    await this.store
      .saveDrain({ schema: 'rhi.v1.drain', drained: true, reason, since: new Date().toISOString() })
      .catch((err: unknown) =>
        this.logger.warn(
          { event: 'stateWriteFailed', op: 'saveDrain', err },
          'cannot persist the drain state',
        ),
      );
  }

  async undrain(): Promise<void> {
    this.loop.undrain();
    await this.store
      .saveDrain({ schema: 'rhi.v1.drain', drained: false, since: new Date().toISOString() })
      .catch((err: unknown) =>
        this.logger.warn(
          { event: 'stateWriteFailed', op: 'saveDrain', err },
          'cannot persist the drain state',
        ),
      );
  }

  /** A clean stop: withdraws this node's routes first unless configured otherwise, then closes everything. */
  async stop(): Promise<void> {
    const withdraw = this.options.config.policies.withdrawOnStop;
    this.logger.info(
      { event: 'agentStopping', withdraw },
      withdraw ? 'stopping: withdrawing routes first' : 'stopping: leaving routes in BIRD',
    );
    this.abort.abort();
    this.watcher?.close();
    try {
      await this.loop.stop(withdraw);
    } catch (err) {
      const config = err instanceof InjectorFailure && err.kind === 'config';
      this.logger.error(
        { event: config ? 'birdConfigError' : 'birdUnreachable', op: 'withdrawOnStop', err },
        'could not withdraw the routes before stopping',
      );
    }
    await this.examiner.close();
    await this.feed;
    await this.nats?.close();
    for (const client of this.birdClients) client.close();
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
