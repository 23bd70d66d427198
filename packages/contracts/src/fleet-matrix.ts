// The fleet matrix the controller serves at GET /api/v1/matrix and the dashboard draws. No zod here: the
// dashboard bundles this file alone (the package has no side effects, so its bundler drops the rest).

/**
 * What one node does with one VIP, one letter per cell, most urgent first where several hold:
 * - `L` the node is lost: its last known state, never counted as advertising;
 * - `U` BIRD could not be read;
 * - `X` drift: the agent and BIRD disagree (wanted and not held, or held and not wanted);
 * - `S` held by BIRD but sent to no router (export filter, session down, next hop);
 * - `h` advertised, held up by damping though its rule says withdraw;
 * - `A` advertised;
 * - `N` withdrawn: the node is drained;
 * - `B` withdrawn: the node's prefix allowlist blocks it;
 * - `d` withdrawn, held down by damping though its rule says advertise;
 * - `W` withdrawn by its rule;
 * - `.` the node has no rule for this VIP.
 */
export const MATRIX_CELLS = {
  L: { state: 'lost', label: 'node lost (last known state)', icon: '⊘', counts: false },
  U: { state: 'unknown', label: 'BIRD could not be read', icon: '?', counts: false },
  X: { state: 'drift', label: 'drift: agent and BIRD disagree', icon: '!', counts: false },
  S: { state: 'notSent', label: 'in BIRD, sent to no router', icon: '~', counts: false },
  h: { state: 'heldUp', label: 'advertised, held by damping', icon: '+', counts: true },
  A: { state: 'advertised', label: 'advertised', icon: '✓', counts: true },
  N: { state: 'drained', label: 'withdrawn: node drained', icon: '=', counts: false },
  B: { state: 'blocked', label: 'withdrawn: blocked by the allowlist', icon: '#', counts: false },
  d: { state: 'heldDown', label: 'withdrawn, held by damping', icon: '-', counts: false },
  W: { state: 'withdrawn', label: 'withdrawn by its rule', icon: '✗', counts: false },
  '.': { state: 'none', label: 'no rule for this VIP', icon: '', counts: false },
} as const;

/** One cell's letter (see {@link MATRIX_CELLS}). */
export type MatrixCell = keyof typeof MATRIX_CELLS;

/** A cell's state name, e.g. `advertised`. */
export type MatrixCellState = (typeof MATRIX_CELLS)[MatrixCell]['state'];

/** What the VIP list (`GET /api/v1/vips`) and the matrix both say of a VIP. */
export interface VipHead {
  /** `table%prefix`. */
  readonly id: string;
  readonly table: string;
  readonly prefix: string;
  readonly family: 'ipv4' | 'ipv6';
  /** Nodes advertising it now (lost nodes never count). */
  readonly advertisers: number;
  /** The fewest advertisers it should have: below it, an alert. */
  readonly minimum: number;
  /** Nodes with a rule for it. */
  readonly nodes: number;
}

/** A VIP row of the matrix. */
export interface MatrixVip extends VipHead {
  /** One letter per node of {@link FleetMatrix.nodes}, in that order. */
  readonly cells: string;
}

/** What the node list (`GET /api/v1/nodes`) and the matrix both say of a node. */
export interface NodeHead {
  readonly name: string;
  readonly state: 'up' | 'lost';
  readonly labels: Readonly<Record<string, string>>;
  readonly drained: boolean;
  readonly haproxyReachable: boolean;
  readonly birdReachable: boolean;
  /** When its last status was stored (ISO). */
  readonly lastHeard: string;
}

/** A node column of the matrix. */
export interface MatrixNode extends NodeHead {
  readonly ruleSet: { readonly serial: number; readonly hash: string } | null;
}

/**
 * The whole matrix, or (with `?nodes=`) some columns of it with every VIP row: VIPs by id, nodes by name.
 * `changeId` is the live stream's change id the matrix is as of: changes with a greater id are newer.
 */
export interface FleetMatrix {
  readonly vips: readonly MatrixVip[];
  readonly nodes: readonly MatrixNode[];
  readonly changeId: number;
  readonly generatedAt: string;
  /** True while the controller cannot reach NATS: the matrix may be stale. */
  readonly stale: boolean;
}
