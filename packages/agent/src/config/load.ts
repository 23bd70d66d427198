import {
  overridesFromEnv as overridesFromEnvFor,
  parseConfig as parseConfigWith,
  type ConfigOverride,
} from '@rhi/config-file';
import type { AgentConfig } from './schema.js';
import { AgentConfigSchema } from './schema.js';

export {
  ConfigInvalidError,
  MAX_CONFIG_BYTES,
  overrideFromFlag,
  type ConfigIssue,
  type ConfigOverride,
} from '@rhi/config-file';

/**
 * Overrides from the environment: `RHI_<SECTION>__<KEY>`, e.g. `RHI_NODE__NAME=lb-1`,
 * `RHI_HAPROXY__POLL_INTERVAL_MS=100`; `RHI_CONFIG` and `RHI_LOG_LEVEL` are not overrides.
 */
export function overridesFromEnv(env: Readonly<Record<string, string | undefined>>): ConfigOverride[] {
  return overridesFromEnvFor(env, AgentConfigSchema);
}

/** Parses and validates the agent's YAML configuration, then the overrides; throws ConfigInvalidError. */
export function parseConfig(
  text: string,
  file: string,
  overrides: readonly ConfigOverride[] = [],
): AgentConfig {
  return parseConfigWith(AgentConfigSchema, text, file, overrides);
}
