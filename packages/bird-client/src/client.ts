import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  birdCommands,
  type ConfigureOptions,
  type ShowProtocolsOptions,
  type ShowRouteOptions,
} from './commands.js';
import {
  BirdCommandSyntaxError,
  BirdCommandTooLongError,
  BirdConfigError,
  BirdConnectionError,
  BirdInvalidInputError,
  BirdProtocolError,
  BirdReplyError,
  BirdTimeoutError,
} from './errors.js';
import {
  parseConfigError,
  parseConfigureReply,
  parseProtocolAction,
  type BirdConfigureResult,
  type BirdProtocolActionResult,
} from './parse-configure.js';
import { parseShowProtocols, type BirdProtocol } from './parse-protocols.js';
import { parseShowSymbols, type BirdSymbol } from './parse-symbols.js';
import { parseShowRoute, parseShowRouteCount, type BirdRoute, type BirdRouteCount } from './parse-routes.js';
import { parseBanner, parseShowStatus, type BirdStatus } from './parse-status.js';
import { BirdReplyReader, type BirdReply } from './reply-reader.js';
import { SerialQueue } from './serial-queue.js';
import { openControlSocket } from './transport.js';

/** BIRD reads commands into a 1024-byte buffer (sysdep/unix/main.c `rbsize`) and resets longer lines. */
export const MAX_COMMAND_BYTES = 1020;

export interface BirdClientOptions {
  readonly socketPath: string;
  /** Per command, from sending to the final reply line. Default 5000 ms. */
  readonly timeoutMs?: number;
  /**
   * How long BIRD may stay silent before it counts as hung: the greeting and every reply but
   * `configure`'s must begin within this, and go on without a pause this long (a long `show route`
   * streams, and is not cut short while BIRD keeps sending, up to `timeoutMs`). `configure` is exempt:
   * BIRD answers it only once it has parsed the whole configuration, which takes longer with many routes
   * (17 ms for 10,000, 189 ms for 100,000 measured); `timeoutMs` alone bounds it. Default: `timeoutMs`.
   */
  readonly answerTimeoutMs?: number;
  readonly logger?: Logger;
  /** Asynchronous `+` lines (log echo, undo timer messages). */
  readonly onAsync?: (text: string) => void;
  /**
   * An open connection ended other than by `close()`: BIRD stopped or restarted (a BIRD that comes back
   * may hold none of the routes it had), hung past a timeout, or the socket failed. The next command
   * reconnects.
   */
  readonly onConnectionLost?: (err: Error) => void;
}

interface Connection {
  readonly socket: Socket;
  readonly reader: BirdReplyReader;
  waiter:
    | {
        resolve: (reply: BirdReply) => void;
        reject: (err: Error) => void;
        /** BIRD sent something: the silence allowed starts again. */
        heard: () => void;
      }
    | undefined;
  closed: boolean;
}

/**
 * A BIRD control-socket client. Commands are serialised on one connection, opened lazily and reopened after
 * a failure (a BIRD restart, a timeout). 8xxx replies throw BirdReplyError, 9xxx BirdCommandSyntaxError.
 */
export class BirdClient {
  private connection: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  private readonly queue = new SerialQueue();
  private versionText: string | undefined;
  private readonly timeoutMs: number;
  private readonly answerTimeoutMs: number;

  constructor(private readonly options: BirdClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.answerTimeoutMs = Math.min(options.answerTimeoutMs ?? this.timeoutMs, this.timeoutMs);
  }

  /** The version from the last greeting (`2.0.12`), once connected. */
  get version(): string | undefined {
    return this.versionText;
  }

  get socketPath(): string {
    return this.options.socketPath;
  }

  /** Connects (if needed) and returns the BIRD version from the greeting. */
  async connect(): Promise<string> {
    await this.serial(() => this.ensureConnected());
    return this.versionText ?? '';
  }

