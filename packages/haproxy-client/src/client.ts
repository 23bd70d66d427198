import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { SocketAddress } from './address.js';
import { formatSocketAddress, parseSocketAddress } from './address.js';
import * as commands from './commands.js';
import type { ForcedServerHealth, ServerAdminState, StatObjectType } from './commands.js';
import type { HaproxyError } from './errors.js';
import { HaproxyCommandRejectedError, HaproxyMalformedReplyError, parseCommandError } from './errors.js';
import type { EventSink, RingEvent } from './events.js';
import { parseEventSinks, parseRingEvent } from './events.js';
import type { HealthSnapshot, ProxyNames } from './health.js';
import { buildHealthSnapshot } from './health.js';
import type { ProcessInfo } from './info.js';
import { parseInfo } from './info.js';
import type { ProxyIds } from './proxy-selection.js';
import { selectionIds, selectionQueries, selectionTable } from './proxy-selection.js';
import type { ServerStateRow } from './servers-state.js';
import { parseServersState } from './servers-state.js';
import type { StatTable } from './stat-csv.js';
import { parseStat } from './stat-csv.js';
import type { Follower, RawReply } from './transport.js';
import { exchange, follow } from './transport.js';

/** Options of `HaproxyClient`. */
export interface HaproxyClientOptions {
  /** The stats socket: a unix path, `ipv4@host:port` or `ipv6@[host]:port`. */
  readonly socket: string;
  /** Per-attempt limit for connecting, sending and reading to EOF. Default 2000 ms. */
  readonly timeoutMs?: number;
  /** Extra attempts after a connection error (not after a timeout or an error reply). Default 2. */
  readonly retries?: number;
  /** Pause between attempts. Default 50 ms. */
  readonly retryDelayMs?: number;
  readonly logger?: Logger;
  /** Clock for `readAt` of snapshots. Default `Date.now`. */
  readonly now?: () => number;
}

/** Options of `HaproxyClient.readHealth`. */
export interface ReadHealthOptions {
  /**
   * Read server rows too (per-server status, `serversUp`/`serversTotal`). Default true; false reads
   * only FRONTEND and BACKEND rows (`show stat -1 3 -1`), which is much cheaper on large configs.
   */
  readonly withServers?: boolean;
  /**
   * Read only these proxies (the ones the rules name), with one `show stat <proxy> <mask> -1` each in
   * the same round trip (more than 50 names are read whole and filtered here, which is then cheaper).
   * Requested names HAProxy lacks are listed in the snapshot's `missing`. Default: every proxy.
   */
  readonly proxies?: ProxyNames;
}

// Larger selections are read whole (`show stat -1 <mask> -1`) and filtered here. Every per-proxy reply
// carries its own 1.3 kB header: with 1,000 backends, 20 proxies cost 0.4-0.9 ms of CPU per poll, 50
// about 1 ms, 100 as much as reading everything (scripts/measure-poll.ts). HAProxy's CLI also reads a
// command line into one buffer (tune.bufsize, 16 kB by default).
const MAX_SELECTED_PROXIES = 50;
const MAX_SELECTION_LINE = 8192;

/**
 * A client of HAProxy's Runtime API (stats socket). Every call opens one connection in non-interactive
 * mode, sends one line and reads to EOF; connection errors are retried a bounded number of times.
 */
export class HaproxyClient {
  readonly address: SocketAddress;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  /** Ids of selected proxies, learned from the last full read of a selection. */
  #proxyIds: ProxyIds = new Map();

