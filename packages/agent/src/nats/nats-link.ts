import type { Ack, Command, Heartbeat } from '@rhi/contracts';
import { agentInboxPrefix, STATUS_REFRESH_MS, subjects } from '@rhi/contracts';
import type { ProxyNames } from '@rhi/haproxy-client';
import type { Authenticator, NatsConnection, Subscription } from '@nats-io/transport-node';
import { connect, credsAuthenticator, nkeyAuthenticator } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { CommandRefusal } from '../core/command-bytes.js';
import { parseCommand } from '../core/command-bytes.js';
import type { CompactHealth, ProxyInventory } from '../core/health-report.js';
import { compactHealth, healthReport } from '../core/health-report.js';
import type { AgentSnapshot, AgentTransition, HealthEvent, StatusSink } from '../loop/ports.js';
import type { NodeIdentity } from './messages.js';
import { toAgentEvent } from './messages.js';
import { NodeStatusStamper } from './status-stamper.js';
import { sameStatus } from './status-change.js';

/** Health reports go out at most this often; changes in between are coalesced into the next one. */
export const HEALTH_REPORT_INTERVAL_MS = 1000;

/** A controller's request for the status again is answered at most this often (replicas ask together). */
export const RESEND_INTERVAL_MS = 1000;

/** What a command asks of the agent: the ack's `result` and `reason`. */
export type CommandOutcome = Pick<Ack, 'result' | 'reason'>;

/**
 * A command read from its bytes and checked, ready to be carried out (`run`), or refused with the ack's
 * reason (`command is not JSON`, `malformed command: ...`).
 */
export type ReadCommand =
  | CommandRefusal
  | {
      readonly ok: true;
      readonly id: string;
      /** The command's type, for the log of a failure. */
      readonly op: string;
      readonly run: () => Promise<CommandOutcome>;
    };

/**
 * A command reader that parses and checks each command whole (`parseCommand`) on the calling thread and
 * has `onCommand` carry it out: for tests and tools with small commands.
 */
export function parsedCommands(
  onCommand: (command: Command) => Promise<CommandOutcome>,
): (bytes: Uint8Array) => Promise<ReadCommand> {
  return (bytes) => {
    const parsed = parseCommand(bytes);
    if (!parsed.ok) return Promise.resolve(parsed);
    const { command } = parsed;
    return Promise.resolve({ ok: true, id: command.id, op: command.type, run: () => onCommand(command) });
  };
}

/** How to reach NATS. Authentication is required by the agent's config schema. */
export interface NatsLinkOptions extends NodeIdentity {
  readonly servers: readonly string[];
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** Contents of a NATS credentials file (JWT + seed). */
  readonly credentials?: Uint8Array;
  /** This node's nkey seed (`nats.nkeyFile`). */
  readonly nkeySeed?: Uint8Array;
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  /** A heartbeat goes out this often. */
  readonly heartbeatMs: number;
  /** The full status goes out at least this often, even unchanged (default: the contract's `STATUS_REFRESH_MS`). */
  readonly statusRefreshMs?: number;
  readonly logger: Logger;
  /**
   * Reads a command for this node from its bytes as NATS gave them and says how to carry it out. The
   * agent's reads a rule set where it examines it, off the main thread (a 10,000-rule command is 2.6 MB
   * of JSON); {@link parsedCommands} reads it whole on this thread.
   */
  readonly readCommand: (bytes: Uint8Array) => Promise<ReadCommand>;
  /** Told when the connection comes and goes (for metrics). */
  readonly onConnection?: (connected: boolean) => void;
  /**
   * Given the connection once it is up: a new one (after its subscriptions are made) and the same one
   * after each reconnect (for the rule-set assignment's follower).
   */
  readonly onConnect?: (nc: NatsConnection) => void;
  /** Wall clock in ms (injectable for tests). */
  readonly now?: () => number;
  /** Numbers the statuses; give the admin endpoint's so that both share one `seq`. Default: its own. */
  readonly stamper?: NodeStatusStamper;
  /** The largest health report (default: the contract's `HEALTH_REPORT_MAX_BYTES`). */
  readonly healthMaxBytes?: number;
}

/**
 * The agent's NATS side: a {@link StatusSink} that publishes status, heartbeats, events and the HAProxy
 * health report, and a command listener. The status goes out when it changes (not for the time of an
 * export check alone), on every (re)connect, when a controller asks (`rhi.v1.resend.<node>`, answered at
 * most once per {@link RESEND_INTERVAL_MS}) and at least every `statusRefreshMs`; in between, a heartbeat
 * of about 100 bytes every `heartbeatMs` vouches for it. It never blocks the caller: while NATS is away the
 * client buffers what is published (up to its reconnect buffer; every event is also in the logs), the
 * latest status and health are kept, and they are published again as soon as the connection returns. The
 * health report goes out when its compact form changes, at most once per {@link HEALTH_REPORT_INTERVAL_MS},
 * and on every (re)connect; never with the heartbeat.
 */
