import type { FleetMatrix, MatrixNode, MatrixVip } from '@rhi/contracts/fleet';

/** The matrix as the page holds it: the last whole read, with columns merged in since. Immutable. */
export interface MatrixState {
  readonly vips: readonly MatrixVip[];
  readonly nodes: readonly MatrixNode[];
  /** When the controller made the newest part (ISO). */
  readonly generatedAt: string;
  readonly stale: boolean;
}

/** The state a whole read gives. */
export function fromWhole(m: FleetMatrix): MatrixState {
  return { vips: m.vips, nodes: m.nodes, generatedAt: m.generatedAt, stale: m.stale };
}

/**
 * Merges a read of some columns (`asked`: the node names asked for; `part`: every VIP row with a cell
 * for each of `part.nodes`) into `state`. A node asked for and not in the answer has left; a node new
 * to the page is added as a column. Returns null when the answer holds a VIP the page does not know: its
 * cells for the other nodes are unknown, so the caller reads the whole matrix again.
 */
export function mergeColumns(
  state: MatrixState,
  asked: readonly string[],
  part: FleetMatrix,
): MatrixState | null {
  const known = new Map(state.vips.map((v) => [v.id, v]));
  for (const v of part.vips) if (!known.has(v.id)) return null;
  const partIndex = new Map(part.nodes.map((n, i) => [n.name, i]));
  const gone = new Set(asked.filter((n) => !partIndex.has(n)));
  const keep: number[] = [];
  const nodes: MatrixNode[] = [];
  state.nodes.forEach((n, i) => {
    if (gone.has(n.name)) return;
    keep.push(i);
    const fresh = partIndex.get(n.name);
    nodes.push(fresh === undefined ? n : part.nodes[fresh]!);
  });
  const old = new Set(state.nodes.map((n) => n.name));
  const added = part.nodes.map((n, i) => [n, i] as const).filter(([n]) => !old.has(n.name));
  for (const [n] of added) nodes.push(n);
  // A VIP missing from the answer has no node with a rule for it any more.
  const partRows = new Map(part.vips.map((v) => [v.id, v]));
  const vips: MatrixVip[] = [];
  for (const v of state.vips) {
    const fresh = partRows.get(v.id);
    if (!fresh) continue;
    let cells = '';
    for (const i of keep) {
      const name = state.nodes[i]!.name;
      const j = partIndex.get(name);
      cells += j === undefined ? v.cells[i]! : fresh.cells[j]!;
    }
    for (const [, j] of added) cells += fresh.cells[j]!;
    vips.push({ ...fresh, cells });
  }
  return {
    vips,
    nodes,
    generatedAt: part.generatedAt,
    stale: part.stale,
  };
}
