/** Where a command writes: standard output or error (tests pass their own). */
export interface Output {
  write(text: string): void;
}

/** The command line is wrong (an unknown command, a missing or unreadable file, a bad serial): exit 2. */
export class RhictlUsageError extends Error {
  readonly code = 'RHICTL_USAGE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RhictlUsageError';
  }
}
