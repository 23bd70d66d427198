import { MATRIX_CELLS, type MatrixCell } from '@rhi/contracts/fleet';
import type { MatrixView } from '../model/matrix-view.js';
import { html } from './html.js';

export interface MatrixTableProps {
  readonly view: MatrixView;
  readonly selected: { readonly node: string; readonly vip: string } | null;
  readonly onCell: (node: string, vip: string) => void;
  readonly onNode: (node: string) => void;
  readonly onGroup: (group: string) => void;
  readonly onPage: (group: string, page: number) => void;
}

const cellLabel = (l: MatrixCell) => MATRIX_CELLS[l].label;

/** Arrow keys move between the matrix's buttons, as in a spreadsheet. */
function onKey(e: KeyboardEvent): void {
  const from = e.target as HTMLElement;
  const r = Number(from.dataset.r);
  const c = Number(from.dataset.c);
  if (!Number.isInteger(r) || !Number.isInteger(c)) return;
  const move: Record<string, [number, number]> = {
    ArrowUp: [-1, 0],
    ArrowDown: [1, 0],
    ArrowLeft: [0, -1],
    ArrowRight: [0, 1],
  };
  const d = move[e.key];
  if (!d) return;
  const table = from.closest('table');
  const to = table?.querySelector<HTMLElement>(`[data-r="${r + d[0]}"][data-c="${c + d[1]}"]`);
  if (to) {
    e.preventDefault();
    to.focus();
  }
}

/** The VIP x node matrix: rows grouped by table (those below their minimum first), columns by label group. */
export function MatrixTable(p: MatrixTableProps) {
  const { view } = p;
  let r = 0;
  return html`
    <div class="matrix-scroll">
      <table class="matrix" aria-label="VIPs by node" onKeyDown=${onKey}>
        <thead>
          <tr>
            <th rowspan="2" scope="col" class="corner">VIP</th>
            <th rowspan="2" scope="col" class="count" title="advertisers / minimum">adv / min</th>
            ${view.groups.map(
              (g) =>
                html`<th colspan=${g.span} scope="colgroup" class="group">
                  <button
                    class="group-toggle"
                    aria-expanded=${g.expanded}
                    title=${g.expanded ? 'show this group as one column' : 'show each node of this group'}
                    onClick=${() => p.onGroup(g.group)}
                  >
                    ${g.expanded ? '▾' : '▸'} ${g.group} <span class="muted">(${g.nodes})</span>
                  </button>
                  ${
                    g.expanded && g.pages > 1
                      ? html`<span class="pager">
                          <button
                            disabled=${g.page === 0}
                            onClick=${() => p.onPage(g.group, g.page - 1)}
                            aria-label="previous nodes"
                          >
                            ‹
                          </button>
                          ${g.page + 1}/${g.pages}
                          <button
                            disabled=${g.page + 1 >= g.pages}
                            onClick=${() => p.onPage(g.group, g.page + 1)}
                            aria-label="next nodes"
                          >
                            ›
                          </button>
                        </span>`
                      : null
                  }
                </th>`,
            )}
          </tr>
          <tr>
            ${view.columns.map((c, ci) =>
              c.kind === 'node'
                ? html`<th scope="col" class=${`node ${c.node.state === 'lost' ? 'lost' : ''}`}>
                    <button
                      class="node-name"
                      data-r="-1"
                      data-c=${ci}
                      title=${`${c.node.name}: ${c.node.state}${c.node.drained ? ', drained' : ''}`}
                      onClick=${() => p.onNode(c.node.name)}
                    >
                      ${c.node.state === 'lost' ? '⊘ ' : ''}${c.node.drained ? '= ' : ''}${c.node.name}
                    </button>
                  </th>`
                : html`<th scope="col" class="node">
                    <span class="muted">${c.indices.length} nodes</span>
                    ${c.lost > 0 ? html`<span class="badge bad">⊘ ${c.lost} lost</span>` : null}
                    ${c.drained > 0 ? html`<span class="badge">= ${c.drained} drained</span>` : null}
                  </th>`,
            )}
          </tr>
        </thead>
        ${view.tables.map(
          (t) =>
            html`<tbody>
              <tr class="table-name">
                <th colspan=${2 + view.columns.length} scope="rowgroup">table ${t.table}</th>
              </tr>
              ${t.rows.map((row) => {
                const ri = r++;
                return html`<tr
                  class=${row.below ? 'below' : row.problem ? 'problem' : ''}
                  data-vip=${row.vip.id}
                >
                  <th scope="row" class="vip">
                    ${row.vip.prefix}
                    ${row.below ? html`<span class="badge bad">▼ below minimum</span>` : null}
                  </th>
                  <td class=${`count ${row.below ? 'bad' : ''}`}>
                    ${row.vip.advertisers} / ${row.vip.minimum}
                  </td>
                  ${row.cells.map((cell, ci) => {
                    const col = view.columns[ci]!;
                    if (cell.kind === 'node' && col.kind === 'node') {
                      const l = cell.letter;
                      const sel = p.selected?.node === col.node.name && p.selected.vip === row.vip.id;
                      if (l === '.')
                        return html`<td class="cell c-none" aria-label=${`${col.node.name}: no rule`}></td>`;
                      return html`<td class="cell-td">
                        <button
                          class=${`cell c-${MATRIX_CELLS[l].state}${sel ? ' selected' : ''}`}
                          data-r=${ri}
                          data-c=${ci}
                          data-cell=${l}
                          aria-label=${`${col.node.name}, ${row.vip.id}: ${cellLabel(l)}`}
                          title=${`${col.node.name}: ${cellLabel(l)}`}
                          onClick=${() => p.onCell(col.node.name, row.vip.id)}
                        >
                          ${MATRIX_CELLS[l].icon}
                        </button>
                      </td>`;
                    }
                    if (cell.kind === 'group' && col.kind === 'group') {
                      const l = cell.worst;
                      return html`<td class="cell-td">
                        <button
                          class=${`cell group-cell c-${MATRIX_CELLS[l].state}`}
                          data-r=${ri}
                          data-c=${ci}
                          data-cell=${l}
                          aria-label=${`${col.group}, ${row.vip.id}: ${cell.advertising} of ${cell.withRule} nodes advertising; most urgent: ${cellLabel(l)}`}
                          title=${Object.entries(cell.counts)
                            .map(([k, n]) => `${n} ${cellLabel(k as MatrixCell)}`)
                            .join('\n')}
                          onClick=${() => p.onGroup(col.group)}
                        >
                          ${MATRIX_CELLS[l].icon} ${cell.advertising}/${cell.withRule}
                        </button>
                      </td>`;
                    }
                    return null;
                  })}
                </tr>`;
              })}
            </tbody>`,
        )}
      </table>
    </div>
  `;
}

/** What each cell's icon and colour mean. */
export function Legend() {
  return html`<section class="legend" aria-label="legend">
    ${(Object.keys(MATRIX_CELLS) as MatrixCell[])
      .filter((l) => l !== '.')
      .map(
        (l) =>
          html`<span class="legend-item"
            ><span class=${`cell c-${MATRIX_CELLS[l].state}`} aria-hidden="true"
              >${MATRIX_CELLS[l].icon}</span
            >
            ${MATRIX_CELLS[l].label}</span
          >`,
      )}
  </section>`;
}
