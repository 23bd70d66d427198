import type { ApiCaller, DrainApiAnswer, NodeHead } from '@rhi/contracts/fleet';
import { useState } from 'preact/hooks';
import type { Api } from '../model/api.js';
import {
  DRAIN_LABELS,
  drainBlockers,
  drainOffer,
  drainOutcome,
  drainRequest,
  type DrainAction,
  type DrainOutcome,
} from '../model/drain-actions.js';
import type { GuardLine } from '../model/what-if-diff.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { ErrorNote, failureOf, type Failure } from './error-note.js';
import { html } from './html.js';
import { TextField } from './text-field.js';

/** What the drain buttons of one node are given. */
export interface DrainControlsProps {
  readonly api: Api;
  readonly node: Pick<NodeHead, 'name' | 'drained' | 'state'>;
  /** Who holds the token: only an operator may act; null while not known. */
  readonly caller: ApiCaller | null;
  /** The node's answer came back: its detail is worth reading again. */
  readonly onChanged: () => void;
}

/**
 * "Drain…" (or "Undrain" for a drained node) after a dialog that asks why; each node's answer shown
 * below; a drain the guard blocks shows its blockers and offers "Drain anyway" with a reason to force.
 */
export function DrainControls(p: DrainControlsProps) {
  const [asking, setAsking] = useState<DrainAction | null>(null);
  const [forcing, setForcing] = useState(false);
  const [reason, setReason] = useState('');
  const [force, setForce] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<'reason' | 'force', string>>>({});
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [dialogFailure, setDialogFailure] = useState<Failure | null>(null);
  const [blockers, setBlockers] = useState<GuardLine[] | null>(null);
  const [outcome, setOutcome] = useState<DrainOutcome | null>(null);
  const offer = drainOffer(p.node);

  if (p.caller?.role !== 'operator')
    return html`<p class="muted read-only" role="note">
      ${p.caller ? 'read only: viewer token' : 'read only: the token’s role is not known yet'}
    </p>`;

  const open = (action: DrainAction, force: boolean) => {
    if (!force) setReason('');
    setForce('');
    setFieldErrors({});
    setDialogFailure(null);
    setFailure(null);
    setForcing(force);
    setAsking(action);
  };
  const send = async (action: DrainAction, inDialog: boolean) => {
    const req = drainRequest(p.node.name, action, { reason, force }, forcing && action === 'drain');
    if (!req.ok) return setFieldErrors(req.errors);
    setFieldErrors({});
    setBusy(true);
    try {
      const answer = await p.api.post<DrainApiAnswer>(req.path, req.body);
      setFailure(null);
      setDialogFailure(null);
      setBlockers(null);
      setAsking(null);
      setOutcome(drainOutcome(answer));
      p.onChanged();
    } catch (err) {
      const blocked = drainBlockers(err);
      if (blocked && !forcing) {
        setBlockers(blocked);
        setOutcome(null);
        setAsking(null);
        setFailure(failureOf(err));
      } else if (inDialog) setDialogFailure(failureOf(err));
      else setFailure(failureOf(err));
    } finally {
      setBusy(false);
    }
  };

  return html`<div class="drain-actions" role="group" aria-label="drain">
    ${
      offer.action
        ? html`<div class="rollout-buttons">
            <button
              type="button"
              class=${offer.action === 'drain' ? 'danger' : ''}
              disabled=${busy}
              onClick=${() => open(offer.action!, false)}
            >
              ${DRAIN_LABELS[offer.action]}
            </button>
          </div>`
        : null
    }
    ${offer.note ? html`<p class="muted">${offer.note}</p>` : null}
    <${ErrorNote} failure=${failure} />
    ${
      blockers && offer.action === 'drain'
        ? html`<div class="drain-blocked" aria-label="drain blocked">
            <ul class="what-if-blockers bad" aria-label="blockers">
              ${blockers.map((b) => html`<li class="bad" data-blocker=${b.kind}><code>${b.text}</code></li>`)}
            </ul>
            <button type="button" class="danger" disabled=${busy} onClick=${() => open('drain', true)}>
              Drain anyway
            </button>
          </div>`
        : null
    }
    ${
      outcome
        ? html`<div
            class="drain-outcome"
            aria-label="drain answer"
            data-result=${outcome.ok ? 'applied' : 'failed'}
          >
            <ul>
              ${outcome.lines.map(
                (l) =>
                  html`<li class=${l.ok ? 'ok' : 'bad'} data-answer=${l.result}>
                    <span aria-hidden="true">${l.ok ? '✓ ' : '✗ '}</span>${l.text}
                  </li>`,
              )}
            </ul>
            ${outcome.forced ? html`<p class="muted">${outcome.forced}</p>` : null}
          </div>`
        : null
    }
    ${
      asking
        ? html`<${ConfirmDialog}
            title=${
              asking === 'undrain'
                ? `Undrain ${p.node.name}?`
                : forcing
                  ? `Drain ${p.node.name} past the guard?`
                  : `Drain ${p.node.name}?`
            }
            busy=${busy}
            failure=${dialogFailure}
            onConfirm=${() => void send(asking, true)}
            onCancel=${() => setAsking(null)}
          >
            <p>
              ${
                asking === 'undrain'
                  ? 'It advertises its routes again, as its rules decide.'
                  : forcing
                    ? 'The guard blocks this drain: VIPs would go below their minimum advertisers.'
                    : 'It withdraws every route it advertises until it is undrained.'
              }
            </p>
            ${
              asking === 'drain'
                ? html`<${TextField}
                    label="reason (optional, kept in the timeline)"
                    name="reason"
                    value=${reason}
                    error=${fieldErrors.reason}
                    onInput=${setReason}
                  />`
                : null
            }
            ${
              asking === 'drain' && forcing
                ? html`<${TextField}
                    label="reason to force past the guard (recorded in the timeline)"
                    name="force"
                    value=${force}
                    error=${fieldErrors.force}
                    onInput=${setForce}
                  />`
                : null
            }
          </${ConfirmDialog}>`
        : null
    }
  </div>`;
}
