import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ErrorNote, type Failure } from './error-note.js';
import { html } from './html.js';

/** What the confirmation dialog is given; it is rendered only while it asks. */
export interface ConfirmDialogProps {
  readonly title: string;
  /** The fields it asks for (a reason, a serial) and what it is about. */
  readonly children?: ComponentChildren;
  /** A request is under way: both buttons wait. */
  readonly busy: boolean;
  /** The API's answer to the last Confirm, if it failed. */
  readonly failure: Failure | null;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
}

/**
 * A modal `<dialog>` in the page (not `window.confirm`, which a page cannot style or test and which
 * blocks the stream): opened as it mounts, its "Confirm" submits, its "Cancel" and Escape give up.
 */
export function ConfirmDialog(p: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => {
      if (d?.open) d.close();
    };
  }, []);
  return html`<dialog
    ref=${ref}
    class="confirm"
    aria-labelledby="confirm-title"
    onCancel=${(e: Event) => {
      e.preventDefault();
      if (!p.busy) p.onCancel();
    }}
  >
    <form
      onSubmit=${(e: Event) => {
        e.preventDefault();
        if (!p.busy) p.onConfirm();
      }}
    >
      <h3 id="confirm-title">${p.title}</h3>
      ${p.children}
      <${ErrorNote} failure=${p.failure} />
      <div class="confirm-buttons">
        <button type="button" disabled=${p.busy} onClick=${() => p.onCancel()}>Cancel</button>
        <button type="submit" class="danger" disabled=${p.busy}>Confirm</button>
      </div>
    </form>
  </dialog>`;
}