export class NatsLink implements StatusSink {
  private nc: NatsConnection | null = null;
  private latest: AgentSnapshot | null = null;
  private readonly stamper: NodeStatusStamper;
  private latestHealth: { readonly event: HealthEvent; readonly named: () => ProxyNames } | null = null;
  private proxyInventory: ProxyInventory | null = null;
  private healthSeq = 0;
  /** The last health report published, without its envelope. */
  private lastHealth = '';
  /** When the health was last compared (ms of `now`): at most once per interval. */
  private healthCheckedAt = Number.NEGATIVE_INFINITY;
  private healthTimer: NodeJS.Timeout | null = null;
  /** The last published status without its time and sequence number, to publish only changes. */
  private lastPublished: AgentSnapshot | null = null;
  /** The seq and time (ms of `now`) of the last status published, which heartbeats vouch for. */
  private lastStatus: { readonly seq: number; readonly at: number } | null = null;
  private resentAt = Number.NEGATIVE_INFINITY;
  private closed = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly subs: Subscription[] = [];
  private readonly now: () => number;

  constructor(private readonly options: NatsLinkOptions) {
    this.now = options.now ?? Date.now;
    this.stamper = options.stamper ?? new NodeStatusStamper(options, this.now);
  }

  /** Starts connecting in the background (forever, with backoff); returns at once. */
  start(): void {
    void this.connectLoop();
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  get connected(): boolean {
    return this.nc !== null && !this.nc.isClosed();
  }

  /** Publishes the status when it differs from the last one published (heartbeats vouch for it meanwhile). */
  status(snapshot: AgentSnapshot): void {
    this.latest = snapshot;
    if (this.lastPublished && sameStatus(this.lastPublished, snapshot)) return;
    this.lastPublished = snapshot;
    this.publishStatus();
  }

  event(transition: AgentTransition): void {
    this.publish(subjects.event(this.options.node), toAgentEvent(this.options, transition));
  }

  /** Keeps HAProxy's proxy names from a full read: the health reports carry them for that worker. */
  inventory(inventory: ProxyInventory): void {
    this.proxyInventory = inventory;
  }

  /** Keeps the health event; its report goes out at the next check if it changed. */
  health(event: HealthEvent, named: () => ProxyNames): void {
    this.latestHealth = { event, named };
    if (this.healthTimer || !this.nc || this.closed) return;
    const wait = Math.max(0, this.healthCheckedAt + HEALTH_REPORT_INTERVAL_MS - this.now());
    this.healthTimer = setTimeout(() => {
      this.healthTimer = null;
      this.publishHealth(false);
    }, wait);
    this.healthTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.healthTimer) clearTimeout(this.healthTimer);
    const nc = this.nc;
    this.nc = null;
    if (nc && !nc.isClosed()) {
      this.publishStatusOn(nc);
      await nc.drain().catch(() => undefined);
    }
  }

  private authenticator(): Authenticator | undefined {
    if (this.options.credentials) return credsAuthenticator(this.options.credentials);
    return this.options.nkeySeed ? nkeyAuthenticator(this.options.nkeySeed) : undefined;
  }

