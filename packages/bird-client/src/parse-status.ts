import type { BirdReply } from './reply-reader.js';

/** `show status`, parsed. Times are BIRD's own text (its `timeformat base`). */
export interface BirdStatus {
  readonly version: string;
  readonly routerId: string | undefined;
  readonly hostname: string | undefined;
  readonly serverTime: string | undefined;
  readonly lastReboot: string | undefined;
  readonly lastReconfiguration: string | undefined;
  /** From the final 0013 line: `up`, `reconfiguring` or `shutting-down`. */
  readonly state: 'up' | 'reconfiguring' | 'shutting-down' | 'unknown';
  readonly stateText: string;
}

const STATES: Record<string, BirdStatus['state']> = {
  'Daemon is up and running': 'up',
  'Reconfiguration in progress': 'reconfiguring',
  'Shutdown in progress': 'shutting-down',
};

export function parseShowStatus(reply: BirdReply): BirdStatus {
  const field = (prefix: string): string | undefined => {
    const line = reply.lines.find((l) => l.text.startsWith(prefix));
    return line?.text.slice(prefix.length).trim();
  };
  const version = reply.lines.find((l) => l.code === 1000)?.text.replace(/^BIRD\s+/, '') ?? '';
  return {
    version,
    routerId: field('Router ID is '),
    hostname: field('Hostname is '),
    serverTime: field('Current server time is '),
    lastReboot: field('Last reboot on '),
    lastReconfiguration: field('Last reconfiguration on '),
    state: STATES[reply.text] ?? 'unknown',
    stateText: reply.text,
  };
}

/** The version from the greeting `0001 BIRD 2.0.12 ready.`, or undefined if it is not a BIRD greeting. */
export function parseBanner(reply: BirdReply): string | undefined {
  if (reply.code !== 1) return undefined;
  return /^BIRD (\S+) ready\.$/.exec(reply.text)?.[1];
}
