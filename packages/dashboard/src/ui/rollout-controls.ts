import type { RolloutRecord, RuleSetSummary } from '@rhi/contracts/fleet';
import { useState } from 'preact/hooks';
import type { Api } from '../model/api.js';
import {
  ACTION_LABELS,
  actionRequest,
  allowedActions,
  defaultRollbackSerial,
  DESTRUCTIVE,
  type RolloutAction,
} from '../model/rollout-actions.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { ErrorNote, failureOf, type Failure } from './error-note.js';
import { html } from './html.js';
import { FieldError, TextField } from './text-field.js';

/** What the action buttons of one rollout are given (rendered for an operator only). */
export interface RolloutControlsProps {
  readonly api: Api;
  readonly record: RolloutRecord;
  /** The rollout under way, if any: an ended one rolls back only while no other is. */
  readonly active: string | null;
  /** The stored rule sets, newest first: what a rollback may go to. */
  readonly rulesets: readonly RuleSetSummary[];
  /** The rollout as the API answered the action. */
  readonly onChanged: (r: RolloutRecord) => void;
}

/** Pause and resume at once; abort and roll back after a dialog that asks why (and, for a rollback, to what). */
export function RolloutControls(p: RolloutControlsProps) {
  const [asking, setAsking] = useState<RolloutAction | null>(null);
  const [reason, setReason] = useState('');
  const [to, setTo] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<'reason' | 'to', string>>>({});
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [dialogFailure, setDialogFailure] = useState<Failure | null>(null);
  const actions = allowedActions(p.record, p.active);

  const send = async (action: RolloutAction, inDialog: boolean) => {
    const req = actionRequest(p.record.id, action, { reason, to });
    if (!req.ok) {
      setFieldErrors(req.errors);
      return;
    }
    setFieldErrors({});
    setBusy(true);
    try {
      const answer = await p.api.post<{ rollout: RolloutRecord }>(req.path, req.body);
      setFailure(null);
      setDialogFailure(null);
      setAsking(null);
      p.onChanged(answer.rollout);
    } catch (err) {
      if (inDialog) setDialogFailure(failureOf(err));
      else setFailure(failureOf(err));
    } finally {
      setBusy(false);
    }
  };
  const open = (action: RolloutAction) => {
    setReason('');
    setTo(String(defaultRollbackSerial(p.record) ?? ''));
    setFieldErrors({});
    setDialogFailure(null);
    setFailure(null);
    setAsking(action);
  };

  if (actions.length === 0)
    return html`<p class="muted">
      no action: this rollout has
      ended${p.active !== null && p.active !== p.record.id ? `, and rollout ${p.active} is under way (a rollback waits for it)` : ''}
    </p>`;
  const rollbackChoices = p.rulesets.filter((s) => s.serial !== p.record.ruleSet.serial);
  return html`<div class="rollout-actions" role="group" aria-label="actions">
    <div class="rollout-buttons">
      ${actions.map(
        (a) =>
          html`<button
            type="button"
            class=${DESTRUCTIVE.has(a) ? 'danger' : ''}
            disabled=${busy}
            onClick=${() => (DESTRUCTIVE.has(a) ? open(a) : void send(a, false))}
          >
            ${ACTION_LABELS[a]}
          </button>`,
      )}
    </div>
    <${ErrorNote} failure=${failure} />
    ${
      asking
        ? html`<${ConfirmDialog}
            title=${asking === 'abort' ? `Abort rollout ${p.record.id}?` : `Roll back rollout ${p.record.id}?`}
            busy=${busy}
            failure=${dialogFailure}
            onConfirm=${() => void send(asking, true)}
            onCancel=${() => setAsking(null)}
          >
            <p>
              ${
                asking === 'abort'
                  ? 'It stops going forward; the nodes that got its rule set are rolled back to the last good one.'
                  : 'It stops, and every node it assigned gets a fresh copy of the rule set chosen (no canary, no soak).'
              }
            </p>
            ${
              asking === 'rollback'
                ? html`<label class="field"
                    >roll back to serial
                    <select
                      name="to"
                      value=${to}
                      aria-invalid=${fieldErrors.to ? 'true' : undefined}
                      onChange=${(e: Event) => setTo((e.target as HTMLSelectElement).value)}
                    >
                      ${to === '' ? html`<option value="">choose a rule set</option>` : null}
                      ${
                        to !== '' && !rollbackChoices.some((s) => String(s.serial) === to)
                          ? html`<option value=${to}>serial ${to} (the last good one)</option>`
                          : null
                      }
                      ${rollbackChoices.map(
                        (s) =>
                          html`<option value=${String(s.serial)}>
                            serial
                            ${s.serial}${String(s.serial) === String(defaultRollbackSerial(p.record)) ? ' (the last good one)' : ''}:
                            ${s.message}
                          </option>`,
                      )}
                    </select>
                    <${FieldError} text=${fieldErrors.to} />
                  </label>`
                : null
            }
            <${TextField}
              label="reason (kept in the timeline)"
              name="reason"
              value=${reason}
              error=${fieldErrors.reason}
              onInput=${setReason}
            />
          </${ConfirmDialog}>`
        : null
    }
  </div>`;
}
