import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { subjects, type RolloutRecord } from '@rhi/contracts';
import { dashboardAssets } from '@rhi/dashboard';
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { minimumFor, type ControllerConfig } from './config/schema.js';
import { loadSigningKey } from './config/signing-key.js';
import { DropLog } from './drop-log.js';
import { HealthBook } from './fleet/health.js';
import { parseJson } from './fleet/judge.js';
import { StatusRequests } from './fleet/status-requests.js';
import { TransitionWindow } from './fleet/transitions.js';
import { buildApp } from './http/app.js';
import { ControllerMetrics } from './metrics.js';
import { ensureAckStream, followAcks } from './nats/ack-stream.js';
import { AlertPublisher, ensureAlertBucket } from './nats/alert-publisher.js';
import { probeJetStream, QuorumState } from './nats/jetstream-probe.js';
import { watchAssignments } from './nats/assignment-watch.js';
import { ensureLeaseBucket, KvLease } from './nats/kv-lease.js';
import { NatsNodeCommands } from './nats/node-commands.js';
import { NatsRolloutEffects } from './nats/rollout-effects.js';
import { watchRollouts } from './nats/rollout-watch.js';
import { ensureRolloutBucket, JetStreamRolloutStore } from './nats/rollout-store.js';
import { ensureRuleSetBucket, JetStreamRuleSetStore } from './nats/rule-set-store.js';
import {
  ensureHealthStream,
  ensureHeartbeatStream,
  ensureStatusStream,
  followHealth,
  followHeartbeats,
  followStatuses,
} from './nats/status-stream.js';
import { ensureTimeline, JetStreamTimeline } from './nats/timeline.js';
import { followTransitions } from './nats/transition-follower.js';
import type { NatsHealth, NodeCommandsPort, RolloutStorePort, RuleSetStore, Timeline } from './ports.js';
import { DrainService } from './rollouts/drain-service.js';
import { rolloutProgress } from './rollout/progress.js';
import { RolloutRunner } from './rollouts/rollout-runner.js';
import { RolloutService } from './rollouts/rollout-service.js';
import { RuleSetService } from './rulesets/rule-set-service.js';
import { RuleSetStates } from './rulesets/rule-set-states.js';
import { FleetView } from './view/fleet-view.js';

/** What the controller process is given. */
export interface RuntimeOptions {
  readonly config: ControllerConfig;
  readonly logger: Logger;
  readonly version: string;
}

/**
 * The controller process: the API first (it says why while NATS is away), then NATS, the streams, the
 * status follower and the alert timer. Everything it knows comes from JetStream; a restart loses nothing.
 */
export class ControllerRuntime {
  private readonly abort = new AbortController();
  private nc: NatsConnection | null = null;
  private connection: NatsHealth = { up: false, reason: 'not connected yet' };
  /** Whether JetStream takes writes while the connection is up (a cluster can lose its quorum). */
  private readonly quorum = new QuorumState();
  private probingJetStream: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private readonly drops = new DropLog(10_000);
  private readonly transitions: TransitionWindow;
  private readonly requests: StatusRequests;
  private following: Promise<void> = Promise.resolve();
  private followingHealth: Promise<void> = Promise.resolve();
  private followingHeartbeats: Promise<void> = Promise.resolve();
  private readonly healthDrops = new DropLog(10_000);
  private readonly ackDrops = new DropLog(10_000);
  private followingAcks: Promise<void> = Promise.resolve();
  private watchingAssignments: Promise<void> = Promise.resolve();
  private lease: KvLease | null = null;
  private ruleSetStore: RuleSetStore | null = null;
  private rolloutStore: RolloutStorePort | null = null;
  private commands: NodeCommandsPort | null = null;
  private runner: RolloutRunner | null = null;
  private runningRollouts: Promise<void> = Promise.resolve();
  private watchingRollouts: Promise<void> = Promise.resolve();
  private readonly rolloutDrops = new DropLog(10_000);
  /** Whether the acks follower has delivered what the stream held at start: a rollout may be judged. */
  private acksCaughtUp = false;
  private publisher: AlertPublisher | null = null;
  /** Whether the status follower has delivered what the stream held at start: alerts mean something. */
  private caughtUp = false;
  /** Whether the heartbeat follower has too: a node's liveness means something. */
  private heartbeatsCaughtUp = false;
  private followingTransitions: Promise<void> = Promise.resolve();
  /** Whether the flapping window holds the transitions the events stream had at start. */
  private transitionsCaughtUp = false;
  /** This replica's name in the lease. */
  readonly replicaId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  address: AddressInfo | null = null;

