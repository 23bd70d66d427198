import type {
  RollbackTarget,
  RolloutEffect,
  RolloutRecord,
  RolloutStrategy,
  RuleSetAck,
  RuleSetRef,
  RuleSetTarget,
} from '@rhi/contracts';
import type { PlannedStep } from './step-plan.js';

/**
 * An input of the rollout machine. `now` is the controller's clock (ms), read by the caller; `by` is who
 * asked (an API token's name) for the commands of people.
 */
export type RolloutEvent =
  | { readonly type: 'start'; readonly now: number; readonly by: string }
  /** An agent's answer to an assignment (see {@link ackEvent}). */
  | {
      readonly type: 'ack';
      readonly now: number;
      readonly node: string;
      readonly serial: number;
      readonly hash: string;
      readonly result: 'applied' | 'rejected';
      readonly reason?: string;
      readonly code?: string;
    }
  /**
   * Many agents' answers at once, as a runner reads them in one pass: the same as each `ack` in order,
   * in one transition (a step of 10,000 nodes is one copy of its `applied`, not one per ack).
   */
  | {
      readonly type: 'acks';
      readonly now: number;
      readonly acks: readonly Omit<Extract<RolloutEvent, { type: 'ack' }>, 'type' | 'now'>[];
    }
  /** An alert opened on a node at `openedAt`. */
  | {
      readonly type: 'alert';
      readonly now: number;
      readonly node: string;
      readonly openedAt: number;
      readonly message: string;
    }
  /** A VIP lost advertisers; `withdrawnBy` are the nodes that stopped advertising it. */
  | {
      readonly type: 'vipLost';
      readonly now: number;
      readonly vip: string;
      readonly before: number;
      readonly after: number;
      readonly withdrawnBy: readonly string[];
    }
  /**
   * The runner's fresh view of the fleet shows no VIP losing advertisers through the rollout's nodes and
   * no new alert on them: the health gate of a step whose soak has ended.
   */
  | { readonly type: 'healthy'; readonly now: number }
  /** Time passed: deadlines are checked. */
  | { readonly type: 'tick'; readonly now: number }
  | { readonly type: 'pause'; readonly now: number; readonly by: string; readonly reason?: string }
  | { readonly type: 'resume'; readonly now: number; readonly by: string }
  /** Stop and roll back (before the start: just end it). */
  | { readonly type: 'abort'; readonly now: number; readonly by: string; readonly reason: string }
  /** Stop and roll back to a given rule set, re-issued under a fresh serial. */
  | {
      readonly type: 'rollback';
      readonly now: number;
      readonly by: string;
      readonly reason: string;
      readonly to: RollbackTarget;
    }
  /** Another replica (`by`) drives the rollout from now on, from its stored state. */
  | { readonly type: 'takeover'; readonly now: number; readonly by: string }
  /** The runner did every effect of the outbox up to `through` (a `seq`). */
  | { readonly type: 'effectsDone'; readonly through: number };

/** Why a command was refused. */
export type RolloutRefusalCode =
  | 'ROLLOUT_NOT_RUNNING'
  | 'ROLLOUT_NOT_PAUSED'
  | 'ROLLOUT_FINISHED'
  | 'ROLLOUT_NOTHING_ASSIGNED'
  | 'ROLLOUT_ROLLBACK_SERIAL_STALE'
  | 'ROLLOUT_REASON_MISSING';

/** A refused command: the state is left as it was. */
export interface RolloutRefusal {
  readonly code: RolloutRefusalCode;
  readonly message: string;
}

/**
 * The result of one input: the next state (the same object when nothing changed), the effects it made
 * (after a takeover: every effect still in the outbox), and the refusal of a command.
 */
export interface RolloutTransition {
  readonly state: RolloutRecord;
  readonly effects: readonly RolloutEffect[];
  /** False when the input changed nothing (a replay, an ack of another serial, a refusal): no write. */
  readonly changed: boolean;
  readonly refusal: RolloutRefusal | null;
}

/** What a new rollout is made of. */
export interface NewRollout {
  readonly id: string;
  readonly now: number;
  readonly by: string;
  readonly message?: string;
  readonly target: RuleSetTarget;
  readonly ruleSet: RuleSetRef;
  /** The last good rule set re-issued for a rollback, or null when there is none. */
  readonly rollbackTo: RollbackTarget | null;
  readonly strategy: RolloutStrategy;
  /** From `planSteps`. */
  readonly steps: readonly PlannedStep[];
  /** Targeted nodes lost at planning: assigned the rule set once the rollout completes. */
  readonly absent?: readonly string[];
  readonly owner?: string | null;
}

/** A new rollout that cannot be: the reason says what is wrong. */
export class RolloutInvalidError extends Error {
  readonly code = 'ROLLOUT_INVALID';
  constructor(
    readonly rollout: string,
    reason: string,
  ) {
    super(`rollout ${rollout}: ${reason}`);
    this.name = 'RolloutInvalidError';
  }
}

/** The machine input of an agent's ack, received at `now`. */
export function ackEvent(ack: RuleSetAck, now: number): Extract<RolloutEvent, { type: 'ack' }> {
  return {
    type: 'ack',
    now,
    node: ack.node,
    serial: ack.serial,
    hash: ack.hash,
    result: ack.result,
    ...(ack.reason === undefined ? {} : { reason: ack.reason }),
    ...(ack.code === undefined ? {} : { code: ack.code }),
  };
}
