import type { RolloutRecord, RuleSetSummary } from '@rhi/contracts/fleet';
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure, type Api } from '../model/api.js';
import {
  EMPTY_FORM,
  forceReason,
  readRolloutForm,
  type FormField,
  type RolloutForm,
} from '../model/rollout-form.js';
import { targetText } from '../model/rollout-rows.js';
import { blockedWhatIf, whatIfDiff, type WhatIfAnswer, type WhatIfDiff } from '../model/what-if-diff.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { ErrorNote, failureOf, type Failure } from './error-note.js';
import { html } from './html.js';
import { FieldError, TextField } from './text-field.js';
import { WhatIfResult } from './what-if-result.js';

/** What the start form is given (rendered for an operator only). */
export interface WhatIfFormProps {
  readonly api: Api;
  /** The stored rule sets, newest first. */
  readonly rulesets: readonly RuleSetSummary[];
  /** A rollout is under way: a start would be refused (`ROLLOUT_BUSY`). */
  readonly busyWith: string | null;
  readonly onStarted: (r: RolloutRecord) => void;
}

/** The what-if shown, and the request it answers (to tell when the form has moved on). */
interface Shown {
  readonly key: string;
  readonly diff: WhatIfDiff;
}

/**
 * A candidate rollout: a stored rule set, a target and a strategy; "What if" shows what it would change
 * and what the guard says, "Start rollout" asks again in a dialog (with a reason to force past the guard
 * once it blocked), then starts it.
 */
