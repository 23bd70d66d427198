import type { RolloutRecord, RolloutStatus, RolloutStep, RuleSetTarget } from '@rhi/contracts/fleet';

/** The states that end a rollout (as the controller's rollout machine has them): nothing moves it on. */
export const TERMINAL_STATUSES: ReadonlySet<RolloutStatus> = new Set([
  'completed',
  'rolledBack',
  'aborted',
  'failed',
]);

/** How a status is shown: an icon and a word, always together (never colour alone), and a tone for colour. */
export interface StatusLook {
  readonly icon: string;
  readonly text: string;
  readonly tone: 'ok' | 'bad' | 'warn' | 'info' | 'muted';
}

/** Each status's look; the text is the status as `rhictl rollout status` prints it, in capitals. */
export const STATUS_LOOK: Readonly<Record<RolloutStatus, StatusLook>> = {
  pending: { icon: '◌', text: 'PENDING', tone: 'muted' },
  canary: { icon: '▶', text: 'CANARY', tone: 'info' },
  batch: { icon: '▶', text: 'BATCH', tone: 'info' },
  soaking: { icon: '◷', text: 'SOAKING', tone: 'info' },
  paused: { icon: '‖', text: 'PAUSED', tone: 'warn' },
  completed: { icon: '✓', text: 'COMPLETED', tone: 'ok' },
  rollingBack: { icon: '↺', text: 'ROLLINGBACK', tone: 'warn' },
  rolledBack: { icon: '↺', text: 'ROLLEDBACK', tone: 'bad' },
  aborted: { icon: '■', text: 'ABORTED', tone: 'bad' },
  failed: { icon: '✗', text: 'FAILED', tone: 'bad' },
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A controller time (ms since the epoch) as rhictl prints it: `2026-01-02 10:00:00Z`. */
export const clock = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

/** A duration left, rounded up to whole seconds, never below 0: `12 s`. */
export const seconds = (ms: number): string => `${Math.max(0, Math.ceil(ms / 1000))} s`;

/** `all`, or the label selector. */
export const targetText = (t: RuleSetTarget): string => (t.kind === 'all' ? 'all' : t.selector);

/** `a, b, c`, or the first `most` and how many more. */
export function names(list: readonly string[], most = 8): string {
  return list.length <= most
    ? list.join(', ')
    : `${list.slice(0, most).join(', ')} and ${list.length - most} more`;
}

/** One line of the rollout list. */
export interface RolloutRow {
  readonly id: string;
  readonly status: RolloutStatus;
  readonly look: StatusLook;
  /** The one under way (`active` of the list). */
  readonly active: boolean;
  readonly serial: number;
  readonly target: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly message: string;
  /** `applied 3/5` over every step's nodes. */
  readonly progress: string;
}

/** What `GET /api/v1/rollouts` answers. */
export interface RolloutList {
  readonly active: string | null;
  readonly rollouts: readonly RolloutRecord[];
}

function rowOf(r: RolloutRecord, active: string | null): RolloutRow {
  const nodes = r.steps.reduce((n, s) => n + s.nodes.length, 0);
  const applied = r.steps.reduce((n, s) => n + s.applied.length, 0);
  return {
    id: r.id,
    status: r.status,
    look: STATUS_LOOK[r.status],
    active: r.id === active,
    serial: r.ruleSet.serial,
    target: targetText(r.target),
    createdBy: r.createdBy,
    createdAt: clock(r.createdAt),
    message: r.message ?? '',
    progress: `applied ${applied}/${nodes}`,
  };
}

/**
 * The list's rows: the rollout under way first (`activeRecord` when the list's newest ones leave it out),
 * then the others newest first, each once. Pure.
 */
export function rolloutRows(list: RolloutList, activeRecord: RolloutRecord | null = null): RolloutRow[] {
  const records = [...list.rollouts];
  if (activeRecord && activeRecord.id === list.active && !records.some((r) => r.id === activeRecord.id))
    records.push(activeRecord);
  const seen = new Set<string>();
  const unique = records.filter((r) => !seen.has(r.id) && seen.add(r.id));
  unique.sort(
    (a, b) =>
      Number(b.id === list.active) - Number(a.id === list.active) ||
      b.createdAt - a.createdAt ||
      (a.id < b.id ? -1 : 1),
  );
  return unique.map((r) => rowOf(r, list.active));
}

/** Where one node of a step is: not yet assigned, assigned and not answered, applied, or rejected. */
export type NodeState = 'waiting' | 'assigned' | 'applied' | 'rejected';

/** One node of a step (or of the rollback), with the agent's rejection when it refused the rule set. */
export interface NodeProgress {
  readonly name: string;
  readonly state: NodeState;
  readonly code?: string;
  readonly reason?: string;
}

/** One step of a rollout, as the detail shows it. */
export interface StepProgress {
  readonly index: number;
  readonly kind: RolloutStep['kind'];
  /** `1 node`, `2 nodes`. */
  readonly size: string;
  /** `applied 1/2`, or null before its assignment. */
  readonly applied: string | null;
  /** rhictl's words for where it is: `waiting`, `done`, `soaking, 40 s left`, `waiting for lb-2, due in 9 s`. */
  readonly phase: string;
  readonly current: boolean;
  /** Ms of soak left when the step soaks now (for the countdown); null otherwise. */
  readonly soakLeftMs: number | null;
  readonly nodes: readonly NodeProgress[];
}

/** The rollback of a rollout: what it assigns and how far it went. */
export interface RollbackProgress {
  readonly serial: number;
  readonly of: number;
  /** `rollback: serial 14 (a copy of 11) to 3 nodes, applied 2/3`. */
  readonly line: string;
  readonly applied: string;
  readonly nodes: readonly NodeProgress[];
}

/** A rollout in detail, in the words of `rhictl rollout status`. */
export interface RolloutDetail {
  readonly id: string;
  readonly status: RolloutStatus;
  readonly look: StatusLook;
  readonly serial: number;
  readonly hash: string;
  readonly target: string;
  /** `rollout s12-x: serial 12 to site=par1: PAUSED (by alice: lunch)`. */
  readonly head: string;
  /** `started by alice at 2026-01-02 10:00:00Z: tighten be_app`. */
  readonly started: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly message: string | null;
  /** `canary 1, batch 25%, soak 120 s, ack timeout 120 s`. */
  readonly strategy: string;
  readonly steps: readonly StepProgress[];
  /** `rejected by lb-3 (RULESET_UNKNOWN_PROXIES): ...`, one per rejection. */
  readonly rejections: readonly string[];
  /** `stopped (rejected) by controller at ...: ...`, when it stopped. */
  readonly stop: string | null;
  readonly rollback: RollbackProgress | null;
  /** What a stop would assign, while it can still stop: `rolls back to: serial 11 (re-issued as 14)`. */
  readonly rollsBackTo: string | null;
  /** `FAILED (rollbackAckTimeout): ...: needs a person (nodes: lb-2)`. */
  readonly failure: string | null;
  /** Targeted nodes lost when it was planned: in no step. */
  readonly absent: readonly string[];
}

function nodeStates(
  nodes: readonly string[],
  assigned: boolean,
  applied: readonly string[],
  rejected: RolloutRecord['rejected'],
): NodeProgress[] {
  const ok = new Set(applied);
  const refused = new Map(rejected.map((x) => [x.node, x]));
  return nodes.map((name) => {
    const x = refused.get(name);
    if (x)
      return {
        name,
        state: 'rejected',
        reason: x.reason,
        ...(x.code === undefined ? {} : { code: x.code }),
      };
    return { name, state: !assigned ? 'waiting' : ok.has(name) ? 'applied' : 'assigned' };
  });
}

function stepOf(r: RolloutRecord, step: RolloutStep, k: number, now: number): StepProgress {
  const assigned = step.assignedAt !== null;
  const base = {
    index: k,
    kind: step.kind,
    size: plural(step.nodes.length, 'node'),
    applied: assigned ? `applied ${step.applied.length}/${step.nodes.length}` : null,
    nodes: nodeStates(step.nodes, assigned, step.applied, r.rejected),
  };
  const current = k === r.step && !TERMINAL_STATUSES.has(r.status) && r.status !== 'rollingBack';
  if (!assigned) return { ...base, phase: 'waiting', current, soakLeftMs: null };
  if (step.completedAt !== null) return { ...base, phase: 'done', current: false, soakLeftMs: null };
  if (!current) return { ...base, phase: '', current, soakLeftMs: null };
  if (step.soakUntil !== null) {
    const left = step.soakUntil - now;
    return {
      ...base,
      current,
      phase: left > 0 ? `soaking, ${seconds(left)} left` : 'soaking, then the health gate',
      soakLeftMs: r.status === 'soaking' && left > 0 ? left : null,
    };
  }
  const missing = step.nodes.filter((n) => !step.applied.includes(n));
  const due = step.ackDueAt === null ? '' : `, due in ${seconds(step.ackDueAt - now)}`;
  return { ...base, current, phase: `waiting for ${names(missing)}${due}`, soakLeftMs: null };
}

const ms = (n: number) => (n % 1000 === 0 ? `${n / 1000} s` : `${n} ms`);

/** The strategy in short: `canary 1, batch 25%, soak 120 s, ack timeout 120 s`. */
export function strategyText(s: RolloutRecord['strategy']): string {
  const canary =
    s.canary === null
      ? 'no canary'
      : 'count' in s.canary
        ? `canary ${s.canary.count}`
        : 'percent' in s.canary
          ? `canary ${s.canary.percent}%`
          : `canary ${s.canary.selector}`;
  const batch = 'size' in s.batch ? `batch ${s.batch.size}` : `batch ${s.batch.percent}%`;
  return `${canary}, ${batch}, soak ${ms(s.soakMs)}, ack timeout ${ms(s.ackTimeoutMs)}`;
}

/** A rollout as the detail shows it, at `now` (the page's clock, taken as the controller's). Pure. */
export function rolloutDetail(r: RolloutRecord, now: number): RolloutDetail {
  const pausedBy =
    r.status === 'paused' && r.paused
      ? ` (by ${r.paused.by}${r.paused.reason ? `: ${r.paused.reason}` : ''})`
      : '';
  const rb = r.rollback;
  return {
    id: r.id,
    status: r.status,
    look: STATUS_LOOK[r.status],
    serial: r.ruleSet.serial,
    hash: r.ruleSet.hash,
    target: targetText(r.target),
    head: `rollout ${r.id}: serial ${r.ruleSet.serial} to ${targetText(r.target)}: ${r.status.toUpperCase()}${pausedBy}`,
    started: `started by ${r.createdBy} at ${clock(r.createdAt)}${r.message ? `: ${r.message}` : ''}`,
    createdBy: r.createdBy,
    createdAt: clock(r.createdAt),
    message: r.message ?? null,
    strategy: strategyText(r.strategy),
    steps: r.steps.map((s, k) => stepOf(r, s, k, now)),
    rejections: r.rejected.map((x) => `rejected by ${x.node}${x.code ? ` (${x.code})` : ''}: ${x.reason}`),
    stop: r.stop
      ? `stopped (${r.stop.cause}) by ${r.stop.by} at ${clock(r.stop.at)}: ${r.stop.reason}`
      : null,
    rollback: rb
      ? {
          serial: rb.serial,
          of: rb.of,
          applied: `applied ${rb.applied.length}/${rb.nodes.length}`,
          line: `rollback: serial ${rb.serial} (a copy of ${rb.of}) to ${plural(rb.nodes.length, 'node')}, applied ${rb.applied.length}/${rb.nodes.length}`,
          nodes: nodeStates(rb.nodes, true, rb.applied, rb.rejected),
        }
      : null,
    rollsBackTo:
      rb || TERMINAL_STATUSES.has(r.status)
        ? null
        : r.rollbackTo
          ? `rolls back to: serial ${r.rollbackTo.of} (re-issued as ${r.rollbackTo.serial})`
          : 'rolls back to: nothing (no node ran a stored rule set): a stop fails it',
    failure: r.failure
      ? `FAILED (${r.failure.cause}): ${r.failure.reason}: needs a person (nodes: ${names(r.failure.nodes)})`
      : null,
    absent: r.absent,
  };
}

/** Whether the detail changes with the clock alone (a soak or an ack deadline counting down). */
export const ticks = (r: RolloutRecord): boolean => !TERMINAL_STATUSES.has(r.status) && r.status !== 'paused';
