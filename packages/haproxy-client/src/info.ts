import { HaproxyMalformedReplyError } from './errors.js';

/** A parsed `show info` reply: every `Key: value` field plus the ones the health feed relies on. */
export interface ProcessInfo {
  readonly fields: Readonly<Record<string, string>>;
  readonly version: string;
  /** The worker's pid: it changes on every reload. */
  readonly pid: number;
  readonly uptimeSec: number;
  /** True while this worker is being replaced by a reload (`Stopping: 1`). */
  readonly stopping: boolean;
  /**
   * Connections the worker holds now (`CurrConns`): every frontend's sessions together; the CLI connection
   * that reads it is not counted.
   */
  readonly currentConnections: number;
}

/** Parses `show info` (`Key: value` lines). Throws `HaproxyMalformedReplyError` on any other line. */
export function parseInfo(text: string): ProcessInfo {
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const colon = line.indexOf(': ');
    if (colon <= 0) {
      if (line.endsWith(':')) {
        fields[line.slice(0, -1)] = '';
        continue;
      }
      throw new HaproxyMalformedReplyError('show info line', line);
    }
    fields[line.slice(0, colon)] = line.slice(colon + 2);
  }
  return {
    fields,
    version: fields['Version'] ?? '',
    pid: integer(fields, 'Pid', text),
    uptimeSec: integer(fields, 'Uptime_sec', text),
    stopping: integer(fields, 'Stopping', text) !== 0,
    currentConnections: integer(fields, 'CurrConns', text),
  };
}

function integer(fields: Readonly<Record<string, string>>, key: string, text: string): number {
  const raw = fields[key];
  if (raw === undefined || !/^\d+$/.test(raw)) {
    throw new HaproxyMalformedReplyError(`show info (${key} missing or not a number)`, text);
  }
  return Number(raw);
}
