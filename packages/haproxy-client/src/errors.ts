/** Every error this package throws carries one of these literal codes. */
export type HaproxyErrorCode =
  | 'HAPROXY_SOCKET_MISSING'
  | 'HAPROXY_CONNECTION_FAILED'
  | 'HAPROXY_PERMISSION_DENIED'
  | 'HAPROXY_TIMEOUT'
  | 'HAPROXY_UNKNOWN_COMMAND'
  | 'HAPROXY_UNKNOWN_PROXY'
  | 'HAPROXY_UNKNOWN_SERVER'
  | 'HAPROXY_UNKNOWN_RING'
  | 'HAPROXY_COMMAND_REJECTED'
  | 'HAPROXY_MALFORMED_REPLY'
  | 'HAPROXY_BAD_ADDRESS'
  | 'HAPROXY_BAD_ARGUMENT'
  | 'HAPROXY_WORKER_STOPPING';

/** Base class of all errors of this package; switch on `code`. */
export abstract class HaproxyError extends Error {
  abstract readonly code: HaproxyErrorCode;
}

/** The unix socket path does not exist (or nothing listens on it). */
export class HaproxySocketMissingError extends HaproxyError {
  readonly code = 'HAPROXY_SOCKET_MISSING' as const;
  constructor(
    readonly socket: string,
    options?: ErrorOptions,
  ) {
    super(`HAProxy stats socket ${socket} does not exist or nothing listens on it`, options);
    this.name = 'HaproxySocketMissingError';
  }
}

/** Connecting failed for another reason (refused TCP port, reset, EACCES on the socket file). */
export class HaproxyConnectionFailedError extends HaproxyError {
  readonly code = 'HAPROXY_CONNECTION_FAILED' as const;
  constructor(
    readonly socket: string,
    options?: ErrorOptions,
  ) {
    super(`cannot talk to HAProxy at ${socket}`, options);
    this.name = 'HaproxyConnectionFailedError';
  }
}

/** HAProxy answered `Permission denied`: the socket's `level` is too low for the command. */
export class HaproxyPermissionDeniedError extends HaproxyError {
  readonly code = 'HAPROXY_PERMISSION_DENIED' as const;
  constructor(
    readonly command: string,
    options?: ErrorOptions,
  ) {
    super(`HAProxy denied "${command}": the stats socket level is too low`, options);
    this.name = 'HaproxyPermissionDeniedError';
  }
}

/** No complete reply within the timeout. */
export class HaproxyTimeoutError extends HaproxyError {
  readonly code = 'HAPROXY_TIMEOUT' as const;
  constructor(
    readonly socket: string,
    readonly command: string,
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(`HAProxy at ${socket} did not answer "${command}" within ${timeoutMs} ms`, options);
    this.name = 'HaproxyTimeoutError';
  }
}

/** HAProxy does not know the command (it answered with its help list). */
export class HaproxyUnknownCommandError extends HaproxyError {
  readonly code = 'HAPROXY_UNKNOWN_COMMAND' as const;
  constructor(
    readonly command: string,
    options?: ErrorOptions,
  ) {
    super(`HAProxy does not know the command "${command}"`, options);
    this.name = 'HaproxyUnknownCommandError';
  }
}

/** The named frontend, backend or proxy does not exist. */
export class HaproxyUnknownProxyError extends HaproxyError {
  readonly code = 'HAPROXY_UNKNOWN_PROXY' as const;
  constructor(
    readonly command: string,
    readonly reply: string,
    options?: ErrorOptions,
  ) {
    super(`HAProxy rejected "${command}": ${reply}`, options);
    this.name = 'HaproxyUnknownProxyError';
  }
}

/** The named server does not exist in its backend. */
export class HaproxyUnknownServerError extends HaproxyError {
  readonly code = 'HAPROXY_UNKNOWN_SERVER' as const;
  constructor(
    readonly command: string,
    readonly reply: string,
    options?: ErrorOptions,
  ) {
    super(`HAProxy rejected "${command}": ${reply}`, options);
    this.name = 'HaproxyUnknownServerError';
  }
}

/**
 * `show events <ring>` named no ring: HAProxy has no sink of that name (`No such event sink`), or the sink
 * is not a ring (`stdout`, `stderr`: `Nothing to report for this sink`).
 */