  private constructor(
    private readonly options: RuntimeOptions,
    readonly view: FleetView,
    readonly health: HealthBook,
    readonly ruleSetStates: RuleSetStates,
    private readonly metrics: ControllerMetrics,
    private readonly app: FastifyInstance,
    private readonly rulesets: RuleSetService,
  ) {
    this.transitions = new TransitionWindow(options.config.fleet.flapping.windowMs);
    const { heartbeatMs } = options.config.fleet;
    this.requests = new StatusRequests({ graceMs: heartbeatMs / 2, retryMs: 5 * heartbeatMs });
  }

  static async start(options: RuntimeOptions): Promise<ControllerRuntime> {
    const { config, logger, version } = options;
    const view = new FleetView({
      heartbeatMs: config.fleet.heartbeatMs,
      minimum: minimumFor(config.fleet.minimumAdvertisers),
      now: () => Date.now(),
    });
    const metrics = new ControllerMetrics(view);
    const health = new HealthBook();
    const ruleSetStates = new RuleSetStates();
    // Read before anything listens: a controller that cannot sign does not start half-way.
    const key = config.rules ? await loadSigningKey(config.rules) : null;
    if (key?.exposedMode)
      logger.warn(
        { event: 'signingKeyExposed', file: config.rules?.signingKey, mode: key.exposedMode },
        `the signing key ${config.rules?.signingKey} is readable by others (mode ${key.exposedMode}): chmod 0600 it`,
      );
    let runtime: ControllerRuntime | null = null;
    const rulesets = new RuleSetService({
      store: () => (runtime?.natsHealth.up ? runtime.ruleSetStore : null),
      key,
      view,
      health: (node) => health.get(node),
      minimum: minimumFor(config.fleet.minimumAdvertisers),
    });
    const timeline: Timeline = {
      query: (q) => {
        const nc = runtime?.nc;
        if (!nc) throw new Error('NATS is not connected');
        return new JetStreamTimeline(nc).query(q);
      },
    };
    const rollouts = new RolloutService({
      store: () => (runtime?.natsHealth.up ? runtime.rolloutStore : null),
      rulesets,
      view,
    });
    const drains = new DrainService({
      commands: () => (runtime?.natsHealth.up ? runtime.commands : null),
      view,
      minimum: minimumFor(config.fleet.minimumAdvertisers),
    });
    const app = buildApp({
      view,
      health,
      timeline,
      nats: () => runtime?.natsHealth ?? { up: false, reason: 'starting' },
      tokens: config.api.tokens,
      metrics: () => metrics.render(),
      rulesets,
      ...(key ? { rollouts } : {}),
      drains,
      ruleSetStates,
      page: dashboardAssets,
      logger,
      version,
    });
    runtime = new ControllerRuntime(options, view, health, ruleSetStates, metrics, app, rulesets);
    const [host, port] = splitListen(config.api.listen);
    await app.listen({ host, port });
    runtime.address = app.server.address() as AddressInfo;
    runtime.startAlerts();
    void runtime.connect();
    logger.info({ event: 'controllerStarted', version, listen: config.api.listen }, 'rhi-controller running');
    return runtime;
  }

  private get logger(): Logger {
    return this.options.logger;
  }

