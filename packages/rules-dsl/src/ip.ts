import type { Family } from './ast.js';

/** Why a network failed to parse: the diagnostic code, a message, and where in the text the fault starts. */
export interface PrefixError {
  readonly ok: false;
  readonly code: 'RULE_BAD_ADDRESS' | 'RULE_BAD_MASK' | 'RULE_HOST_BITS';
  readonly message: string;
  /** Offset of the offending part within the text that was parsed. */
  readonly offset: number;
  readonly length: number;
}

/** A parsed network in canonical form. */
export interface ParsedPrefix {
  readonly ok: true;
  readonly family: Family;
  /** Canonical CIDR: lowercase, RFC 5952 compressed IPv6, always with the mask. */
  readonly prefix: string;
  readonly length: number;
}

interface Address {
  readonly family: Family;
  /** Octets (IPv4) or 16-bit groups (IPv6). */
  readonly parts: readonly number[];
}

const DECIMAL = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIPv4(text: string): Address | string {
  const octets = text.split('.');
  if (octets.length !== 4) return `'${text}' is not an IPv4 address: expected four dot-separated numbers`;
  const parts: number[] = [];
  for (const o of octets) {
    if (!DECIMAL.test(o)) {
      return /^0[0-9]+$/.test(o)
        ? `'${text}' has a leading zero in '${o}', which some tools read as octal`
        : `'${text}' is not an IPv4 address: '${o}' is not a number from 0 to 255`;
    }
    const n = Number(o);
    if (n > 255) return `'${text}' is not an IPv4 address: ${o} is larger than 255`;
    parts.push(n);
  }
  return { family: 'ipv4', parts };
}

function parseGroups(text: string, where: string, last: boolean): number[] | string {
  if (text === '') return [];
  const out: number[] = [];
  const pieces = text.split(':');
  for (let i = 0; i < pieces.length; i++) {
    const g = pieces[i] ?? '';
    // An embedded IPv4 address may only be the last 32 bits of the whole address.
    if (last && i === pieces.length - 1 && g.includes('.')) {
      const v4 = parseIPv4(g);
      if (typeof v4 === 'string') return v4;
      const [a = 0, b = 0, c = 0, d = 0] = v4.parts;
      out.push((a << 8) | b, (c << 8) | d);
    } else if (HEX_GROUP.test(g)) {
      out.push(parseInt(g, 16));
    } else {
      return `'${where}' is not an IPv6 address: '${g}' is not a group of 1 to 4 hex digits`;
    }
  }
  return out;
}

function parseIPv6(text: string): Address | string {
  const halves = text.split('::');
  if (halves.length > 2) return `'${text}' is not an IPv6 address: '::' may appear only once`;
  const head = parseGroups(halves[0] ?? '', text, halves.length === 1);
  if (typeof head === 'string') return head;
  if (halves.length === 1) {
    if (head.length !== 8) return `'${text}' is not an IPv6 address: expected 8 groups, found ${head.length}`;
    return { family: 'ipv6', parts: head };
  }
  const tail = parseGroups(halves[1] ?? '', text, true);
  if (typeof tail === 'string') return tail;
  if (head.length + tail.length > 7) return `'${text}' is not an IPv6 address: too many groups around '::'`;
  return {
    family: 'ipv6',
    parts: [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail],
  };
}

