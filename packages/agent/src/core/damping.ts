/**
 * How many consecutive readings, and how much time, a new value needs before it takes effect.
 * Both must be met. `{ count: 1, ms: 0 }` acts on the first reading.
 */
export interface Threshold {
  readonly count: number;
  readonly ms: number;
}

/** Flap protection: after `flaps` withdrawals within `windowMs`, a route stays withdrawn for `holdMs`. */
export interface HoldDown {
  readonly flaps: number;
  readonly windowMs: number;
  readonly holdMs: number;
}

/** Damping settings of a route. */
export interface DampingConfig {
  /** Before a withdrawn route is announced again. */
  readonly rise: Threshold;
  /** Before an announced route is withdrawn. */
  readonly fall: Threshold;
  readonly holdDown: HoldDown | null;
}

/**
 * Defaults: withdraw on the first bad reading (HAProxy's own checks already have fall counts, and a
 * route to a dead node costs traffic); announce after one second of good readings; after three
 * withdrawals within a minute, stay withdrawn for 30 s.
 */
export const DEFAULT_DAMPING: DampingConfig = {
  rise: { count: 1, ms: 1000 },
  fall: { count: 1, ms: 0 },
  holdDown: { flaps: 3, windowMs: 60_000, holdMs: 30_000 },
};

/** What the damper reports about a route. */
export type DampingPhase = 'stable' | 'rising' | 'falling' | 'held';

/** The damper's memory of one route. Immutable: {@link step} returns a new one. */
export interface DampState {
  /** The damped value: whether the route should be advertised. */
  readonly value: boolean;
  /** When `value` last changed (ms). */
  readonly since: number;
  /** A different value seen lately, counting towards a change. */
  readonly pending: { readonly value: boolean; readonly since: number; readonly count: number } | null;
  /** Times of recent withdrawals, for flap detection. */
  readonly withdrawals: readonly number[];
  /** No announcement before this time (ms), or null. */
  readonly heldUntil: number | null;
}

/** The outcome of one damper step. */
export interface DampStep {
  readonly state: DampState;
  readonly changed: boolean;
  readonly phase: DampingPhase;
  /** When to step again with no new reading for a pending change to complete, or null. */
  readonly recheckAt: number | null;
}

/** A route's first state: `value` is what BIRD already holds, so a restart does not flap healthy routes. */
export function initialDampState(value: boolean, now: number): DampState {
  return { value, since: now, pending: null, withdrawals: [], heldUntil: null };
}

/**
 * Feeds one input to the damper. `reading` is true for a fresh health reading and false for a timer
 * recheck (which advances time but does not count as another reading).
 */
export function step(
  state: DampState,
  input: boolean,
  now: number,
  config: DampingConfig,
  reading = true,
): DampStep {
  const heldUntil = state.heldUntil !== null && state.heldUntil > now ? state.heldUntil : null;
  if (input === state.value) {
    const settled =
      state.pending || heldUntil !== state.heldUntil ? { ...state, pending: null, heldUntil } : state;
    return { state: settled, changed: false, phase: 'stable', recheckAt: null };
  }
  const pending =
    state.pending && state.pending.value === input
      ? { ...state.pending, count: state.pending.count + (reading ? 1 : 0) }
      : { value: input, since: now, count: 1 };
  const need = input ? config.rise : config.fall;
  if (input && heldUntil !== null) {
    return { state: { ...state, pending, heldUntil }, changed: false, phase: 'held', recheckAt: heldUntil };
  }
  const readyAt = pending.since + need.ms;
  if (pending.count >= need.count && now >= readyAt) {
    let withdrawals = state.withdrawals;
    let hold: number | null = heldUntil;
    if (!input) {
      const window = config.holdDown?.windowMs ?? 0;
      withdrawals = [...withdrawals.filter((t) => now - t < window), now];
      if (config.holdDown && withdrawals.length >= config.holdDown.flaps) hold = now + config.holdDown.holdMs;
    }
    return {
      state: { value: input, since: now, pending: null, withdrawals, heldUntil: hold },
      changed: true,
      phase: 'stable',
      recheckAt: null,
    };
  }
  return {
    state: { ...state, pending, heldUntil },
    changed: false,
    phase: input ? 'rising' : 'falling',
    recheckAt: pending.count >= need.count ? readyAt : null,
  };
}