  /** Connects (retrying forever), sets up the streams and follows the statuses. */
  private async connect(): Promise<void> {
    const { nats } = this.options.config;
    for (let attempt = 0; !this.abort.signal.aborted; attempt++) {
      try {
        const creds = nats.credentials ? await readFile(nats.credentials) : undefined;
        const seed = nats.nkeyFile ? (await readFile(nats.nkeyFile, 'utf8')).trim() : undefined;
        const nc = await connect({
          servers: nats.servers,
          name: 'rhi-controller',
          ...(nats.user === undefined ? {} : { user: nats.user, pass: nats.password ?? '' }),
          ...(nats.token === undefined ? {} : { token: nats.token }),
          ...(creds ? { authenticator: credsAuthenticator(creds) } : {}),
          ...(seed ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)) } : {}),
          ...(nats.tls
            ? {
                tls: {
                  ...(nats.tls.ca ? { caFile: nats.tls.ca } : {}),
                  ...(nats.tls.cert ? { certFile: nats.tls.cert } : {}),
                  ...(nats.tls.key ? { keyFile: nats.tls.key } : {}),
                },
              }
            : {}),
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
        });
        this.nc = nc;
        await ensureStatusStream(nc, {
          replicas: nats.replicas,
          maxAgeMs: this.options.config.fleet.statusRetentionMs,
        });
        await ensureHeartbeatStream(nc, {
          replicas: nats.replicas,
          maxAgeMs: this.options.config.fleet.statusRetentionMs,
        });
        await ensureHealthStream(nc, {
          replicas: nats.replicas,
          maxAgeMs: this.options.config.fleet.statusRetentionMs,
        });
        await ensureTimeline(nc, {
          replicas: nats.replicas,
          retentionMs: this.options.config.fleet.eventRetentionMs,
        });
        const ttlMs = this.options.config.fleet.leaseTtlMs;
        const leaseKv = await ensureLeaseBucket(nc, { ttlMs, replicas: nats.replicas });
        const alertKv = await ensureAlertBucket(nc, { replicas: nats.replicas });
        const ruleSetKv = await ensureRuleSetBucket(nc, { replicas: nats.replicas });
        this.ruleSetStore = new JetStreamRuleSetStore(ruleSetKv, () => nc.info?.max_payload ?? 1024 * 1024);
        this.commands = new NatsNodeCommands(nc);
        const rolloutKv = await ensureRolloutBucket(nc, { replicas: nats.replicas });
        const rolloutStore = new JetStreamRolloutStore(rolloutKv);
        this.rolloutStore = rolloutStore;
        this.watchingRollouts = watchRollouts(
          rolloutKv,
          {
            onRecord: (r) => this.view.rolloutChanged(rolloutProgress(r)),
            onUnreadable: (err) =>
              this.logger.warn({ event: 'rolloutUnreadable', err }, `rollout record ignored: ${err.message}`),
          },
          this.abort.signal,
        ).catch((err: unknown) => {
          if (!this.abort.signal.aborted)
            this.logger.error({ event: 'rolloutWatchFailed', err }, 'rollout watch stopped');
        });
        this.runner = new RolloutRunner({
          store: rolloutStore,
          effects: new NatsRolloutEffects(nc),
          owner: this.replicaId,
          now: () => Date.now(),
          ackOf: (node) => this.ruleSetStates.lastAck(node),
          fleet: () => ({
            vips: this.view.vipSummaries(),
            vipNodes: (id) => this.view.vip(id)?.nodes ?? [],
            alerts: this.view.alerts(),
          }),
          foresee: (record) => this.foresee(record),
          logger: this.logger,
        });
        await ensureAckStream(nc, {
          replicas: nats.replicas,
          maxAgeMs: this.options.config.fleet.statusRetentionMs,
        });
        this.connection = { up: true };
        this.logger.info({ event: 'natsConnected', server: nc.getServer() }, 'connected to NATS');
        this.probingJetStream = probeJetStream(nc, {
          replicaId: this.replicaId,
          replicas: nats.replicas,
          state: this.quorum,
          connected: () => this.connection.up,
          logger: this.logger,
          signal: this.abort.signal,
        });
        void this.watchConnection(nc);
        this.countTransitions(nc);
        this.following = followStatuses(
          nc,
          (s) => this.ingest('status', s.subject, s.data, s.storedAt),
          this.abort.signal,
          () => {
            this.caughtUp = true;
          },
          this.followerRestarted('status'),
        ).catch((err: unknown) => {
          if (!this.abort.signal.aborted)
            this.logger.error({ event: 'statusFollowFailed', err }, 'status stream stopped');
        });
        this.followingHeartbeats = followHeartbeats(
          nc,
          {
            onMessage: (s) => this.ingest('heartbeat', s.subject, s.data, s.storedAt, s.replayed),
            onCaughtUp: () => {
              this.heartbeatsCaughtUp = true;
            },
            onReadFailed: (err) =>
              this.logger.warn(
                { event: 'heartbeatReadFailed', err },
                'could not read the heartbeat stream; live heartbeats go on, it is read again',
              ),
          },
          this.abort.signal,
        ).catch((err: unknown) => {
          if (!this.abort.signal.aborted)
            this.logger.error({ event: 'heartbeatFollowFailed', err }, 'heartbeat stream stopped');
        });
        this.followingHealth = followHealth(
          nc,
          (m) => this.ingestHealth(m.subject, m.data),
          this.abort.signal,
          this.followerRestarted('health'),
        ).catch((err: unknown) => {
          if (!this.abort.signal.aborted)
            this.logger.error({ event: 'healthFollowFailed', err }, 'health stream stopped');
        });
        this.followingAcks = followAcks(
          nc,
          (m) => this.ingestAck(m.subject, m.data),
          this.abort.signal,
          () => {
            this.acksCaughtUp = true;
          },
          this.followerRestarted('acks'),
        ).catch((err: unknown) => {
          if (!this.abort.signal.aborted)
            this.logger.error({ event: 'ackFollowFailed', err }, 'acks stream stopped');
        });
        this.watchingAssignments = watchAssignments(
          ruleSetKv,
          (node, value) => this.ingestAssignment(node, value),
          this.abort.signal,
        ).catch((err: unknown) => {
          if (!this.abort.signal.aborted)
            this.logger.error({ event: 'assignmentWatchFailed', err }, 'assignment watch stopped');
        });
        const publisher = new AlertPublisher(nc, alertKv, this.logger, (e, duplicate) =>
          this.metrics.alertEvent(e.event, duplicate),
        );
        this.publisher = publisher;
        this.lease = new KvLease(leaseKv, {
          ttlMs,
          replicas: nats.replicas,
          holderId: this.replicaId,
          logger: this.logger,
          onChange: (change) => {
            this.metrics.lease(change.kind);
            if (change.kind === 'lost') {
              publisher.reset();
              this.runner?.forget();
            }
          },
        });
        this.lease.start();
        this.runningRollouts = this.runRollouts();
        return;
      } catch (err) {
        this.connection = { up: false, reason: (err as Error).message };
        if (attempt === 0 || attempt % 30 === 0)
          this.logger.error({ event: 'natsUnreachable', err, attempt }, 'cannot connect to NATS; retrying');
        await this.nc?.close().catch(() => undefined);
        this.nc = null;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /**
   * NATS as the API and the runner see it: the connection, and JetStream answering on it. With the
   * connection up but JetStream silent (a cluster that lost its quorum), the state says so: the view is
   * served read-only, stale, and writes answer 503 `NATS_QUORUM_LOST`.
   */
  get natsHealth(): NatsHealth {
    if (!this.connection.up) return this.connection;
    if (this.quorum.lost !== null)
      return {
        up: false,
        code: 'NATS_QUORUM_LOST',
        reason: `NATS quorum lost: JetStream takes no writes (${this.quorum.lost}); the view is the last one read, writes wait for the quorum`,
      };
    return this.connection;
  }

  private async watchConnection(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.connection = { up: false, reason: `disconnected from ${s.server}` };
        this.logger.warn(
          { event: 'natsDisconnected', server: s.server },
          'NATS connection lost; serving the last view',
        );
      } else if (s.type === 'reconnect') {
        this.connection = { up: true };
        this.logger.info({ event: 'natsReconnected', server: s.server }, 'NATS connection back');
      }
    }
  }

  /** Logs a stream follower made again (its consumer went with a server, or stopped answering). */
  private followerRestarted(stream: string): (reason: string) => void {
    return (reason) =>
      this.logger.warn(
        { event: 'streamFollowerRestarted', stream, reason },
        `the ${stream} stream's follower was made again from where it was: ${reason}`,
      );
  }

  /** Counts route transitions from the events stream, from a window ago on, at their stored times. */
  private countTransitions(nc: NatsConnection): void {
    this.followingTransitions = followTransitions(
      nc,
      Date.now() - this.options.config.fleet.flapping.windowMs,
      (node, route, storedAt) => this.transitions.add(node, route, storedAt),
      this.abort.signal,
      () => {
        this.transitionsCaughtUp = true;
      },
      this.followerRestarted('events'),
    ).catch((err: unknown) => {
      if (!this.abort.signal.aborted)
        this.logger.error({ event: 'transitionFollowFailed', err }, 'transition follower stopped');
    });
  }

  /**
   * Takes one status or heartbeat; one dropped is counted and logged (at most once per 10 s per reason),
   * but for a `replayed` heartbeat older than a live one: reading the stream after a reconnect brings those.
   */
  private ingest(
    message: 'status' | 'heartbeat',
    subject: string,
    data: Uint8Array,
    storedAt: number,
    replayed = false,
  ): void {
    const now = Date.now();
    // A heartbeat's bytes are read as they are (the view parses them only when they are not as agents write them).
    const payload = message === 'status' ? parseJson(data) : data;
    const outcome =
      message === 'status'
        ? this.view.ingest(subject, payload, storedAt)
        : this.view.heartbeat(subject, payload, storedAt);
    const published =
      'ms' in outcome
        ? outcome.ms
        : message === 'status' && typeof payload === 'object' && payload !== null
          ? Date.parse(String((payload as { time?: unknown }).time))
          : NaN;
    if (replayed && !outcome.accepted && outcome.reason === 'stale') return;
    this.metrics.ingested(message, outcome, Number.isNaN(published) ? undefined : published, now);
    if (outcome.accepted) this.askIfBehind(outcome, now);
    else {
      const { log, suppressed } = this.drops.drop(`${message}:${outcome.reason}`, now);
      if (log)
        this.logger.warn(
          { event: `${message}Dropped`, reason: outcome.reason, detail: outcome.detail, suppressed },
          `${message} dropped (${outcome.reason}): ${outcome.detail}`,
        );
    }
  }

  /**
   * Asks a node for its status when its heartbeats vouch for one the view lacks; only once both streams
   * are read up to date (before, a heartbeat may be read ahead of the status it vouches for).
   */
  private askIfBehind(outcome: { readonly node: string; readonly behind?: boolean }, now: number): void {
    if (outcome.behind === undefined) return this.requests.status(outcome.node);
    const nc = this.nc;
    if (!nc || !this.caughtUp || !this.heartbeatsCaughtUp) return;
    if (!this.requests.heartbeat(outcome.node, outcome.behind, now)) return;
    nc.publish(subjects.resend(outcome.node));
    this.metrics.statusRequested();
    this.logger.debug(
      { event: 'statusRequested', node: outcome.node },
      `asked ${outcome.node} for its status: its heartbeats vouch for one this view lacks`,
    );
  }

  private ingestHealth(subject: string, data: Uint8Array): void {
    const verdict = this.health.ingest(subject, parseJson(data));
    this.metrics.healthReport(verdict.ok ? 'accepted' : verdict.reason);
    if (verdict.ok) return;
    const { log, suppressed } = this.healthDrops.drop(verdict.reason, Date.now());
    if (log)
      this.logger.warn(
        { event: 'healthDropped', reason: verdict.reason, detail: verdict.detail, suppressed },
        `health report dropped (${verdict.reason}): ${verdict.detail}`,
      );
  }

  private ingestAck(subject: string, data: Uint8Array): void {
    const verdict = this.ruleSetStates.ingestAck(subject, parseJson(data));
    if (verdict.ok) {
      if (verdict.ack.result === 'rejected')
        this.logger.warn(
          {
            event: 'ruleSetNacked',
            node: verdict.ack.node,
            serial: verdict.ack.serial,
            code: verdict.ack.code,
            reason: verdict.ack.reason,
          },
          `${verdict.ack.node} rejected rule-set serial ${verdict.ack.serial}: ${verdict.ack.reason ?? ''}`,
        );
      return;
    }
    const { log, suppressed } = this.ackDrops.drop(verdict.reason, Date.now());
    if (log)
      this.logger.warn(
        { event: 'ackDropped', reason: verdict.reason, detail: verdict.detail, suppressed },
        `rule-set ack dropped (${verdict.reason}): ${verdict.detail}`,
      );
  }

  private ingestAssignment(node: string, value: unknown): void {
    if (value === null) return this.ruleSetStates.assign(node, null);
    const problem = this.ruleSetStates.assignFromBucket(node, value);
    if (problem)
      this.logger.warn(
        { event: 'assignmentUnreadable', node, detail: problem },
        `assignment ignored: ${problem}`,
      );
  }

  /**
   * Moves the rollout under way on, every `fleet.rolloutTickMs`, while this replica holds the lease and
   * its view is read up to date (statuses, heartbeats, flapping window, acks): a rollout is only judged on
   * a whole view. A failed step is logged (once per 10 s per message) and tried again at the next tick.
   */
  private async runRollouts(): Promise<void> {
    const every = this.options.config.fleet.rolloutTickMs;
    while (!this.abort.signal.aborted) {
      const runner = this.runner;
      if (
        runner &&
        this.lease?.held &&
        this.natsHealth.up &&
        this.caughtUp &&
        this.heartbeatsCaughtUp &&
        this.transitionsCaughtUp &&
        this.acksCaughtUp
      ) {
        try {
          await runner.step();
          // A step that moved the rollout (assignments written, acks counted) is followed at once: the
          // acks that came meanwhile need not wait a tick.
          if (runner.moved) continue;
        } catch (err) {
          const { log, suppressed } = this.rolloutDrops.drop((err as Error).message, Date.now());
          if (log)
            this.logger.error(
              { event: 'rolloutStepFailed', err, suppressed },
              `rollout step failed (tried again): ${(err as Error).message}`,
            );
        }
      }
      await new Promise((r) => setTimeout(r, every));
    }
  }

  /** The withdrawals the what-if shows for a rollout's rule set: the health gate lets those through. */
  private async foresee(record: RolloutRecord): Promise<(node: string, vip: string) => boolean> {
    try {
      const answer = await this.rulesets.whatIf({ serial: record.ruleSet.serial }, record.target);
      const pairs = new Set<string>();
      for (const n of answer.whatIf.nodes) for (const vip of n.withdrawn) pairs.add(`${n.node}\n${vip}`);
      return (node, vip) => pairs.has(`${node}\n${vip}`);
    } catch (err) {
      this.logger.warn(
        { event: 'rolloutWhatIfFailed', rollout: record.id, err },
        `rollout ${record.id}: no what-if for its health gate (every withdrawal counts): ${(err as Error).message}`,
      );
      return () => false;
    }
  }

  /** Whether this replica holds the lease now (and so publishes the alert events). */
  get leaseHeld(): boolean {
    return this.lease?.held ?? false;
  }

  private startAlerts(): void {
    const every = Math.min(1000, this.options.config.fleet.heartbeatMs / 2);
    this.timer = setInterval(() => {
      const { opened, closed } = this.view.evaluateAlerts(
        this.transitions.counts(Date.now()),
        this.options.config.fleet.flapping.transitions,
        this.ruleSetStates.rejections(),
      );
      for (const a of opened)
        this.logger.warn(
          { event: 'alertOpened', kind: a.kind, subject: a.subject, reason: a.message },
          a.message,
        );
      for (const a of closed)
        this.logger.info(
          { event: 'alertClosed', kind: a.kind, subject: a.subject },
          `resolved: ${a.message}`,
        );
      const lease = this.lease;
      if (
        lease?.held &&
        this.caughtUp &&
        this.heartbeatsCaughtUp &&
        this.transitionsCaughtUp &&
        this.natsHealth.up
      )
        void this.publisher?.sync(this.view.alerts(), () => lease.held);
    }, every);
  }

  /**
   * Stops the replica. It gives its lease up so that another takes over at once, unless `releaseLease`
   * is false (as a replica that dies does: the others wait for the lease's TTL).
   */
  async stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    this.abort.abort();
    if (this.timer) clearInterval(this.timer);
    await this.lease?.stop(options.releaseLease ?? true);
    await this.app.close();
    // Each loop ends on the abort; one stuck in a NATS call is given STOP_WAIT_MS, then the connection's
    // close ends it. A stop never hangs, and says what it waited for in vain.
    const loops: [string, Promise<unknown>][] = [
      ['statuses', this.following],
      ['health', this.followingHealth],
      ['heartbeats', this.followingHeartbeats],
      ['transitions', this.followingTransitions],
      ['acks', this.followingAcks],
      ['assignments', this.watchingAssignments],
      ['rollouts', this.runningRollouts],
      ['probe', this.probingJetStream],
      ['rolloutWatch', this.watchingRollouts],
    ];
    const pending = new Set(loops.map(([name]) => name));
    for (const [name, p] of loops) void p.finally(() => pending.delete(name)).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(loops.map(([, p]) => p)),
      new Promise((r) => (timer = setTimeout(r, STOP_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (pending.size > 0)
      this.logger.warn(
        { event: 'stopWaitTimedOut', pending: [...pending] },
        `stopping: ${[...pending].join(', ')} did not end within ${STOP_WAIT_MS} ms; closing the NATS connection under them`,
      );
    await this.nc?.close().catch(() => undefined);
  }
}

/** How long a stop waits for the NATS loops to end before it closes the connection under them. */
const STOP_WAIT_MS = 5000;

function splitListen(listen: string): [string, number] {
  const at = listen.lastIndexOf(':');
  return [listen.slice(0, at).replace(/^\[|\]$/g, ''), Number(listen.slice(at + 1))];
}
