/** Preact with htm's tagged templates (htm's own Preact binding): no JSX, so no compile step beyond the bundler. */
export { html } from 'htm/preact';
