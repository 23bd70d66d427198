/** One line of a `show events <ring>` stream, as far as it could be understood. */
export interface RingEvent {
  /** Syslog priority (`<129>` is local0.alert), when the ring uses an RFC 5424/3164 format. */
  readonly priority?: number;
  /** The timestamp as printed (RFC 5424: ISO 8601 with microseconds). */
  readonly timestamp?: string;
  readonly pid?: number;
  /** The free-text message, e.g. `Server be/s1 is going DOWN for maintenance. ...`. */
  readonly message: string;
  /** The proxy the message is about, when it names one (`be` in `Server be/s1 ...`). */
  readonly proxy?: string;
  /** The server the message is about, when it names one. */
  readonly server?: string;
}

const RFC5424 = /^<(\d{1,3})>1 (\S+) \S+ \S+ (\S+) \S+ \S+ (.*)$/;

/** Parses one ring line; lines in an unknown format are kept whole as the message. */
export function parseRingEvent(line: string): RingEvent {
  const m = RFC5424.exec(line);
  const base: RingEvent = m
    ? { priority: Number(m[1]), timestamp: m[2]!, ...pid(m[3]!), message: m[4]! }
    : { message: line };
  return { ...base, ...subject(base.message) };
}

function pid(raw: string): { pid?: number } {
  return /^\d+$/.test(raw) ? { pid: Number(raw) } : {};
}

function subject(message: string): { proxy?: string; server?: string } {
  const server = /^(?:Health check for )?(?:[Bb]ackup )?[Ss]erver ([^/\s]+)\/(\S+?)[\s,]/.exec(message);
  if (server) return { proxy: server[1]!, server: server[2]! };
  const proxy = /^(?:Paused|Resumed|Stopping|Proxy) (?:frontend |backend |proxy )?(\S+?)\.?(?:\s|$)/.exec(
    message,
  );
  if (proxy) return { proxy: proxy[1]! };
  const backend = /^backend (\S+) has no server available!/.exec(message);
  if (backend) return { proxy: backend[1]! };
  return {};
}

/** One sink of `show events` (no argument): a ring (`type=buffer`) or a file descriptor (`type=fd`). */
export interface EventSink {
  readonly name: string;
  /** `buffer` for a ring (`ring` sections and `buf0`), `fd` for stdout/stderr. */
  readonly type: string;
  readonly dropped: number;
  readonly description: string;
}

const SINK_LINE = /^\s+(\S+)\s+: type=(\S+), (\d+) dropped, (.*)$/;

/** Parses the sink list that `show events` without a sink prints; lines of another shape are skipped. */
export function parseEventSinks(text: string): EventSink[] {
  return text.split('\n').flatMap((line) => {
    const m = SINK_LINE.exec(line);
    return m ? [{ name: m[1]!, type: m[2]!, dropped: Number(m[3]), description: m[4]! }] : [];
  });
}