function formatAddress(a: Address): string {
  if (a.family === 'ipv4') return a.parts.join('.');
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (a.parts[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && a.parts[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = a.parts.map((p) => p.toString(16));
  // RFC 5952 section 5: IPv4-mapped (and, as inet_ntop and BIRD print them, IPv4-compatible) addresses keep
  // their last 32 bits in dotted decimal.
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && a.parts[5] === 0xffff))) {
    const [g6 = 0, g7 = 0] = a.parts.slice(6);
    return `::${bestLen === 5 ? 'ffff:' : ''}${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`;
  }
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function maskAddress(a: Address, length: number): Address {
  const width = a.family === 'ipv4' ? 8 : 16;
  const parts = a.parts.map((p, i) => {
    const keep = Math.max(0, Math.min(width, length - i * width));
    return keep === 0 ? 0 : p & ~((1 << (width - keep)) - 1) & ((1 << width) - 1);
  });
  return { family: a.family, parts };
}

/**
 * Parses `<address>[/<length>]`. No mask means a host route (/32 or /128). Host bits set is an error whose
 * message suggests the network address.
 */
export function parsePrefix(text: string): ParsedPrefix | PrefixError {
  return fastIPv4(text) ?? fastIPv6(text) ?? parsePrefixSlowly(text);
}

/**
 * Reads the common case, a canonical IPv4 address with or without a mask (no leading zeros, no host
 * bits), from `text[start, end)` without cutting it out or allocating: the parser reads every network of a
 * file through it. The result is left in the fields; anything else makes {@link scan} return false, for
 * the full parser to accept or explain.
 */
export class IPv4Scanner {
  /** The address as an unsigned 32-bit number. */
  address = 0;
  length = 0;
  /** Whether the text had a mask (`/24`); without one the prefix is a host route, `/32`. */
  masked = false;

  scan(text: string, start: number, end: number): boolean {
    let value = 0;
    let octet = -1;
    let octets = 0;
    let leadingZero = false;
    let i = start;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        if (leadingZero) return false;
        if (octet < 0) {
          octet = c - 48;
          leadingZero = c === 48;
        } else {
          octet = octet * 10 + c - 48;
          if (octet > 255) return false;
        }
      } else if (c === 46 || c === 47) {
        if (octet < 0) return false;
        value = value * 256 + octet;
        octets++;
        octet = -1;
        leadingZero = false;
        if (c === 47) break;
        if (octets === 4) return false;
      } else {
        return false;
      }
    }
    if (i === end) {
      if (octet < 0 || octets !== 3) return false;
      this.address = value * 256 + octet;
      this.length = 32;
      this.masked = false;
      return true;
    }
    if (octets !== 4) return false;
    // The mask: 0, or 1 to 32 without a leading zero.
    const digits = end - i - 1;
    const d0 = text.charCodeAt(i + 1) - 48;
    const d1 = digits === 2 ? text.charCodeAt(i + 2) - 48 : 0;
    if (digits < 1 || digits > 2 || !(d0 >= 0 && d0 <= 9) || !(d1 >= 0 && d1 <= 9)) return false;
    if (digits === 2 && d0 === 0) return false;
    const length = digits === 2 ? d0 * 10 + d1 : d0;
    if (length > 32) return false;
    if (length < 32 && value % 2 ** (32 - length) !== 0) return false;
    this.address = value;
    this.length = length;
    this.masked = true;
    return true;
  }
}

/**
 * Recognizes, in place, an IPv6 address or prefix written exactly as its canonical text (RFC 5952 as
 * {@link formatAddress} writes it: lowercase hex without leading zeros, the first longest run of two or
 * more zero groups as '::', no dotted IPv4 part) with no host bits set. Such a text is its own canonical
 * prefix, so the full parser (which splits, maps and joins) is not needed; anything else makes
 * {@link scan} return false.
 */
export class IPv6Scanner {
  length = 0;
  /** Whether the text had a mask; without one the prefix is a host route, `/128`. */
  masked = false;
  private readonly groups = [0, 0, 0, 0, 0, 0, 0, 0];
  private readonly parts = [0, 0, 0, 0, 0, 0, 0, 0];

  scan(text: string, start: number, end: number): boolean {
    const { groups, parts } = this;
    let count = 0;
    /** Where '::' stands, as the number of groups before it. */
    let gap = -1;
    let slash = end;
    let i = start;
    if (i + 1 < end && text.charCodeAt(i) === 58 && text.charCodeAt(i + 1) === 58) {
      gap = 0;
      i += 2;
    }
    while (i < end) {
      if (text.charCodeAt(i) === 47) {
        slash = i;
        break;
      }
      const groupStart = i;
      let value = 0;
      for (; i < end; i++) {
        const c = text.charCodeAt(i);
        if (c >= 48 && c <= 57) value = value * 16 + c - 48;
        else if (c >= 97 && c <= 102) value = value * 16 + c - 87;
        else break;
      }
      const digits = i - groupStart;
      if (digits === 0 || digits > 4 || (digits > 1 && text.charCodeAt(groupStart) === 48) || count === 8) {
        return false;
      }
      groups[count++] = value;
      if (i === end) break;
      const c = text.charCodeAt(i);
      if (c === 47) {
        slash = i;
        break;
      }
      if (c !== 58) return false;
      i++;
      if (i < end && text.charCodeAt(i) === 58) {
        if (gap >= 0) return false;
        gap = count;
        i++;
      } else if (i === end || text.charCodeAt(i) === 47) {
        return false;
      }
    }
    // '::' stands for two zero groups or more: one alone is written '0'.
    if (gap < 0 ? count !== 8 : count > 6) return false;
    const zeros = 8 - count;
    for (let k = 0; k < 8; k++) {
      parts[k] = gap < 0 || k < gap ? (groups[k] ?? 0) : k < gap + zeros ? 0 : (groups[k - zeros] ?? 0);
    }
    // The run formatAddress compresses: the first longest run of two or more zero groups.
    let bestStart = -1;
    let bestLength = 1;
    for (let k = 0; k < 8;) {
      if (parts[k] !== 0) {
        k++;
        continue;
      }
      let j = k;
      while (j < 8 && parts[j] === 0) j++;
      if (j - k > bestLength) {
        bestStart = k;
        bestLength = j - k;
      }
      k = j;
    }
    if (gap < 0 ? bestStart >= 0 : bestStart !== gap || bestLength !== zeros) return false;
    // Addresses formatAddress writes with a dotted IPv4 part.
    if (bestStart === 0 && (bestLength === 6 || (bestLength === 5 && parts[5] === 0xffff))) return false;
    let length = 128;
    if (slash < end) {
      const digits = end - slash - 1;
      if (digits < 1 || digits > 3 || (digits > 1 && text.charCodeAt(slash + 1) === 48)) return false;
      length = 0;
      for (let k = slash + 1; k < end; k++) {
        const c = text.charCodeAt(k);
        if (c < 48 || c > 57) return false;
        length = length * 10 + c - 48;
      }
      if (length > 128) return false;
    }
    for (let k = 0; k < 8; k++) {
      const keep = Math.max(0, Math.min(16, length - 16 * k));
      if (keep < 16 && ((parts[k] ?? 0) & ((1 << (16 - keep)) - 1)) !== 0) return false;
    }
    this.length = length;
    this.masked = slash < end;
    return true;
  }
}