  /** Sends one command line and returns its reply; throws on 8xxx/9xxx. */
  command(line: string): Promise<BirdReply> {
    if (line.includes('\n') || line.includes('\r'))
      return Promise.reject(new BirdInvalidInputError('command', line, 'must be one line'));
    const length = Buffer.byteLength(line, 'utf8');
    if (length > MAX_COMMAND_BYTES)
      return Promise.reject(new BirdCommandTooLongError(length, MAX_COMMAND_BYTES));
    return this.serial(async () => {
      const reply = await this.exchange(line);
      if (reply.code >= 9000) throw new BirdCommandSyntaxError(line, reply.code, reply.text);
      if (reply.code === 8002 && line.startsWith('configure')) {
        const where = parseConfigError(reply.text);
        throw new BirdConfigError(reply.text, where.file, where.line, where.column, {
          cause: new BirdReplyError(line, reply.code, reply.text),
        });
      }
      if (reply.code >= 8000) throw new BirdReplyError(line, reply.code, reply.text);
      return reply;
    });
  }

  async showStatus(): Promise<BirdStatus> {
    return parseShowStatus(await this.command(birdCommands.showStatus()));
  }

  /** `show symbols`: every symbol of the running configuration (protocols, filters, tables, constants...). */
  async showSymbols(): Promise<BirdSymbol[]> {
    return parseShowSymbols(await this.command(birdCommands.showSymbols()));
  }

  async showProtocols(options: ShowProtocolsOptions = {}): Promise<BirdProtocol[]> {
    return parseShowProtocols(await this.command(birdCommands.showProtocols(options)));
  }

  /** `show route`; an 8001 "Network not found" reads as no routes. */
  async showRoute(options: Omit<ShowRouteOptions, 'count'> = {}): Promise<BirdRoute[]> {
    try {
      return parseShowRoute(await this.command(birdCommands.showRoute(options)));
    } catch (err) {
      if (err instanceof BirdReplyError && err.replyCode === 8001) return [];
      throw err;
    }
  }

  async showRouteCount(options: Omit<ShowRouteOptions, 'count' | 'all'> = {}): Promise<BirdRouteCount[]> {
    return parseShowRouteCount(await this.command(birdCommands.showRoute({ ...options, count: true })));
  }

  /** `configure [check|soft] [timeout s] ["file"]`; 8002 throws BirdConfigError with BIRD's file, line and message. */
  async configure(options: ConfigureOptions = {}): Promise<BirdConfigureResult> {
    return this.configureResult(await this.command(birdCommands.configure(options)));
  }

  async configureConfirm(): Promise<BirdConfigureResult> {
    return this.configureResult(await this.command(birdCommands.configureConfirm()));
  }

  async configureUndo(): Promise<BirdConfigureResult> {
    return this.configureResult(await this.command(birdCommands.configureUndo()));
  }

  async configureStatus(): Promise<BirdConfigureResult> {
    return this.configureResult(await this.command(birdCommands.configureStatus()));
  }

  async enable(protocol: string): Promise<BirdProtocolActionResult[]> {
    return parseProtocolAction(await this.command(birdCommands.enable(protocol)));
  }

  async disable(protocol: string): Promise<BirdProtocolActionResult[]> {
    return parseProtocolAction(await this.command(birdCommands.disable(protocol)));
  }

  async restart(protocol: string): Promise<BirdProtocolActionResult[]> {
    return parseProtocolAction(await this.command(birdCommands.restart(protocol)));
  }

  /** Closes the connection; a later command reconnects. */
  close(): void {
    this.drop(
      new BirdConnectionError(this.options.socketPath, 'closed by the client'),
      this.connection,
      true,
    );
  }

  private configureResult(reply: BirdReply): BirdConfigureResult {
    const result = parseConfigureReply(reply);
    if (!result) throw new BirdProtocolError(`${reply.code} ${reply.text}`);
    return result;
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(task);
  }

