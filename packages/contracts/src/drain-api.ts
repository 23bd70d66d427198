import type { OperatorAction } from './operator-action.js';
import type { GuardVerdict, WhatIfResult } from './what-if-api.js';

/**
 * The answer to `POST /api/v1/nodes/{name}/drain|undrain` (and the label group's `/api/v1/drain|undrain`):
 * the action recorded in the timeline, with each node's answer, and how the guard judged a drain (null for
 * an undrain). A drain the guard refuses answers `409 DRAIN_BLOCKED` instead, its `whatIf` and `guard` in
 * the error.
 */
export interface DrainApiAnswer {
  readonly action: OperatorAction;
  readonly guard: GuardVerdict | null;
  readonly whatIf: WhatIfResult | null;
}