  constructor(options: HaproxyClientOptions) {
    this.address = parseSocketAddress(options.socket);
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#retries = options.retries ?? 2;
    this.#retryDelayMs = options.retryDelayMs ?? 50;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** The socket address in HAProxy's syntax. */
  get socket(): string {
    return formatSocketAddress(this.address);
  }

  /**
   * Sends several commands in one round trip and returns one reply per command (without the final
   * empty line). Only for commands whose replies always end with an empty line (`show ...`).
   */
  async runMany(list: readonly string[]): Promise<string[]> {
    const replies = (await this.#runEach(list)).map(join);
    replies.forEach((reply, i) => {
      const error = parseCommandError(list[i]!, reply);
      if (error) throw error;
    });
    return replies;
  }

  /** Sends one command and returns its whole reply text (error replies are returned, not thrown). */
  async run(command: string): Promise<string> {
    const raw = await this.#exchange(command);
    return [...raw.replies.map(join), ...(raw.rest === null ? [] : [raw.rest])].join('\n');
  }

  /** `show stat`, optionally only some row types. */
  async showStat(types?: readonly StatObjectType[]): Promise<StatTable> {
    const [reply] = await this.runMany([commands.showStat(types)]);
    return parseStat(reply!);
  }

  /** `show info`. */
  async showInfo(): Promise<ProcessInfo> {
    const [reply] = await this.runMany([commands.showInfo()]);
    return parseInfo(reply!);
  }

  /** `show servers state [<backend>]`. */
  async showServersState(backend?: string): Promise<ServerStateRow[]> {
    const [reply] = await this.runMany([commands.showServersState(backend)]);
    return parseServersState(reply!);
  }

  /**
   * One round trip turned into a health snapshot: `show stat -1 <mask> -1;show info`, or with `proxies`
   * `show stat <proxy> <mask> -1;...;show info`. When the per-proxy replies are ambiguous (a frontend and
   * a backend share a name, a numeric name), a second round trip reads every proxy and filters here; the
   * client then learns the proxies' ids and selects them by id in later reads.
   *
   * `show info` comes last: HAProxy runs the commands of one line one after the other, and a reload can
   * stop the worker between them. `Stopping` never goes back to 0 and is set before the worker stops its
   * listeners, so a `show stat` that saw them stopped (frontends `STOP`) is always followed by a `show info`
   * that says `Stopping: 1`. In the other order, a read could pair `Stopping: 0` with `STOP`.
   */
  async readHealth(options: ReadHealthOptions = {}): Promise<HealthSnapshot> {
    const withServers = options.withServers ?? true;
    const { proxies } = options;
    const sentAt = this.#now();
    if (proxies !== undefined) {
      const queries = selectionQueries(proxies, withServers, this.#proxyIds);
      const list = [...queries.map((q) => q.command), commands.showInfo()];
      if (
        queries.length <= MAX_SELECTED_PROXIES &&
        commands.joinCommands(list).length <= MAX_SELECTION_LINE
      ) {
        const replies = (await this.#runEach(list)).map(join);
        const info = replies.pop()!;
        const infoError = parseCommandError(commands.showInfo(), info);
        if (infoError) throw infoError;
        const table = selectionTable(queries, replies);
        if (table !== null) {
          return buildHealthSnapshot(parseInfo(info), table, {
            readAt: this.#now(),
            sentAt,
            withServers,
            proxies,
          });
        }
      }
    }
    const types: StatObjectType[] = ['backend', ...(withServers ? (['server'] as const) : [])];
    if (proxies === undefined || proxies.frontends.length > 0) types.unshift('frontend');
    const list = [commands.showStat(types), commands.showInfo()];
    const [stat, info] = await this.#runEach(list);
    // A large `show stat` stays in pieces; an error reply is one short piece.
    for (const [i, reply] of [stat!, info!].entries()) {
      const error = reply.length === 1 ? parseCommandError(list[i]!, reply[0]!) : null;
      if (error) throw error;
    }
    const table = parseStat(stat!);
    // From now on, select these proxies by id: that finds both of a frontend and a backend sharing a
    // name. Replies are still checked, so ids made stale by a reload bring the client back here.
    if (proxies !== undefined) this.#proxyIds = selectionIds(table, proxies);
    return buildHealthSnapshot(parseInfo(join(info!)), table, {
      readAt: this.#now(),
      sentAt,
      withServers,
      ...(proxies && { proxies }),
    });
  }

  /** `disable server <be>/<srv>` (maintenance). */
  disableServer(backend: string, server: string): Promise<void> {
    return this.#change(commands.disableServer(backend, server));
  }

  /** `enable server <be>/<srv>`. */
  enableServer(backend: string, server: string): Promise<void> {
    return this.#change(commands.enableServer(backend, server));
  }

  /** `set server <be>/<srv> state ready|drain|maint`. */
  setServerState(backend: string, server: string, state: ServerAdminState): Promise<void> {
    return this.#change(commands.setServerState(backend, server, state));
  }

  /** `set server <be>/<srv> health up|stopping|down`. */
  setServerHealth(backend: string, server: string, health: ForcedServerHealth): Promise<void> {
    return this.#change(commands.setServerHealth(backend, server, health));
  }

  /** `set server <be>/<srv> weight <n>`. */
  setServerWeight(backend: string, server: string, weight: number): Promise<void> {
    return this.#change(commands.setServerWeight(backend, server, weight));
  }

  /** `disable frontend <fe>`. */
  disableFrontend(name: string): Promise<void> {
    return this.#change(commands.disableFrontend(name));
  }

  /** `enable frontend <fe>`. */
  enableFrontend(name: string): Promise<void> {
    return this.#change(commands.enableFrontend(name));
  }

  /** `show events`: HAProxy's event sinks, rings (`type: 'buffer'`) and fd sinks (level user is enough). */
  async showEventSinks(): Promise<EventSink[]> {
    const [reply] = await this.runMany([commands.showEventSinks()]);
    return parseEventSinks(reply!);
  }

  /**
   * Follows `show events <ring> -w -n` and calls `onEvent` for every new line. Needs operator level.
   * The session ends when HAProxy closes it (idle `stats timeout`, the worker stopping) or on `close()`.
   * `attached` tells when HAProxy has taken the ring: the line first asks `show events <ring> -n`, whose
   * empty reply confirms it; a refusal (no such ring, not a ring, level too low) rejects `closed` with
   * its typed error (`HAPROXY_UNKNOWN_RING`, `HAPROXY_PERMISSION_DENIED`).
   */
  followEvents(ring: string, onEvent: (event: RingEvent) => void): Follower {
    const command = commands.showEvents(ring);
    const line = commands.joinCommands([commands.showEvents(ring, { wait: false }), command]);
    let first = true;
    let refused: HaproxyError | null = null;
    let attach: (ok: boolean) => void = () => undefined;
    const attached = new Promise<boolean>((resolve) => (attach = resolve));
    const follower = follow(
      this.address,
      line,
      (text) => {
        if (first) {
          first = false;
          refused = text === '' ? null : parseCommandError(command, text);
          if (refused) return follower.close();
          attach(true);
          if (text === '') return;
        }
        if (refused === null && text !== '') onEvent(parseRingEvent(text));
      },
      { keepEmptyLines: true },
    );
    const closed = follower.closed.then(
      () => {
        attach(false);
        if (refused) throw refused;
      },
      (err: unknown) => {
        attach(false);
        throw err;
      },
    );
    return { closed, attached, close: follower.close };
  }

  /** One round trip; one reply (in pieces) per command, error replies included. */
  async #runEach(list: readonly string[]): Promise<(readonly string[])[]> {
    const line = commands.joinCommands(list);
    const raw = await this.#exchange(line);
    if (raw.replies.length !== list.length || raw.rest !== null) {
      const text = [...raw.replies.map(join), ...(raw.rest === null ? [] : [raw.rest])].join('\n');
      throw parseCommandError(line, text) ?? new HaproxyMalformedReplyError(`reply to "${line}"`, text);
    }
    return [...raw.replies];
  }

  async #change(command: string): Promise<void> {
    const reply = (await this.run(command)).trim();
    if (reply === '') return;
    throw parseCommandError(command, reply) ?? new HaproxyCommandRejectedError(command, reply);
  }

  async #exchange(line: string): Promise<RawReply> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await exchange(this.address, line, this.#timeoutMs);
      } catch (err) {
        const error = err as HaproxyError;
        const retryable =
          error.code === 'HAPROXY_SOCKET_MISSING' || error.code === 'HAPROXY_CONNECTION_FAILED';
        if (!retryable || attempt >= this.#retries) throw error;
        this.#logger?.debug({ event: 'haproxyRetry', op: 'exchange', err: error, attempt }, 'retrying');
        await sleep(this.#retryDelayMs);
      }
    }
  }
}

function join(pieces: readonly string[]): string {
  return pieces.join('');
}
