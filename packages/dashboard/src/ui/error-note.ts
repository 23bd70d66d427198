import { ApiFailure } from '../model/api.js';
import { html } from './html.js';

/** An API failure as the page shows it: the API's code and message. */
export interface Failure {
  readonly code: string;
  readonly message: string;
}

/** What went wrong, from a thrown value: an {@link ApiFailure}'s code and message, else the error's. */
export function failureOf(err: unknown): Failure {
  if (err instanceof ApiFailure) return { code: err.code, message: err.message };
  return { code: 'ERROR', message: err instanceof Error ? err.message : String(err) };
}

/** An API failure next to the button that asked: `CODE: message`, announced. */
export function ErrorNote({ failure }: { failure: Failure | null }) {
  if (!failure) return null;
  return html`<p class="bad rollout-error" role="alert" data-error=${failure.code}>
    <span aria-hidden="true">⚠ </span><code>${failure.code}</code>: ${failure.message}
  </p>`;
}
