import { parseSelector, SelectorSyntaxError } from '@rhi/contracts/fleet';

/** The start form as the person fills it: text fields, read as `rhictl rules push` reads its options. */
export interface RolloutForm {
  /** The stored rule set's serial (from `GET /api/v1/rulesets`). */
  readonly serial: string;
  /** `own`: the rule set's own target; `all`: every node; `selector`: the nodes `selector` matches. */
  readonly targetKind: 'own' | 'all' | 'selector';
  readonly selector: string;
  /** A count (`1`), a percentage (`10%`), a label selector (`site=par1`), `none`, or blank (the default). */
  readonly canary: string;
  /** A size (`5`), a percentage (`25%`), or blank (the default). */
  readonly batch: string;
  /** A duration (`30s`, `2m`, `500ms`, `1h`, or milliseconds alone), or blank (the default). */
  readonly soak: string;
  /** Why (optional; the rule set's own message is kept otherwise). */
  readonly message: string;
}

/** An empty form: the rule set's own target and the controller's default strategy. */
export const EMPTY_FORM: RolloutForm = {
  serial: '',
  targetKind: 'own',
  selector: '',
  canary: '',
  batch: '',
  soak: '',
  message: '',
};

export type FormField = 'serial' | 'selector' | 'canary' | 'batch' | 'soak' | 'message' | 'force';

/** The form read: the bodies of the what-if and of the start, or what is wrong, by field. */
export type FormOutcome =
  | {
      readonly ok: true;
      /** `POST /api/v1/whatif`. */
      readonly whatIf: { readonly serial: number; readonly target?: string };
      /** `POST /api/v1/rollouts` (add `force` with a reason to go past the guard). */
      readonly start: {
        readonly serial: number;
        readonly target?: string;
        readonly strategy: Readonly<Record<string, unknown>>;
        readonly message?: string;
      };
    }
  | { readonly ok: false; readonly errors: Readonly<Partial<Record<FormField, string>>> };

const SERIAL = /^[1-9]\d{0,14}$/;
const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration as an operator writes it (`500ms`, `30s`, `2m`, `1h`, or ms alone), in ms; null if not one. */
export function durationMs(text: string): number | null {
  const m = /^(\d{1,9})\s*(ms|s|m|h)?$/.exec(text.trim());
  return m ? Number(m[1]) * UNITS[m[2] ?? 'ms']! : null;
}

function canaryOf(text: string): { value: Record<string, unknown> | null } | string {
  const t = text.trim();
  if (t === 'none') return { value: null };
  if (/^\d{1,9}$/.test(t)) return Number(t) >= 1 ? { value: { count: Number(t) } } : 'at least 1 node';
  const pct = /^(\d{1,3}(?:\.\d+)?)\s*%$/.exec(t);
  if (pct) {
    const p = Number(pct[1]);
    return p > 0 && p <= 100 ? { value: { percent: p } } : 'a percentage above 0, at most 100';
  }
  if (t.includes('=')) {
    const problem = selectorProblem(t);
    return problem ?? { value: { selector: t } };
  }
  return 'a count (2), a percentage (10%), a selector (site=par1) or none';
}

function batchOf(text: string): { value: Record<string, unknown> } | string {
  const t = text.trim();
  if (/^\d{1,9}$/.test(t)) return Number(t) >= 1 ? { value: { size: Number(t) } } : 'at least 1 node';
  const pct = /^(\d{1,3}(?:\.\d+)?)\s*%$/.exec(t);
  if (pct) {
    const p = Number(pct[1]);
    return p > 0 && p <= 100 ? { value: { percent: p } } : 'a percentage above 0, at most 100';
  }
  return 'a size (5) or a percentage (25%)';
}

/** What is wrong with a label selector's text (the API's grammar), or null. */
function selectorProblem(text: string): string | null {
  try {
    parseSelector(text);
    return null;
  } catch (err) {
    if (err instanceof SelectorSyntaxError) return err.message;
    throw err;
  }
}

/**
 * Reads the start form as the API will: a stored serial; a target (the rule set's own, `all`, or a label
 * selector such as `site=par1`); a strategy (blank fields keep the controller's defaults: canary 1 node,
 * batches of 25%, soak 120 s). Pure.
 */
export function readRolloutForm(f: RolloutForm): FormOutcome {
  const errors: Partial<Record<FormField, string>> = {};
  if (!SERIAL.test(f.serial.trim())) errors.serial = 'choose a stored rule set';
  let target: string | undefined;
  if (f.targetKind === 'all') target = 'all';
  else if (f.targetKind === 'selector') {
    const problem =
      f.selector.trim() === '' ? 'a label selector, e.g. site=par1' : selectorProblem(f.selector);
    if (problem) errors.selector = problem;
    else target = f.selector.trim();
  }
  const strategy: Record<string, unknown> = {};
  if (f.canary.trim() !== '') {
    const c = canaryOf(f.canary);
    if (typeof c === 'string') errors.canary = c;
    else strategy.canary = c.value;
  }
  if (f.batch.trim() !== '') {
    const b = batchOf(f.batch);
    if (typeof b === 'string') errors.batch = b;
    else strategy.batch = b.value;
  }
  if (f.soak.trim() !== '') {
    const ms = durationMs(f.soak);
    if (ms === null) errors.soak = 'a duration such as 30s, 2m or 500ms';
    else strategy.soakMs = ms;
  }
  const message = f.message.trim();
  if (message.length > 1024) errors.message = 'at most 1024 characters';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const serial = Number(f.serial.trim());
  const to = target === undefined ? {} : { target };
  return {
    ok: true,
    whatIf: { serial, ...to },
    start: { serial, ...to, strategy, ...(message === '' ? {} : { message }) },
  };
}

/** A force past the guard: its reason (required, at most 1024 characters), or what is wrong. */
export function forceReason(text: string): { ok: true; reason: string } | { ok: false; error: string } {
  const reason = text.trim();
  if (reason === '') return { ok: false, error: 'say why: the reason is recorded in the timeline' };
  if (reason.length > 1024) return { ok: false, error: 'at most 1024 characters' };
  return { ok: true, reason };
}
