import {
  overridesFromEnv as overridesFromEnvFor,
  parseConfig as parseConfigWith,
  type ConfigOverride,
} from '@rhi/config-file';
import { ControllerConfigSchema, type ControllerConfig } from './schema.js';

export { ConfigInvalidError, overrideFromFlag, type ConfigOverride } from '@rhi/config-file';

/** Overrides from `RHI_<SECTION>__<KEY>` variables, e.g. `RHI_API__LISTEN=0.0.0.0:9190`. */
export function overridesFromEnv(env: Readonly<Record<string, string | undefined>>): ConfigOverride[] {
  return overridesFromEnvFor(env, ControllerConfigSchema);
}

/** Parses and validates the controller's YAML configuration, then the overrides; throws ConfigInvalidError. */
export function parseConfig(
  text: string,
  file: string,
  overrides: readonly ConfigOverride[] = [],
): ControllerConfig {
  return parseConfigWith(ControllerConfigSchema, text, file, overrides);
}
