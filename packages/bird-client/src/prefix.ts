import { BirdInvalidInputError } from './errors.js';

/** Address family of a route; BIRD 2 needs one static protocol per family (`ipv4;`/`ipv6;` channel). */
export type BirdFamily = 'ipv4' | 'ipv6';

/** A prefix parsed to numbers, so that BIRD's spelling and ours compare equal. */
export interface ParsedPrefix {
  readonly family: BirdFamily;
  /** Canonical text: dotted quad, or RFC 5952 for IPv6, with `/len`. */
  readonly text: string;
  /** Fixed-width key that sorts prefixes numerically within a family. */
  readonly key: string;
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets = parts.map((p) => (/^(0|[1-9]\d{0,2})$/.test(p) ? Number(p) : NaN));
  return octets.every((o) => o <= 255) ? octets : undefined;
}

function parseIpv6(text: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (!v4) return undefined;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) out.push(parseInt(part, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : undefined;
}

function formatIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function hostBitsZero(bytesOrGroups: number[], width: number, length: number): boolean {
  for (const [i, value] of bytesOrGroups.entries()) {
    const keep = Math.max(0, Math.min(width, length - i * width));
    const mask = keep === 0 ? 0 : ((1 << width) - 1) ^ ((1 << (width - keep)) - 1);
    if ((value & ~mask & ((1 << width) - 1)) !== 0) return false;
  }
  return true;
}

/** Parses `addr/len` (or a bare address, read as a host route); throws BirdInvalidInputError if host bits are set. */
const IPV4_PREFIX =
  /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})(?:\/(0|[1-9]\d?))?$/;

/** The common case, a well-formed IPv4 prefix, without the general parser's allocations. */
function fastIpv4(text: string): ParsedPrefix | undefined {
  const m = IPV4_PREFIX.exec(text);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = Number(m[2]);
  const c = Number(m[3]);
  const d = Number(m[4]);
  const len = m[5] === undefined ? 32 : Number(m[5]);
  if (a > 255 || b > 255 || c > 255 || d > 255 || len > 32) return undefined;
  const value = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  const hostMask = len === 32 ? 0 : (0xffffffff >>> len) >>> 0;
  if ((value & hostMask) !== 0) return undefined;
  return {
    family: 'ipv4',
    text: `${a}.${b}.${c}.${d}/${len}`,
    key: value.toString(16).padStart(8, '0') + len.toString().padStart(3, '0'),
  };
}

export function parsePrefix(text: string, family?: BirdFamily): ParsedPrefix {
  if (family !== 'ipv6') {
    const fast = fastIpv4(text);
    if (fast) return fast;
  }
  const [address = '', length, ...extra] = text.trim().split('/');
  const fail = (reason: string): never => {
    throw new BirdInvalidInputError('prefix', text, reason);
  };
  if (extra.length > 0) fail('more than one "/"');
  const v4 = address.includes(':') ? undefined : parseIpv4(address);
  const v6 = v4 ? undefined : parseIpv6(address);
  if (!v4 && !v6) return fail('not an IPv4 or IPv6 address');
  const actual: BirdFamily = v4 ? 'ipv4' : 'ipv6';
  if (family && family !== actual) fail(`is ${actual}, not ${family}`);
  const max = v4 ? 32 : 128;
  if (length !== undefined && !/^(0|[1-9]\d{0,2})$/.test(length)) fail('bad prefix length');
  const len = length === undefined ? max : Number(length);
  if (len > max) fail(`prefix length above ${max}`);
  if (v4 && !hostBitsZero(v4, 8, len)) fail('host bits set');
  if (v6 && !hostBitsZero(v6, 16, len)) fail('host bits set');
  const canonical = v4 ? v4.join('.') : formatIpv6(v6 ?? []);
  const key =
    (v4 ?? v6 ?? []).map((n) => n.toString(16).padStart(4, '0')).join('') + len.toString().padStart(3, '0');
  return { family: actual, text: `${canonical}/${len}`, key };
}

/** Parses a bare IPv4 or IPv6 address (a gateway); returns canonical text and family. */
export function parseAddress(text: string): { family: BirdFamily; text: string } {
  if (text.includes('/')) throw new BirdInvalidInputError('address', text, 'must not have a prefix length');
  const parsed = parsePrefix(text);
  return { family: parsed.family, text: parsed.text.slice(0, parsed.text.indexOf('/')) };
}
