import type { DrainApiAnswer, GuardVerdict, NodeAnswer, NodeHead } from '@rhi/contracts/fleet';
import { blockerLine, type GuardLine } from './what-if-diff.js';

/** What a person may do to one node from its detail: `POST /api/v1/nodes/:name/<action>`. */
export type DrainAction = 'drain' | 'undrain';

/** The buttons' names. */
export const DRAIN_LABELS: Readonly<Record<DrainAction, string>> = {
  drain: 'Drain…',
  undrain: 'Undrain',
};

/** The action a node offers and, when there is none, why. */
export interface DrainOffer {
  readonly action: DrainAction | null;
  /** Why nothing is offered, or what to know before acting; null when there is nothing to say. */
  readonly note: string | null;
}

/**
 * The action the node's status calls for: undrain a drained node, drain one that is not. A lost node
 * offers nothing, since the controller sends it nothing (it would answer `noAnswer`). Pure.
 */
export function drainOffer(node: Pick<NodeHead, 'drained' | 'state'>): DrainOffer {
  if (node.state === 'lost')
    return { action: null, note: 'the node is lost: a drain or undrain would not reach it' };
  return { action: node.drained ? 'undrain' : 'drain', note: null };
}

/** What the person typed in the dialog. */
export interface DrainInput {
  readonly reason: string;
  /** Why to drain past the guard's blockers; only after a `DRAIN_BLOCKED`. */
  readonly force?: string;
}

/** The request, or what is wrong with the input, by field. */
export type DrainRequest =
  | { readonly ok: true; readonly path: string; readonly body: Record<string, string> }
  | { readonly ok: false; readonly errors: Readonly<Partial<Record<'reason' | 'force', string>>> };

/**
 * The request for `action` on `node`, checked as the API checks it: a drain's reason is optional (at
 * most 1024 characters) and `force`, when asked for (`forcing`), needs a reason; an undrain takes
 * nothing. Pure.
 */
export function drainRequest(
  node: string,
  action: DrainAction,
  input: DrainInput,
  forcing = false,
): DrainRequest {
  const path = `/api/v1/nodes/${encodeURIComponent(node)}/${action}`;
  if (action === 'undrain') return { ok: true, path, body: {} };
  const reason = input.reason.trim();
  const force = (input.force ?? '').trim();
  const errors: Partial<Record<'reason' | 'force', string>> = {};
  if (reason.length > 1024) errors.reason = 'at most 1024 characters';
  if (force.length > 1024) errors.force = 'at most 1024 characters';
  else if (forcing && force === '')
    errors.force = 'say why to drain past the guard: it is kept in the timeline';
  if (errors.reason || errors.force) return { ok: false, errors };
  return {
    ok: true,
    path,
    body: { ...(reason === '' ? {} : { reason }), ...(forcing ? { force } : {}) },
  };
}

/** One node's answer as the panel shows it. */
export interface AnswerLine {
  readonly node: string;
  readonly result: NodeAnswer['result'];
  readonly ok: boolean;
  /** `lb-1 drained`, `lb-1 refused the drain: <reason>`, `lb-1 did not answer: <reason>`. */
  readonly text: string;
}

/** What a drain or undrain did, in words: each node's answer, and a force if there was one. */
export interface DrainOutcome {
  readonly action: DrainAction;
  readonly ok: boolean;
  readonly lines: readonly AnswerLine[];
  /** `FORCED past 1 blocker: <reason>`, or null. */
  readonly forced: string | null;
}

const DONE: Readonly<Record<DrainAction, string>> = { drain: 'drained', undrain: 'undrained' };

/** The API's answer to a drain or undrain, node by node. Pure. */
export function drainOutcome(a: DrainApiAnswer): DrainOutcome {
  const action = a.action.action;
  const lines = a.action.answers.map((n): AnswerLine => {
    const why = n.reason ? `: ${n.reason}` : '';
    const text =
      n.result === 'applied'
        ? `${n.node} ${DONE[action]}${why}`
        : n.result === 'rejected'
          ? `${n.node} refused the ${action}${why}`
          : `${n.node} did not answer${why}`;
    return { node: n.node, result: n.result, ok: n.result === 'applied', text };
  });
  const f = a.action.forced;
  return {
    action,
    ok: lines.length > 0 && lines.every((l) => l.ok),
    lines,
    forced: f ? `FORCED past ${f.blockers} blocker${f.blockers === 1 ? '' : 's'}: ${f.reason}` : null,
  };
}

const isGuard = (v: unknown): v is GuardVerdict =>
  typeof v === 'object' && v !== null && Array.isArray((v as { blockers?: unknown }).blockers);

/**
 * The guard's blockers of a `409 DRAIN_BLOCKED`, in the words of rhictl (`BLOCKED <vip>: 2 -> 1
 * advertisers, minimum 2 (withdrawn by lb-1)`), from a failure holding the error's details (as
 * `details` or `error`); null for any other failure. Pure.
 */
export function drainBlockers(err: unknown): GuardLine[] | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as {
    code?: unknown;
    guard?: unknown;
    details?: { guard?: unknown };
    error?: { code?: unknown; guard?: unknown };
  };
  if ((e.code ?? e.error?.code) !== 'DRAIN_BLOCKED') return null;
  const g = e.guard ?? e.details?.guard ?? e.error?.guard;
  return isGuard(g) ? g.blockers.map(blockerLine) : [];
}
