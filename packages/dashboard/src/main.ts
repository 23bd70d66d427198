import { render } from 'preact';
import { App } from './ui/app.js';
import { html } from './ui/html.js';

render(html`<${App} />`, document.getElementById('app')!);
