/** Base class of every error this package throws; `code` is a stable literal to branch on. */
export abstract class BirdError extends Error {
  abstract readonly code: string;
}

/** BIRD answered a command with a runtime error (8xxx), e.g. `8001 Network not found`. */
export class BirdReplyError extends BirdError {
  readonly code = 'BIRD_REPLY_ERROR' as const;
  constructor(
    readonly command: string,
    readonly replyCode: number,
    readonly replyText: string,
  ) {
    super(`BIRD rejected "${command}": ${replyCode} ${replyText}`);
    this.name = 'BirdReplyError';
  }
}

/** BIRD could not parse a command (9xxx), e.g. `9001 syntax error, unexpected CF_SYM_UNDEFINED`. */
export class BirdCommandSyntaxError extends BirdError {
  readonly code = 'BIRD_COMMAND_SYNTAX' as const;
  constructor(
    readonly command: string,
    readonly replyCode: number,
    readonly replyText: string,
  ) {
    super(`BIRD could not parse "${command}": ${replyCode} ${replyText}`);
    this.name = 'BirdCommandSyntaxError';
  }
}

/** `configure` failed with 8002: the configuration (main file or an include) has an error; BIRD keeps running the old one. */
export class BirdConfigError extends BirdError {
  readonly code = 'BIRD_CONFIG_INVALID' as const;
  readonly replyCode = 8002;
  constructor(
    readonly replyText: string,
    readonly file: string | undefined,
    readonly line: number | undefined,
    readonly column: number | undefined,
    options?: ErrorOptions,
  ) {
    super(`BIRD configuration error: ${replyText}`, options);
    this.name = 'BirdConfigError';
  }
}

/** No complete reply arrived within the timeout; the connection is dropped so later replies cannot be misattributed. */
export class BirdTimeoutError extends BirdError {
  readonly code = 'BIRD_TIMEOUT' as const;
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
    readonly socketPath: string,
  ) {
    super(`BIRD did not answer "${command}" within ${timeoutMs} ms on ${socketPath}`);
    this.name = 'BirdTimeoutError';
  }
}

/** The control socket could not be reached, or closed while a command was pending. */
export class BirdConnectionError extends BirdError {
  readonly code = 'BIRD_CONNECTION' as const;
  constructor(
    readonly socketPath: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`BIRD control socket ${socketPath}: ${message}`, options);
    this.name = 'BirdConnectionError';
  }
}

/** BIRD sent bytes that do not follow the control-socket reply format. */
export class BirdProtocolError extends BirdError {
  readonly code = 'BIRD_PROTOCOL' as const;
  constructor(readonly line: string) {
    super(`Malformed BIRD reply line: ${JSON.stringify(line)}`);
    this.name = 'BirdProtocolError';
  }
}

/** BIRD resets the connection on a command line of 1 KiB or more; this is raised before sending. */
export class BirdCommandTooLongError extends BirdError {
  readonly code = 'BIRD_COMMAND_TOO_LONG' as const;
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`BIRD command is ${length} bytes, the limit is ${limit}`);
    this.name = 'BirdCommandTooLongError';
  }
}

/** A command argument or a desired route cannot be expressed safely in BIRD's syntax. */
export class BirdInvalidInputError extends BirdError {
  readonly code = 'BIRD_INVALID_INPUT' as const;
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`Invalid ${field} ${JSON.stringify(value)}: ${reason}`);
    this.name = 'BirdInvalidInputError';
  }
}

/** After a successful `configure`, BIRD does not hold the routes the include file describes. */
export class BirdVerifyError extends BirdError {
  readonly code = 'BIRD_VERIFY_FAILED' as const;
  constructor(
    readonly protocol: string,
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
  ) {
    super(
      `BIRD protocol ${protocol} does not hold the desired routes (missing: ${missing.join(', ') || 'none'}; unexpected: ${unexpected.join(', ') || 'none'})`,
    );
    this.name = 'BirdVerifyError';
  }
}

/** The include file could not be written, synced or restored. */
export class BirdIncludeWriteError extends BirdError {
  readonly code = 'BIRD_INCLUDE_WRITE' as const;
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot write BIRD include file ${path}`, options);
    this.name = 'BirdIncludeWriteError';
  }
}
