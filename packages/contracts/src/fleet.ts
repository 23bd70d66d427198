// `@rhi/contracts/fleet`: what the dashboard needs, and nothing that imports a Node module or zod, so a
// browser bundle takes this file alone.
export * from './fleet-matrix.js';
export type * from './fleet-api.js';
// Types only (erased at build): the status shapes the detail panel reads.
export type { ExplanationNode, HealthReport, RouteStatus } from './index.js';
// Label selectors, parsed as the API parses them (pure, no imports).
export * from './label-selector.js';
