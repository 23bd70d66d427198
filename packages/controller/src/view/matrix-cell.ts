import type { MatrixCell, RouteStatus } from '@rhi/contracts';

/** One node's route for a VIP as one matrix cell (see `MATRIX_CELLS`): the most urgent state first. Pure. */
export function matrixCell(route: RouteStatus | undefined, lost: boolean, drained: boolean): MatrixCell {
  if (!route) return '.';
  if (lost) return 'L';
  if (route.inBird === null) return 'U';
  if (route.desired !== route.inBird) return 'X';
  if (route.desired) {
    if (route.exported && route.exported.to.length === 0) return 'S';
    return route.decision === 'withdraw' ? 'h' : 'A';
  }
  if (drained) return 'N';
  if (!route.allowed) return 'B';
  if (route.decision === 'advertise') return 'd';
  return 'W';
}
