/** Health of one frontend as the rules see it. */
export interface FrontendHealth {
  readonly up: boolean;
  /** Why, in HAProxy's words (e.g. `PAUSED`); shown in explanations. */
  readonly reason?: string;
}

/** Health of one backend: HAProxy's own verdict plus server counts for capacity thresholds. */
export interface BackendHealth {
  readonly up: boolean;
  readonly reason?: string;
  /** Servers that can take traffic (UP, UP going down, no check). */
  readonly serversUp?: number;
  readonly serversTotal?: number;
}

/**
 * The health state rules are evaluated against (the `--state` file of `rhi-rules eval`):
 * `{"frontends":{"fe":{"up":true}},"backends":{"be":{"up":true,"serversUp":2,"serversTotal":3}}}`.
 * A proxy missing from it counts as down ("unknown").
 */
export interface HealthState {
  readonly frontends: Readonly<Record<string, FrontendHealth>>;
  readonly backends: Readonly<Record<string, BackendHealth>>;
}
