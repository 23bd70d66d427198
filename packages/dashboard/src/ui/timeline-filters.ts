import { KIND_GROUPS } from '../model/timeline-items.js';
import {
  fromLocalInput,
  localInputValue,
  RANGES,
  type RangeName,
  type TimelineFilters as Filters,
} from '../model/timeline-query.js';
import { html } from './html.js';

export interface TimelineFiltersProps {
  readonly filters: Filters;
  /** Node names and VIP ids to suggest (the matrix's). */
  readonly nodes: readonly string[];
  readonly vips: readonly string[];
  /** The kinds seen in the entries read, offered beside the families. */
  readonly kinds: readonly string[];
  readonly onFilters: (f: Partial<Filters>) => void;
}

const value = (e: Event) => (e.target as HTMLInputElement | HTMLSelectElement).value;

/** The timeline's filters: node, VIP, kind and time range (the last 15 min to 24 h, or from-to). */
export function TimelineFilters({ filters: f, nodes, vips, kinds, onFilters }: TimelineFiltersProps) {
  const known = new Set(kinds);
  if (f.kind !== '' && !(f.kind in KIND_GROUPS)) known.add(f.kind);
  return html`<form
    class="filters timeline-filters"
    role="search"
    onSubmit=${(e: Event) => e.preventDefault()}
  >
    <div class="field">
      <label for="tl-node">node</label>
      <input
        id="tl-node"
        name="node"
        type="search"
        list="timeline-nodes"
        placeholder="lb1"
        autocomplete="off"
        value=${f.node}
        onInput=${(e: Event) => onFilters({ node: value(e) })}
      />
    </div>
    <div class="field">
      <label for="tl-vip">VIP</label>
      <input
        id="tl-vip"
        name="vip"
        type="search"
        list="timeline-vips"
        placeholder="vol1%198.18.200.1/32"
        autocomplete="off"
        value=${f.vip}
        onInput=${(e: Event) => onFilters({ vip: value(e) })}
      />
    </div>
    <div class="field">
      <label for="tl-kind">kind</label>
      <select
        id="tl-kind"
        name="kind"
        value=${f.kind}
        onChange=${(e: Event) => onFilters({ kind: value(e) })}
      >
        <option value="">every kind</option>
        ${Object.entries(KIND_GROUPS).map(([g, label]) => html`<option value=${g}>${label}</option>`)}
        ${known.size > 0 ? html`<optgroup label="kinds read">${[...known].sort().map((k) => html`<option value=${k}>${k}</option>`)}</optgroup>` : null}
      </select>
    </div>
    <div class="field">
      <label for="tl-range">range</label>
      <select
        id="tl-range"
        name="range"
        value=${f.range}
        onChange=${(e: Event) => onFilters({ range: value(e) as RangeName })}
      >
        ${Object.entries(RANGES).map(([r, { label }]) => html`<option value=${r}>${label}</option>`)}
      </select>
    </div>
    ${
      f.range === 'custom'
        ? html`<div class="field">
              <label for="tl-from">from</label>
              <input
                id="tl-from"
                name="from"
                type="datetime-local"
                value=${localInputValue(f.from)}
                onChange=${(e: Event) => onFilters({ from: fromLocalInput(value(e)) })}
              />
            </div>
            <div class="field">
              <label for="tl-to">to</label>
              <input
                id="tl-to"
                name="to"
                type="datetime-local"
                value=${localInputValue(f.to)}
                onChange=${(e: Event) => onFilters({ to: fromLocalInput(value(e)) })}
              />
            </div>`
        : null
    }
    <datalist id="timeline-nodes">${nodes.map((n) => html`<option value=${n}></option>`)}</datalist>
    <datalist id="timeline-vips">${vips.map((v) => html`<option value=${v}></option>`)}</datalist>
  </form>`;
}
