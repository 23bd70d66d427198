import { HaproxyMalformedReplyError } from './errors.js';

/** `srv_op_state`: 0 stopped, 1 starting, 2 running, 3 stopping. */
export type ServerOperationalState = 'stopped' | 'starting' | 'running' | 'stopping';

const OP_STATES: readonly ServerOperationalState[] = ['stopped', 'starting', 'running', 'stopping'];

/** Bits of `srv_admin_state`. */
export const SERVER_ADMIN_FLAGS = {
  forcedMaint: 0x01,
  inheritedMaint: 0x02,
  configMaint: 0x04,
  forcedDrain: 0x08,
  inheritedDrain: 0x10,
  resolutionMaint: 0x20,
  fqdnSet: 0x40,
} as const;

/** One row of `show servers state` (format version 1). */
export interface ServerStateRow {
  readonly backendId: number;
  readonly backend: string;
  readonly serverId: number;
  readonly server: string;
  readonly address: string;
  readonly operationalState: ServerOperationalState;
  /** Raw `srv_admin_state` bits; see `SERVER_ADMIN_FLAGS`. */
  readonly adminState: number;
  readonly maintenance: boolean;
  readonly drain: boolean;
  readonly userWeight: number;
  readonly initialWeight: number;
  readonly secondsSinceLastChange: number;
  /** Every column by its header name, as printed. */
  readonly fields: Readonly<Record<string, string>>;
}

const MAINT =
  SERVER_ADMIN_FLAGS.forcedMaint |
  SERVER_ADMIN_FLAGS.inheritedMaint |
  SERVER_ADMIN_FLAGS.configMaint |
  SERVER_ADMIN_FLAGS.resolutionMaint;
const DRAIN = SERVER_ADMIN_FLAGS.forcedDrain | SERVER_ADMIN_FLAGS.inheritedDrain;

/** Parses `show servers state`: a version line `1`, a `# ` header, then space-separated rows. */
export function parseServersState(text: string): ServerStateRow[] {
  const lines = text.split('\n').filter((l) => l !== '');
  if (lines[0] !== '1') throw new HaproxyMalformedReplyError('show servers state version', lines[0] ?? '');
  const header = lines[1];
  if (header === undefined || !header.startsWith('# ')) {
    throw new HaproxyMalformedReplyError('show servers state header', header ?? '');
  }
  const columns = header.slice(2).split(' ');
  return lines.slice(2).map((line) => {
    const values = line.split(' ');
    if (values.length < columns.length) throw new HaproxyMalformedReplyError('show servers state row', line);
    const fields: Record<string, string> = {};
    columns.forEach((c, i) => (fields[c] = values[i]!));
    const num = (column: string): number => {
      const raw = fields[column];
      if (raw === undefined || !/^\d+$/.test(raw))
        throw new HaproxyMalformedReplyError('show servers state row', line);
      return Number(raw);
    };
    const op = OP_STATES[num('srv_op_state')];
    if (op === undefined) throw new HaproxyMalformedReplyError('show servers state row', line);
    const admin = num('srv_admin_state');
    return {
      backendId: num('be_id'),
      backend: fields['be_name'] ?? '',
      serverId: num('srv_id'),
      server: fields['srv_name'] ?? '',
      address: fields['srv_addr'] ?? '',
      operationalState: op,
      adminState: admin,
      maintenance: (admin & MAINT) !== 0,
      drain: (admin & DRAIN) !== 0,
      userWeight: num('srv_uweight'),
      initialWeight: num('srv_iweight'),
      secondsSinceLastChange: num('srv_time_since_last_change'),
      fields,
    };
  });
}
