import { HaproxyBadArgumentError } from './errors.js';

/** The kinds of `show stat` rows; HAProxy filters them with a bitmask (1, 2, 4, 8). */
export type StatObjectType = 'frontend' | 'backend' | 'server' | 'listener';

const TYPE_BITS: Readonly<Record<StatObjectType, number>> = {
  frontend: 1,
  backend: 2,
  server: 4,
  listener: 8,
};

/** Server admin states for `set server <be>/<srv> state`. */
export type ServerAdminState = 'ready' | 'drain' | 'maint';

/** Forced health for `set server <be>/<srv> health` (checks take over again afterwards). */
export type ForcedServerHealth = 'up' | 'stopping' | 'down';

/**
 * Escapes one argument for the CLI: `;` separates commands and `\` escapes, so both get a `\`.
 * Whitespace cannot be carried at all (HAProxy splits arguments on it), so it is refused.
 */
export function escapeArgument(argument: string): string {
  if (argument === '' || /\s/.test(argument) || [...argument].some(isControl)) {
    throw new HaproxyBadArgumentError(argument);
  }
  return argument.replace(/[\\;]/g, (c) => `\\${c}`);
}

function isControl(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

/** Joins several commands into one line sent in a single round trip (non-interactive mode). */
export function joinCommands(commands: readonly string[]): string {
  return commands.join(';');
}

/** `show stat`, optionally keeping only some row types (e.g. frontends and backends: `show stat -1 3 -1`). */
export function showStat(types?: readonly StatObjectType[]): string {
  if (types === undefined) return 'show stat';
  const mask = types.reduce((m, t) => m | TYPE_BITS[t], 0);
  return `show stat -1 ${mask} -1`;
}

/**
 * `show stat <proxy> <mask> -1`: the rows of one proxy. HAProxy looks the name up among all proxies and
 * takes the first match, so of a frontend and a backend sharing a name only one can be selected.
 */
export function showStatOf(proxy: string, types: readonly StatObjectType[]): string {
  const mask = types.reduce((m, t) => m | TYPE_BITS[t], 0);
  return `show stat ${escapeArgument(proxy)} ${mask} -1`;
}

/** `show info`. */
export function showInfo(): string {
  return 'show info';
}

/** `show servers state [<backend>]`. */
export function showServersState(backend?: string): string {
  return backend === undefined ? 'show servers state' : `show servers state ${escapeArgument(backend)}`;
}

/**
 * `show events <ring> [-w] [-n]`: follow a ring (`-w`, the default) or dump it; `-n` starts at its end
 * instead of replaying it. `show events <ring> -n` (no wait) prints nothing but its empty line when the
 * ring exists: the cheapest way to ask.
 */
export function showEvents(
  ring: string,
  options: { readonly fromEnd?: boolean; readonly wait?: boolean } = {},
): string {
  return `show events ${escapeArgument(ring)}${options.wait === false ? '' : ' -w'}${options.fromEnd === false ? '' : ' -n'}`;
}

/** `show events`: the list of event sinks (rings and fd sinks), see `parseEventSinks`. */
export function showEventSinks(): string {
  return 'show events';
}

const server = (backend: string, name: string): string =>
  `${escapeArgument(backend)}/${escapeArgument(name)}`;

/** `disable server <be>/<srv>` (same as state maint). */
export function disableServer(backend: string, name: string): string {
  return `disable server ${server(backend, name)}`;
}

/** `enable server <be>/<srv>` (same as state ready). */
export function enableServer(backend: string, name: string): string {
  return `enable server ${server(backend, name)}`;
}

/** `set server <be>/<srv> state ready|drain|maint`. */
export function setServerState(backend: string, name: string, state: ServerAdminState): string {
  return `set server ${server(backend, name)} state ${state}`;
}

/** `set server <be>/<srv> health up|stopping|down`. */
export function setServerHealth(backend: string, name: string, health: ForcedServerHealth): string {
  return `set server ${server(backend, name)} health ${health}`;
}

/** `set server <be>/<srv> weight <n>` (absolute, 0-256). */
export function setServerWeight(backend: string, name: string, weight: number): string {
  if (!Number.isInteger(weight) || weight < 0 || weight > 256)
    throw new HaproxyBadArgumentError(String(weight));
  return `set server ${server(backend, name)} weight ${weight}`;
}

/** `disable frontend <fe>` (2.6 then reports it `PAUSED`). */
export function disableFrontend(name: string): string {
  return `disable frontend ${escapeArgument(name)}`;
}

/** `enable frontend <fe>`. */
export function enableFrontend(name: string): string {
  return `enable frontend ${escapeArgument(name)}`;
}