export function WhatIfForm(p: WhatIfFormProps) {
  const [form, setForm] = useState<RolloutForm>(EMPTY_FORM);
  const [errors, setErrors] = useState<Partial<Record<FormField, string>>>({});
  const [shown, setShown] = useState<Shown | null>(null);
  const [busy, setBusy] = useState(false);
  const [whatIfFailure, setWhatIfFailure] = useState<Failure | null>(null);
  const [startFailure, setStartFailure] = useState<Failure | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [force, setForce] = useState('');
  const [dialogFailure, setDialogFailure] = useState<Failure | null>(null);
  /** The request the API last refused as blocked (409 `ROLLOUT_BLOCKED`). */
  const [refused, setRefused] = useState<string | null>(null);

  useEffect(() => {
    const newest = p.rulesets[0];
    if (form.serial === '' && newest) setForm({ ...form, serial: String(newest.serial) });
  }, [p.rulesets]);

  const read = readRolloutForm(form);
  const key = read.ok ? JSON.stringify(read.whatIf) : null;
  const current = shown !== null && shown.key === key;
  const blocked = (current && !shown.diff.allowed) || (key !== null && refused === key);
  const chosen = p.rulesets.find((s) => String(s.serial) === form.serial.trim());
  const set = (over: Partial<RolloutForm>) => setForm({ ...form, ...over });
  const input = (field: keyof RolloutForm) => (e: Event) =>
    set({ [field]: (e.target as HTMLInputElement).value } as Partial<RolloutForm>);

  const show = (k: string, answer: WhatIfAnswer) => setShown({ key: k, diff: whatIfDiff(answer) });
  const askWhatIf = async () => {
    if (!read.ok) return setErrors(read.errors);
    setErrors({});
    setBusy(true);
    try {
      show(JSON.stringify(read.whatIf), await p.api.post<WhatIfAnswer>('/api/v1/whatif', read.whatIf));
      setWhatIfFailure(null);
    } catch (err) {
      setWhatIfFailure(failureOf(err));
    } finally {
      setBusy(false);
    }
  };
  const askStart = () => {
    if (!read.ok) return setErrors(read.errors);
    setErrors({});
    setForce('');
    setDialogFailure(null);
    setStartFailure(null);
    setConfirming(true);
  };
  const start = async () => {
    if (!read.ok) return;
    let body: Record<string, unknown> = { ...read.start };
    if (blocked) {
      const f = forceReason(force);
      if (!f.ok) return setErrors({ force: f.error });
      body = { ...body, force: f.reason };
    }
    setErrors({});
    setBusy(true);
    const k = JSON.stringify(read.whatIf);
    try {
      const started = await p.api.post<{ rollout: RolloutRecord }>('/api/v1/rollouts', body);
      setConfirming(false);
      setShown(null);
      setStartFailure(null);
      p.onStarted(started.rollout);
    } catch (err) {
      if (err instanceof ApiFailure && err.code === 'ROLLOUT_BLOCKED') {
        // The answer's `error.whatIf` holds the blockers; when the failure does not carry it, the
        // what-if asked again shows them (the same guard over the same fleet).
        setConfirming(false);
        setRefused(k);
        setStartFailure(failureOf(err));
        const carried = blockedWhatIf(err);
        if (carried) show(k, carried);
        else
          await p.api
            .post<WhatIfAnswer>('/api/v1/whatif', read.whatIf)
            .then((a) => show(k, a))
            .catch((e: unknown) => setWhatIfFailure(failureOf(e)));
      } else setDialogFailure(failureOf(err));
    } finally {
      setBusy(false);
    }
  };

  const targetShown =
    form.targetKind === 'all'
      ? 'all'
      : form.targetKind === 'selector'
        ? form.selector.trim()
        : chosen
          ? targetText(chosen.target)
          : "the rule set's own";
  return html`<section class="rollout-start" aria-label="start a rollout">
    <h3>Start a rollout</h3>
    ${p.busyWith ? html`<p class="muted">rollout ${p.busyWith} is under way: a start waits for it to end</p>` : null}
    <form
      class="rollout-form"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        void askWhatIf();
      }}
    >
      <label class="field"
        >rule set
        <select name="serial" value=${form.serial} onChange=${input('serial')}>
          ${p.rulesets.length === 0 ? html`<option value="">no rule set stored</option>` : null}
          ${p.rulesets.map(
            (s) =>
              html`<option value=${String(s.serial)}>
                serial ${s.serial}: ${s.message} (${targetText(s.target)}, by ${s.author})
              </option>`,
          )}
        </select>
        <${FieldError} text=${errors.serial} />
      </label>
      <fieldset class="field">
        <legend>target</legend>
        ${(['own', 'all', 'selector'] as const).map(
          (k) =>
            html`<label class="choice"
              ><input
                type="radio"
                name="target"
                value=${k}
                checked=${form.targetKind === k}
                onChange=${() => set({ targetKind: k })}
              />
              ${k === 'own' ? `the rule set's own${chosen ? ` (${targetText(chosen.target)})` : ''}` : k === 'all' ? 'all nodes' : 'label selector'}</label
            >`,
        )}
        ${
          form.targetKind === 'selector'
            ? html`<input
                name="selector"
                aria-label="label selector"
                placeholder="site=par1"
                value=${form.selector}
                onInput=${input('selector')}
              />`
            : null
        }
        <${FieldError} text=${errors.selector} />
      </fieldset>
      <div class="rollout-strategy">
        <label class="field"
          >canary
          <input name="canary" placeholder="1 (default)" value=${form.canary} onInput=${input('canary')} />
          <span class="muted hint">count, 10%, site=par1 or none</span>
          <${FieldError} text=${errors.canary} />
        </label>
        <label class="field"
          >batch size
          <input name="batch" placeholder="25% (default)" value=${form.batch} onInput=${input('batch')} />
          <span class="muted hint">nodes or %</span>
          <${FieldError} text=${errors.batch} />
        </label>
        <label class="field"
          >soak
          <input name="soak" placeholder="120s (default)" value=${form.soak} onInput=${input('soak')} />
          <span class="muted hint">30s, 2m, 500ms</span>
          <${FieldError} text=${errors.soak} />
        </label>
      </div>
      <label class="field"
        >message (optional: the rule set's own otherwise)
        <input name="message" maxlength="1024" value=${form.message} onInput=${input('message')} />
        <${FieldError} text=${errors.message} />
      </label>
      <div class="rollout-buttons">
        <button type="submit" disabled=${busy}>What if</button>
        <button type="button" class="danger" disabled=${busy} onClick=${askStart}>Start rollout</button>
      </div>
      <${ErrorNote} failure=${whatIfFailure} />
      <${ErrorNote} failure=${startFailure} />
    </form>
    ${
      shown
        ? html`${current ? null : html`<p class="muted">the form changed since this what-if: ask again</p>`}
            <${WhatIfResult} diff=${shown.diff} />`
        : null
    }
    ${
      confirming && read.ok
        ? html`<${ConfirmDialog}
            title=${`Start a rollout of serial ${read.start.serial}?`}
            busy=${busy}
            failure=${dialogFailure}
            onConfirm=${() => void start()}
            onCancel=${() => setConfirming(false)}
          >
            <p>
              Serial ${read.start.serial} goes to <code>${targetShown}</code>, step by step
              ${current ? html` (what-if: ${shown.diff.verdict})` : html` (no what-if asked for this form)`}.
            </p>
            ${
              blocked
                ? html`<${TextField}
                    label="the guard blocks it: reason to force past it (recorded in the timeline)"
                    name="force"
                    value=${force}
                    error=${errors.force}
                    onInput=${setForce}
                  />`
                : null
            }
          </${ConfirmDialog}>`
        : null
    }
  </section>`;
}
