import { connect } from 'node:net';
import type { OnReadOpts, Socket } from 'node:net';
import type { SocketAddress } from './address.js';
import { formatSocketAddress } from './address.js';
import type { HaproxyError } from './errors.js';
import { HaproxyConnectionFailedError, HaproxySocketMissingError, HaproxyTimeoutError } from './errors.js';
import { EventLineReader, ReplyReader } from './reply-reader.js';

/** What came back on one non-interactive connection, read to EOF. */
export interface RawReply {
  /** Replies terminated by an empty line, in order, each in pieces (see `ReplyReader.pushPieces`). */
  readonly replies: readonly (readonly string[])[];
  /** Text after the last terminated reply (HAProxy answers some errors without the empty line). */
  readonly rest: string | null;
}

function open(address: SocketAddress, onread?: OnReadOpts): Socket {
  return address.kind === 'unix'
    ? connect({ path: address.path, ...(onread && { onread }) })
    : connect({ host: address.host, port: address.port, family: address.family, ...(onread && { onread }) });
}

/**
 * Collects a reply into one growing buffer (through `onread`: no Buffer per chunk, no concat). Buffers
 * are pooled across exchanges: allocating a few hundred kB per poll made the garbage collector a
 * large part of a poll's CPU.
 */
class ReplyBuffer {
  static readonly #pool: ReplyBuffer[] = [];
  static readonly #POOL_SIZE = 4;

  #data = Buffer.allocUnsafe(64 * 1024);
  #length = 0;
  readonly onread: OnReadOpts = {
    buffer: Buffer.allocUnsafe(64 * 1024),
    callback: (bytes: number, buffer: Uint8Array): boolean => {
      if (this.#length + bytes > this.#data.length) {
        const grown = Buffer.allocUnsafe(Math.max(this.#data.length * 2, this.#length + bytes));
        this.#data.copy(grown, 0, 0, this.#length);
        this.#data = grown;
      }
      this.#data.set(buffer.subarray(0, bytes), this.#length);
      this.#length += bytes;
      return true;
    },
  };

  static take(): ReplyBuffer {
    return ReplyBuffer.#pool.pop() ?? new ReplyBuffer();
  }

  /** The bytes received; valid until `release()`. */
  bytes(): Uint8Array {
    return this.#data.subarray(0, this.#length);
  }

  release(): void {
    this.#length = 0;
    if (ReplyBuffer.#pool.length < ReplyBuffer.#POOL_SIZE) ReplyBuffer.#pool.push(this);
  }
}

function connectionError(address: SocketAddress, err: NodeJS.ErrnoException): HaproxyError {
  const where = formatSocketAddress(address);
  if (address.kind === 'unix' && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) {
    return new HaproxySocketMissingError(where, { cause: err });
  }
  return new HaproxyConnectionFailedError(where, { cause: err });
}

/** Sends one line, half-closes, and reads the connection to EOF within `timeoutMs`. */
export function exchange(address: SocketAddress, line: string, timeoutMs: number): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const received = ReplyBuffer.take();
    const socket = open(address, received.onread);
    let done = false;
    const finish = (): void => {
      done = true;
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(() => {
      finish();
      reject(new HaproxyTimeoutError(formatSocketAddress(address), line, timeoutMs));
    }, timeoutMs);
    socket.on('connect', () => socket.end(`${line}\n`));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (done) return;
      finish();
      reject(connectionError(address, err));
    });
    socket.on('end', () => {
      if (done) return;
      finish();
      // Decoding once at EOF is cheaper than per chunk for large `show stat` replies.
      const reader = new ReplyReader();
      const replies = reader.pushPieces(received.bytes());
      const rest = reader.end();
      received.release();
      resolve({ replies, rest });
    });
  });
}

/** A long-lived `show events <ring> -w` session. */
export interface Follower {
  /** Resolves when HAProxy closes the session (idle `stats timeout`, old worker exiting) or `close()`. */
  readonly closed: Promise<void>;
  /**
   * `followEvents`: resolves with true once HAProxy has confirmed the ring (the session then follows
   * it), or with false when the session ended first (refused: `closed` rejects with why).
   */
  readonly attached?: Promise<boolean>;
  close(): void;
}

/**
 * Opens a session that sends `line` and passes every complete line of output to `onLine` (empty lines
 * too with `keepEmptyLines`). Connection errors reject `closed`.
 */
export function follow(
  address: SocketAddress,
  line: string,
  onLine: (line: string) => void,
  options: { readonly keepEmptyLines?: boolean } = {},
): Follower {
  const socket = open(address);
  const reader = new EventLineReader(options);
  const closed = new Promise<void>((resolve, reject) => {
    socket.on('connect', () => socket.write(`${line}\n`));
    socket.on('data', (chunk: Buffer) => {
      for (const l of reader.push(chunk)) onLine(l);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(connectionError(address, err));
    });
    socket.on('close', () => {
      const rest = reader.end();
      if (rest !== null) onLine(rest);
      resolve();
    });
  });
  return { closed, close: () => socket.destroy() };
}