  private async connectLoop(): Promise<void> {
    let delay = 250;
    while (!this.closed) {
      try {
        const authenticator = this.authenticator();
        const nc = await connect({
          servers: [...this.options.servers],
          name: `rhi-agent ${this.options.node}`,
          // Replies come to an inbox only this node may subscribe to (its NATS permissions).
          inboxPrefix: agentInboxPrefix(this.options.node),
          ...(this.options.user === undefined
            ? {}
            : { user: this.options.user, pass: this.options.password ?? '' }),
          ...(this.options.token === undefined ? {} : { token: this.options.token }),
          ...(authenticator ? { authenticator } : {}),
          ...(this.options.tls ? { tls: { ...this.options.tls } } : {}),
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          pingInterval: 5_000,
        });
        if (this.closed) {
          await nc.close();
          return;
        }
        this.nc = nc;
        this.options.logger.info({ event: 'natsConnected', server: nc.getServer() }, 'connected to NATS');
        this.subscribe(nc);
        this.options.onConnection?.(true);
        this.options.onConnect?.(nc);
        this.publishStatus();
        this.publishHealth(true);
        void this.watch(nc);
        const err = await nc.closed();
        this.nc = null;
        this.options.onConnection?.(false);
        if (this.closed) return;
        this.options.logger.warn({ event: 'natsClosed', err }, 'NATS connection closed; reconnecting');
      } catch (err) {
        this.options.logger.warn(
          { event: 'natsUnreachable', op: 'connect', err },
          'NATS unreachable; retrying',
        );
      }
      await new Promise((r) => setTimeout(r, delay).unref());
      delay = Math.min(delay * 2, 10_000);
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'reconnect') {
        this.options.onConnection?.(true);
        this.options.logger.info({ event: 'natsReconnected', server: s.server }, 'reconnected to NATS');
        this.publishStatus();
        this.publishHealth(true);
        this.options.onConnect?.(nc);
      } else if (s.type === 'disconnect') {
        this.options.onConnection?.(false);
        this.options.logger.warn(
          { event: 'natsDisconnected', server: s.server },
          'NATS disconnected; local failover goes on',
        );
      } else if (s.type === 'error') {
        // E.g. a permissions violation: this node's NATS user may not use a subject it needs (a label
        // its credentials were not made with): it then never hears or says what goes there.
        this.options.logger.error(
          { event: 'natsError', err: s.error },
          `NATS refused something this agent did: ${String(s.error)}`,
        );
      }
    }
  }

  private subscribe(nc: NatsConnection): void {
    this.subs.push(
      nc.subscribe(subjects.resend(this.options.node), {
        callback: (err) => {
          const now = this.now();
          if (err || now - this.resentAt < RESEND_INTERVAL_MS) return;
          this.resentAt = now;
          this.publishStatusOn(nc);
        },
      }),
    );
    const targets = [
      subjects.nodeCommand(this.options.node),
      ...Object.entries(this.options.labels).map(([k, v]) => subjects.labelCommand(k, v)),
    ];
    for (const subject of targets) {
      this.subs.push(
        nc.subscribe(subject, {
          callback: (err, msg) => {
            if (err) {
              this.options.logger.error(
                { event: 'natsSubscriptionRefused', subject, err },
                `cannot hear commands on ${subject}: ${err.message} (are this node's NATS credentials made with its labels?)`,
              );
              return;
            }
            void this.handle(msg.data).then((ack) => msg.respond(JSON.stringify(ack)));
          },
        }),
      );
    }
  }

  private async handle(data: Uint8Array): Promise<Ack> {
    const base = { schema: 'rhi.v1.ack' as const, node: this.options.node };
    let read: ReadCommand;
    try {
      read = await this.options.readCommand(data);
    } catch (err) {
      this.options.logger.error({ event: 'commandFailed', op: 'readCommand', err }, 'command failed');
      return { ...base, id: '', result: 'rejected', reason: `command failed: ${(err as Error).message}` };
    }
    if (!read.ok) return { ...base, id: read.id, result: 'rejected', reason: read.reason };
    try {
      return { ...base, id: read.id, ...(await read.run()) };
    } catch (err) {
      this.options.logger.error({ event: 'commandFailed', op: read.op, err }, 'command failed');
      return {
        ...base,
        id: read.id,
        result: 'rejected',
        reason: `command failed: ${(err as Error).message}`,
      };
    }
  }

  private publishStatus(): void {
    if (this.nc) this.publishStatusOn(this.nc);
  }

  private publishStatusOn(nc: NatsConnection): void {
    if (!this.latest) return;
    const { seq, json } = this.stamper.nextJson(this.latest);
    this.publishTextOn(nc, subjects.status(this.options.node), json);
    this.lastStatus = { seq, at: this.now() };
  }

  /** A heartbeat for the last status, or the status itself when it is due for its refresh. */
  private beat(): void {
    const nc = this.nc;
    const last = this.lastStatus;
    if (!nc || !last) return;
    const now = this.now();
    if (now - last.at >= (this.options.statusRefreshMs ?? STATUS_REFRESH_MS)) {
      this.publishStatusOn(nc);
      return;
    }
    const heartbeat: Heartbeat = {
      schema: 'rhi.v1.heartbeat',
      node: this.options.node,
      time: new Date(now).toISOString(),
      seq: last.seq,
    };
    this.publishOn(nc, subjects.heartbeat(this.options.node), heartbeat);
  }

  /** Publishes the health report if it changed since the last one, or `always` (a (re)connect). */
  private publishHealth(always: boolean): void {
    const nc = this.nc;
    const latest = this.latestHealth;
    if (!nc || !latest) return;
    const now = this.now();
    this.healthCheckedAt = now;
    const { node } = this.options;
    const body: CompactHealth = compactHealth(
      latest.event,
      latest.named(),
      node,
      this.options.healthMaxBytes,
      this.proxyInventory,
    );
    const key = JSON.stringify(body);
    if (!always && key === this.lastHealth) {
      this.options.logger.debug({ event: 'healthUnchanged' }, 'HAProxy health unchanged: no report');
      return;
    }
    this.lastHealth = key;
    this.publishOn(nc, subjects.health(node), healthReport(node, body, this.healthSeq++, now));
  }

  private publish(subject: string, payload: unknown): void {
    if (this.nc) this.publishOn(this.nc, subject, payload);
  }

  private publishOn(nc: NatsConnection, subject: string, payload: unknown): void {
    this.publishTextOn(nc, subject, JSON.stringify(payload));
  }

  private publishTextOn(nc: NatsConnection, subject: string, text: string): void {
    try {
      nc.publish(subject, text);
    } catch (err) {
      this.options.logger.debug(
        { event: 'natsPublishFailed', op: 'publish', subject, err },
        'publish failed',
      );
    }
  }
}
