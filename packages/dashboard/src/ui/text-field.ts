import { html } from './html.js';

/** A field's error under it, or nothing. */
export function FieldError({ text }: { text: string | undefined }) {
  return text ? html`<span class="bad field-error">${text}</span>` : null;
}

/** A labelled one-line text input of a dialog (a reason, a force reason), with its error under it. */
export function TextField(p: {
  label: string;
  name: string;
  value: string;
  error: string | undefined;
  onInput: (value: string) => void;
}) {
  return html`<label class="field"
    >${p.label}
    <input
      name=${p.name}
      maxlength="1024"
      value=${p.value}
      aria-invalid=${p.error ? 'true' : undefined}
      onInput=${(e: Event) => p.onInput((e.target as HTMLInputElement).value)}
    />
    <${FieldError} text=${p.error} />
  </label>`;
}
