import { connect } from 'node:net';
import type { OnReadOpts, Socket } from 'node:net';
import type { SocketAddress } from './address.js';
import { formatSocketAddress } from './address.js';
import type { HaproxyError } from './errors.js';
import { HaproxyConnectionFailedError, HaproxySocketMissingError, HaproxyTimeoutError } from './errors.js';
import { EventLineReader, ReplyReader } from './reply-reader.js';

/** What came back on one non-interactive connection, read to EOF. */
export interface RawReply {
  /** Replies terminated by an empty line, in order. */
  readonly replies: readonly string[];
  /** Text after the last terminated reply (HAProxy answers some errors without the empty line). */
  readonly rest: string | null;
}

function open(address: SocketAddress, onread?: OnReadOpts): Socket {
  return address.kind === 'unix'
    ? connect({ path: address.path, ...(onread && { onread }) })
    : connect({ host: address.host, port: address.port, family: address.family, ...(onread && { onread }) });
}

/** Collects a reply into one growing buffer (through `onread`: no Buffer per chunk, no concat). */
class ReplyBuffer {
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

  bytes(): Uint8Array {
    return this.#data.subarray(0, this.#length);
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
    const received = new ReplyBuffer();
    const socket = open(address, received.onread);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new HaproxyTimeoutError(formatSocketAddress(address), line, timeoutMs));
    }, timeoutMs);
    socket.on('connect', () => socket.end(`${line}\n`));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectionError(address, err));
    });
    socket.on('end', () => {
      clearTimeout(timer);
      socket.destroy();
      // Decoding once at EOF is cheaper than per chunk for large `show stat` replies.
      const reader = new ReplyReader();
      const replies = reader.push(received.bytes());
      resolve({ replies, rest: reader.end() });
    });
  });
}

/** A long-lived `show events <ring> -w` session. */
export interface Follower {
  /** Resolves when HAProxy closes the session (idle `stats timeout`, old worker exiting) or `close()`. */
  readonly closed: Promise<void>;
  close(): void;
}

/**
 * Opens a session that sends `line` and passes every complete line of output to `onLine`. Connection
 * errors reject `closed`.
 */
export function follow(address: SocketAddress, line: string, onLine: (line: string) => void): Follower {
  const socket = open(address);
  const reader = new EventLineReader();
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
