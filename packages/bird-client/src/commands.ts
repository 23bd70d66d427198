import { BirdInvalidInputError } from './errors.js';
import { parseAddress, parsePrefix } from './prefix.js';

const SYMBOL = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PATTERN = /^[A-Za-z0-9_*?]+$/;
/** BIRD refuses longer symbols with "Symbol too long" (`SYM_MAX_LEN`, conf/conf.h). */
export const MAX_SYMBOL_LENGTH = 64;

/** Why `name` cannot be a BIRD symbol (protocol or table name), or undefined when it can. */
export function symbolProblem(name: string): string | undefined {
  if (!SYMBOL.test(name)) return 'must be a BIRD symbol ([A-Za-z_][A-Za-z0-9_]*)';
  if (name.length > MAX_SYMBOL_LENGTH)
    return `is ${name.length} characters long; BIRD symbols have at most ${MAX_SYMBOL_LENGTH}`;
  return undefined;
}

/** Throws unless `name` is a plain BIRD symbol (protocol or table name). */
export function assertSymbol(field: string, name: string): string {
  const problem = symbolProblem(name);
  if (problem) throw new BirdInvalidInputError(field, name, problem);
  return name;
}

function protocolArgument(name: string): string {
  if (SYMBOL.test(name)) return name;
  if (PATTERN.test(name)) return `"${name}"`;
  throw new BirdInvalidInputError('protocol', name, 'must be a protocol name or a "*"/"?" pattern');
}

export interface ShowProtocolsOptions {
  readonly all?: boolean;
  /** A protocol name or a pattern such as `vol*`. */
  readonly name?: string;
}

export interface ShowRouteOptions {
  readonly table?: string;
  readonly protocol?: string;
  /** `for <address|prefix>`: the best matching route. */
  readonly for?: string;
  /** Only this exact network. */
  readonly prefix?: string;
  readonly all?: boolean;
  readonly count?: boolean;
  /** `export <p>`: only the routes protocol `p` exports (after its export filter). */
  readonly export?: string;
}

export interface ConfigureOptions {
  /** `check`: parse only; `soft`: do not restart protocols whose filters changed. */
  readonly mode?: 'check' | 'soft';
  /** `timeout <s>`: undo automatically unless `configure confirm` follows. */
  readonly timeoutSeconds?: number;
  readonly file?: string;
}

/** Pure builders of BIRD control-socket command lines (without the newline). */
export const birdCommands = {
  showStatus: (): string => 'show status',
  showSymbols: (): string => 'show symbols',
  showProtocols: (options: ShowProtocolsOptions = {}): string =>
    [
      'show protocols',
      options.all ? 'all' : '',
      options.name === undefined ? '' : protocolArgument(options.name),
    ]
      .filter(Boolean)
      .join(' '),
  showRoute: (options: ShowRouteOptions = {}): string => {
    const words = ['show route'];
    if (options.prefix !== undefined) words.push(parsePrefix(options.prefix).text);
    if (options.for !== undefined) {
      words.push(
        'for',
        options.for.includes('/') ? parsePrefix(options.for).text : parseAddress(options.for).text,
      );
    }
    if (options.table !== undefined) words.push('table', assertSymbol('table', options.table));
    if (options.export !== undefined) words.push('export', assertSymbol('export', options.export));
    if (options.protocol !== undefined) words.push('protocol', assertSymbol('protocol', options.protocol));
    if (options.all) words.push('all');
    if (options.count) words.push('count');
    return words.join(' ');
  },
  configure: (options: ConfigureOptions = {}): string => {
    const words = ['configure'];
    if (options.mode) words.push(options.mode);
    if (options.timeoutSeconds !== undefined) {
      if (!Number.isInteger(options.timeoutSeconds) || options.timeoutSeconds <= 0) {
        throw new BirdInvalidInputError(
          'timeoutSeconds',
          options.timeoutSeconds,
          'must be a positive integer',
        );
      }
      words.push('timeout', String(options.timeoutSeconds));
    }
    if (options.file !== undefined) {
      if (/["\n\\]/.test(options.file))
        throw new BirdInvalidInputError(
          'file',
          options.file,
          'must not contain quotes, backslashes or newlines',
        );
      words.push(`"${options.file}"`);
    }
    return words.join(' ');
  },
  configureConfirm: (): string => 'configure confirm',
  configureUndo: (): string => 'configure undo',
  configureStatus: (): string => 'configure status',
  enable: (protocol: string): string => `enable ${protocolArgument(protocol)}`,
  disable: (protocol: string): string => `disable ${protocolArgument(protocol)}`,
  restart: (protocol: string): string => `restart ${protocolArgument(protocol)}`,
} as const;
