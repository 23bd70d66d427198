import { HaproxyBadAddressError } from './errors.js';

/** Where a stats socket listens, parsed from HAProxy's own address syntax. */
export type SocketAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly family: 4 | 6; readonly host: string; readonly port: number };

/**
 * Parses a stats socket address as written on HAProxy's `stats socket` line: a unix path (optionally
 * `unix@/path`), `ipv4@host:port` or `ipv6@[host]:port`.
 */
export function parseSocketAddress(address: string): SocketAddress {
  if (address.startsWith('ipv4@')) {
    const m = /^ipv4@([^:\s[\]]+):(\d{1,5})$/.exec(address);
    if (!m) throw new HaproxyBadAddressError(address);
    return { kind: 'tcp', family: 4, host: m[1]!, port: port(address, m[2]!) };
  }
  if (address.startsWith('ipv6@')) {
    const m = /^ipv6@\[([0-9A-Fa-f:.%\w]+)\]:(\d{1,5})$/.exec(address);
    if (!m) throw new HaproxyBadAddressError(address);
    return { kind: 'tcp', family: 6, host: m[1]!, port: port(address, m[2]!) };
  }
  const path = address.startsWith('unix@') ? address.slice('unix@'.length) : address;
  if (path === '' || /^[a-z0-9]+@/.test(path) || path.includes('\0'))
    throw new HaproxyBadAddressError(address);
  return { kind: 'unix', path };
}

function port(address: string, digits: string): number {
  const n = Number(digits);
  if (n < 1 || n > 65535) throw new HaproxyBadAddressError(address);
  return n;
}

/** Renders an address back in HAProxy's syntax (used in logs and errors). */
export function formatSocketAddress(address: SocketAddress): string {
  if (address.kind === 'unix') return address.path;
  return address.family === 4
    ? `ipv4@${address.host}:${address.port}`
    : `ipv6@[${address.host}]:${address.port}`;
}