const scanner = new IPv4Scanner();
const scanner6 = new IPv6Scanner();

/** The common IPv6 case through {@link IPv6Scanner}; undefined means "use the full parser". */
function fastIPv6(text: string): ParsedPrefix | undefined {
  if (!scanner6.scan(text, 0, text.length)) return undefined;
  const { length } = scanner6;
  return { ok: true, family: 'ipv6', prefix: scanner6.masked ? text : [text, '/128'].join(''), length };
}

/** The common case through {@link IPv4Scanner}; undefined means "use the full parser". */
function fastIPv4(text: string): ParsedPrefix | undefined {
  if (!scanner.scan(text, 0, text.length)) return undefined;
  const { length } = scanner;
  // join() makes one flat string; `${text}/32` would make a string of two pieces.
  return { ok: true, family: 'ipv4', prefix: scanner.masked ? text : [text, '/32'].join(''), length };
}

/** {@link parsePrefix} without its fast paths: the reference they are tested against. */
export function parsePrefixSlowly(text: string): ParsedPrefix | PrefixError {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const maskText = slash < 0 ? undefined : text.slice(slash + 1);
  const parsed = addrText.includes(':')
    ? parseIPv6(addrText)
    : /^[0-9.]+$/.test(addrText)
      ? parseIPv4(addrText)
      : addrText === ''
        ? 'expected an IPv4 or IPv6 address, found nothing'
        : `'${addrText}' is not an IPv4 or IPv6 address`;
  if (typeof parsed === 'string') {
    return { ok: false, code: 'RULE_BAD_ADDRESS', message: parsed, offset: 0, length: addrText.length || 1 };
  }
  const max = parsed.family === 'ipv4' ? 32 : 128;
  let length = max;
  if (maskText !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(maskText) || Number(maskText) > max) {
      return {
        ok: false,
        code: 'RULE_BAD_MASK',
        message: `bad prefix length '/${maskText}': expected a number from 0 to ${max} for ${parsed.family === 'ipv4' ? 'IPv4' : 'IPv6'}`,
        offset: slash,
        length: maskText.length + 1,
      };
    }
    length = Number(maskText);
  }
  const network = maskAddress(parsed, length);
  const canonical = `${formatAddress(network)}/${length}`;
  if (network.parts.some((p, i) => p !== parsed.parts[i])) {
    return {
      ok: false,
      code: 'RULE_HOST_BITS',
      message: `'${text}' has host bits set; did you mean '${canonical}'?`,
      offset: 0,
      length: text.length,
    };
  }
  return { ok: true, family: parsed.family, prefix: canonical, length };
}

function addressOf(text: string): Address | undefined {
  const parsed = text.includes(':') ? parseIPv6(text) : parseIPv4(text);
  return typeof parsed === 'string' ? undefined : parsed;
}

/**
 * Whether prefix `inner` lies within prefix `outer` (same family, at least as long, same network bits).
 * Both are CIDR texts; anything unparsable is contained in nothing.
 */
export function prefixContains(outer: string, inner: string): boolean {
  const o = parsePrefix(outer);
  const i = parsePrefix(inner);
  if (!o.ok || !i.ok || o.family !== i.family || i.length < o.length) return false;
  const oa = addressOf(o.prefix.slice(0, o.prefix.indexOf('/')));
  const ia = addressOf(i.prefix.slice(0, i.prefix.indexOf('/')));
  if (!oa || !ia) return false;
  const masked = maskAddress(ia, o.length);
  return masked.parts.every((p, k) => p === oa.parts[k]);
}
