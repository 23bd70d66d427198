import type { RolloutRecord } from '@rhi/contracts/fleet';
import { TERMINAL_STATUSES } from './rollout-rows.js';

/** What a person may do to a rollout, each a `POST /api/v1/rollouts/:id/<action>`. */
export type RolloutAction = 'pause' | 'resume' | 'abort' | 'rollback';

/** The actions in the order the page shows them, with their buttons' names. */
export const ACTION_LABELS: Readonly<Record<RolloutAction, string>> = {
  pause: 'Pause',
  resume: 'Resume',
  abort: 'Abort',
  rollback: 'Roll back',
};

/** Actions that change nodes or end a rollout: asked for again in a dialog first. */
export const DESTRUCTIVE: ReadonlySet<RolloutAction> = new Set(['abort', 'rollback']);

/**
 * The actions the controller would take for `r`, as its rollout machine decides them (a refused one
 * answers 409): pause a running one (canary, batch, soaking); resume a paused one; abort one that has
 * not ended and is not rolling back; roll back one that assigned something, unless it ended while
 * another rollout (`active`) is under way. Pure.
 */
export function allowedActions(r: RolloutRecord, active: string | null): RolloutAction[] {
  const out: RolloutAction[] = [];
  const ended = TERMINAL_STATUSES.has(r.status);
  if (r.status === 'canary' || r.status === 'batch' || r.status === 'soaking') out.push('pause');
  if (r.status === 'paused') out.push('resume');
  if (!ended && r.status !== 'rollingBack') out.push('abort');
  const assigned = r.steps[0]?.assignedAt != null;
  if (assigned && (!ended || active === null || active === r.id)) out.push('rollback');
  return out;
}

/** The serial a rollback goes to unless the person picks another: the last good one the rollout knows. */
export const defaultRollbackSerial = (r: RolloutRecord): number | null =>
  r.rollback?.of ?? r.rollbackTo?.of ?? null;

/** What the person typed for an action. */
export interface ActionInput {
  readonly reason: string;
  /** The serial to roll back to (text as typed); only for `rollback`. */
  readonly to?: string;
}

/** An action's request, or what is wrong with the input, by field. */
export type ActionRequest =
  | { readonly ok: true; readonly path: string; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly errors: Readonly<Partial<Record<'reason' | 'to', string>>> };

const SERIAL = /^[1-9]\d{0,14}$/;

/**
 * The request for `action` on rollout `id`, checked as the API checks it: an abort and a rollback need
 * a reason (kept in the timeline), a rollback a serial; a pause's reason is optional; a resume takes
 * nothing. Pure.
 */
export function actionRequest(id: string, action: RolloutAction, input: ActionInput): ActionRequest {
  const path = `/api/v1/rollouts/${encodeURIComponent(id)}/${action}`;
  const reason = input.reason.trim();
  const errors: Partial<Record<'reason' | 'to', string>> = {};
  if (reason.length > 1024) errors.reason = 'at most 1024 characters';
  if ((action === 'abort' || action === 'rollback') && reason === '')
    errors.reason = 'say why: it is kept in the timeline';
  const to = (input.to ?? '').trim();
  if (action === 'rollback' && !SERIAL.test(to)) errors.to = 'the serial of a stored rule set';
  if (errors.reason || errors.to) return { ok: false, errors };
  switch (action) {
    case 'pause':
      return { ok: true, path, body: reason === '' ? {} : { reason } };
    case 'resume':
      return { ok: true, path, body: {} };
    case 'abort':
      return { ok: true, path, body: { reason } };
    case 'rollback':
      return { ok: true, path, body: { to: Number(to), reason } };
  }
}
