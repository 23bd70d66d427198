import { MATRIX_CELLS, type MatrixCell } from '@rhi/contracts/fleet';
import type { MatrixOptions } from '../model/matrix-view.js';
import { parseSelector } from '../model/selector.js';
import { html } from './html.js';

export interface FiltersProps {
  readonly options: MatrixOptions;
  readonly labelKeys: readonly string[];
  readonly nodesText: string;
  readonly onOptions: (o: Partial<MatrixOptions>) => void;
  readonly onNodesText: (text: string) => void;
}

/** Group by a label; filter VIPs by text, nodes by a label selector, rows by state. */
export function Filters(p: FiltersProps) {
  const badSelector = parseSelector(p.nodesText) === null;
  return html`<form class="filters" role="search" onSubmit=${(e: Event) => e.preventDefault()}>
    <label>
      group nodes by
      <select
        name="group"
        value=${p.options.groupBy ?? ''}
        onChange=${(e: Event) => p.onOptions({ groupBy: (e.target as HTMLSelectElement).value || null, expanded: new Set() })}
      >
        <option value="">(no grouping)</option>
        ${p.labelKeys.map((k) => html`<option value=${k}>${k}</option>`)}
      </select>
    </label>
    <label>
      VIP
      <input
        name="vip"
        type="search"
        placeholder="198.18.200"
        value=${p.options.vipText}
        onInput=${(e: Event) => p.onOptions({ vipText: (e.target as HTMLInputElement).value })}
      />
    </label>
    <label>
      nodes
      <input
        name="nodes"
        type="search"
        placeholder="site=par1,role=edge"
        aria-invalid=${badSelector}
        value=${p.nodesText}
        onInput=${(e: Event) => p.onNodesText((e.target as HTMLInputElement).value)}
      />
      ${badSelector ? html`<span class="bad" role="alert">write key=value[,key=value]</span>` : null}
    </label>
    <label>
      show
      <select
        name="state"
        value=${p.options.state}
        onChange=${(e: Event) => p.onOptions({ state: (e.target as HTMLSelectElement).value as MatrixOptions['state'] })}
      >
        <option value="all">every VIP</option>
        <option value="problems">problems only</option>
        ${(Object.keys(MATRIX_CELLS) as MatrixCell[])
          .filter((l) => l !== '.')
          .map((l) => html`<option value=${l}>with a cell ${MATRIX_CELLS[l].label}</option>`)}
      </select>
    </label>
  </form>`;
}
