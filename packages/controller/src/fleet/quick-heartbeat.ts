/** A heartbeat's seq, and its time in epoch ms. */
export interface QuickBeat {
  readonly seq: number;
  readonly ms: number;
}

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const HEAD = ascii('{"schema":"rhi.v1.heartbeat","node":"');
const TIME = ascii('","time":"');
const SEQ = ascii('","seq":');
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The seq and time of a heartbeat from `node` read straight from its bytes, when they are exactly what
 * agents write (`JSON.stringify` of `schema`, `node`, `time`, `seq` in that order): the node a token, the
 * time as `Date.prototype.toISOString` writes it (a date that exists, from 1970), the seq a non-negative
 * integer of at most 15 digits. Anything else is undefined, left to `JSON.parse` and the schema; whatever
 * this accepts, they accept too, with the same seq and time (test/quick-heartbeat.test.ts). Decodes and
 * allocates nothing: a fleet's heartbeats come by the thousand a second, and this is most of their cost
 * to the controller otherwise.
 */
export function quickHeartbeat(data: Uint8Array, node: string): QuickBeat | undefined {
  const n = node.length;
  if (n === 0 || n > 64 || data.length < HEAD.length + n + TIME.length + 24 + SEQ.length + 2)
    return undefined;
  let at = same(data, 0, HEAD);
  for (let i = 0; i < n; i++) {
    const c = node.charCodeAt(i);
    if (data[at + i] !== c || !tokenChar(c)) return undefined;
  }
  at = same(data, at + n, TIME);
  if (at < 0) return undefined;
  const ms = isoMs(data, at);
  at = same(data, at + 24, SEQ);
  if (at < 0 || Number.isNaN(ms)) return undefined;
  const end = data.length - 1;
  const digits = end - at;
  if (data[end] !== 0x7d || digits < 1 || digits > 15 || (digits > 1 && data[at] === 0x30)) return undefined;
  const seq = number(data, at, digits);
  return Number.isNaN(seq) ? undefined : { seq, ms };
}

/** The index after `what` when `data` holds it at `at`, else -1 (and -1 stays -1). */
function same(data: Uint8Array, at: number, what: Uint8Array): number {
  if (at < 0) return -1;
  for (let i = 0; i < what.length; i++) if (data[at + i] !== what[i]) return -1;
  return at + what.length;
}

function tokenChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x5f
  );
}

/** The epoch ms of `YYYY-MM-DDTHH:MM:SS.sssZ` at `at` (a date that exists, 1970 to 9999), else NaN. */
function isoMs(d: Uint8Array, at: number): number {
  if (d[at + 4] !== 0x2d || d[at + 7] !== 0x2d || d[at + 10] !== 0x54) return NaN;
  if (d[at + 13] !== 0x3a || d[at + 16] !== 0x3a || d[at + 19] !== 0x2e || d[at + 23] !== 0x5a) return NaN;
  const year = number(d, at, 4);
  const month = number(d, at + 5, 2);
  const day = number(d, at + 8, 2);
  const hour = number(d, at + 11, 2);
  const minute = number(d, at + 14, 2);
  const second = number(d, at + 17, 2);
  const milli = number(d, at + 20, 3);
  if (Number.isNaN(year + month + day + hour + minute + second + milli)) return NaN;
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
    return NaN;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS[month - 1]! + (leap ? 1 : 0)) return NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, milli);
}

/** The number written by `length` decimal digits at `at`, or NaN. */
function number(d: Uint8Array, at: number, length: number): number {
  let n = 0;
  for (let i = at; i < at + length; i++) {
    const digit = d[i]! - 0x30;
    if (!(digit >= 0 && digit <= 9)) return NaN;
    n = n * 10 + digit;
  }
  return n;
}