  /** Connected: the line is written at once, in the caller's turn. */
  private exchange(line: string): Promise<BirdReply> {
    // BIRD parses the whole configuration before it answers `configure`: no silence limit there.
    const silence = line.startsWith('configure') ? this.timeoutMs : this.answerTimeoutMs;
    const send = (connection: Connection): Promise<BirdReply> => {
      connection.socket.write(`${line}\n`);
      return this.nextReply(connection, line, silence);
    };
    const open = this.connection;
    return open && !open.closed ? send(open) : this.ensureConnected().then(send);
  }

  /** The next reply on `connection`, within `timeoutMs` in all and with no silence longer than `silenceMs`. */
  private nextReply(connection: Connection, command: string, silenceMs: number): Promise<BirdReply> {
    return new Promise<BirdReply>((resolve, reject) => {
      const expire = (ms: number) =>
        setTimeout(() => {
          this.drop(new BirdTimeoutError(command, ms, this.options.socketPath), connection);
        }, ms);
      const timer = expire(this.timeoutMs);
      let quiet = silenceMs < this.timeoutMs ? expire(silenceMs) : undefined;
      const done = () => {
        clearTimeout(timer);
        clearTimeout(quiet);
      };
      connection.waiter = {
        resolve: (reply) => {
          done();
          resolve(reply);
        },
        reject: (err) => {
          done();
          reject(err);
        },
        heard: () => {
          if (quiet === undefined) return;
          clearTimeout(quiet);
          quiet = expire(silenceMs);
        },
      };
    });
  }

  private ensureConnected(): Promise<Connection> {
    if (this.connection && !this.connection.closed) return Promise.resolve(this.connection);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<Connection> {
    const { socketPath, logger } = this.options;
    let socket: Socket;
    try {
      socket = await openControlSocket(socketPath);
    } catch (cause) {
      throw new BirdConnectionError(socketPath, 'cannot connect', { cause });
    }
    const connection: Connection = {
      socket,
      reader: new BirdReplyReader(),
      waiter: undefined,
      closed: false,
    };
    this.connection = connection;
    socket.on('data', (chunk: Buffer) => {
      connection.waiter?.heard();
      try {
        for (const event of connection.reader.push(chunk)) {
          if (event.kind === 'async') {
            logger?.debug({ event: 'birdAsync', text: event.text }, 'BIRD async output');
            this.options.onAsync?.(event.text);
          } else if (connection.waiter) {
            const waiter = connection.waiter;
            connection.waiter = undefined;
            waiter.resolve(event.reply);
          } else
            logger?.warn(
              { event: 'birdUnexpectedReply', replyCode: event.reply.code },
              'BIRD reply without a pending command',
            );
        }
      } catch (err) {
        this.drop(err as Error);
      }
    });
    socket.on('error', (cause) =>
      this.drop(new BirdConnectionError(socketPath, 'socket error', { cause }), connection),
    );
    socket.on('close', () => this.drop(new BirdConnectionError(socketPath, 'connection closed'), connection));
    const banner = await this.nextReply(connection, '(greeting)', this.answerTimeoutMs);
    const version = parseBanner(banner);
    if (version === undefined) {
      this.drop(new BirdProtocolError(`${banner.code} ${banner.text}`), connection);
      throw new BirdConnectionError(socketPath, `unexpected greeting: ${banner.text}`);
    }
    this.versionText = version;
    logger?.debug({ event: 'birdConnected', socketPath, version }, 'connected to BIRD');
    return connection;
  }

  private drop(err: Error, which: Connection | undefined = this.connection, byClient = false): void {
    if (!which || which.closed) return;
    which.closed = true;
    which.socket.destroy();
    if (this.connection === which) this.connection = undefined;
    const waiter = which.waiter;
    which.waiter = undefined;
    waiter?.reject(err);
    if (!byClient) this.options.onConnectionLost?.(err);
  }
}