export class HaproxyUnknownRingError extends HaproxyError {
  readonly code = 'HAPROXY_UNKNOWN_RING' as const;
  constructor(
    readonly command: string,
    /** The sink named in the command (`evnets` in `show events evnets -w -n`). */
    readonly ring: string,
    /** True when a sink of that name exists but is not a ring. */
    readonly notARing: boolean,
    readonly reply: string,
    options?: ErrorOptions,
  ) {
    super(
      notARing
        ? `HAProxy's sink "${ring}" is not a ring (${reply})`
        : `HAProxy has no ring "${ring}" (${reply})`,
      options,
    );
    this.name = 'HaproxyUnknownRingError';
  }
}

/** Any other error text in reply to a command that should have answered with an empty line. */
export class HaproxyCommandRejectedError extends HaproxyError {
  readonly code = 'HAPROXY_COMMAND_REJECTED' as const;
  constructor(
    readonly command: string,
    readonly reply: string,
    options?: ErrorOptions,
  ) {
    super(`HAProxy rejected "${command}": ${reply}`, options);
    this.name = 'HaproxyCommandRejectedError';
  }
}

/** A reply that does not have the expected shape; `text` holds the offending part. */
export class HaproxyMalformedReplyError extends HaproxyError {
  readonly code = 'HAPROXY_MALFORMED_REPLY' as const;
  constructor(
    readonly what: string,
    readonly text: string,
    options?: ErrorOptions,
  ) {
    super(
      `malformed HAProxy ${what}: ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)}`,
      options,
    );
    this.name = 'HaproxyMalformedReplyError';
  }
}

/** A stats socket address that is neither a path nor `ipv4@host:port` / `ipv6@[host]:port`. */
export class HaproxyBadAddressError extends HaproxyError {
  readonly code = 'HAPROXY_BAD_ADDRESS' as const;
  constructor(
    readonly address: string,
    options?: ErrorOptions,
  ) {
    super(`not a stats socket address: ${JSON.stringify(address)}`, options);
    this.name = 'HaproxyBadAddressError';
  }
}

/** A command argument HAProxy's CLI cannot carry (empty, or with whitespace or control characters). */
export class HaproxyBadArgumentError extends HaproxyError {
  readonly code = 'HAPROXY_BAD_ARGUMENT' as const;
  constructor(
    readonly argument: string,
    options?: ErrorOptions,
  ) {
    super(`HAProxy's CLI cannot carry the argument ${JSON.stringify(argument)}`, options);
    this.name = 'HaproxyBadArgumentError';
  }
}

/**
 * The read reached a worker that is being replaced (`Stopping: 1`): its frontends already show `STOP`,
 * so the health feed treats the read like a failed one and reads again.
 */
export class HaproxyWorkerStoppingError extends HaproxyError {
  readonly code = 'HAPROXY_WORKER_STOPPING' as const;
  constructor(
    readonly pid: number,
    options?: ErrorOptions,
  ) {
    super(`HAProxy worker ${pid} is stopping (reload under way)`, options);
    this.name = 'HaproxyWorkerStoppingError';
  }
}

/**
 * Turns HAProxy's free-text reply to a command into a typed error, or `null` when the reply is not one
 * of the known error texts (a success for a state change is an empty reply).
 */
export function parseCommandError(command: string, reply: string): HaproxyError | null {
  const text = reply.trim();
  if (text === '') return null;
  if (text === 'Permission denied') return new HaproxyPermissionDeniedError(command);
  if (text.startsWith('Unknown command')) return new HaproxyUnknownCommandError(command);
  if (text === 'No such server.') return new HaproxyUnknownServerError(command, text);
  if (text.startsWith('No such event sink') || text.startsWith('Nothing to report for this sink')) {
    const ring = /^show events (\S+)/.exec(command)?.[1] ?? '';
    return new HaproxyUnknownRingError(command, ring, text.startsWith('Nothing'), text.split('\n')[0]!);
  }
  if (/^(No such (backend|frontend|proxy)\.|Can't find backend\.)$/.test(text)) {
    return new HaproxyUnknownProxyError(command, text);
  }
  return null;
}
