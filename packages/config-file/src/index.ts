export {
  ConfigInvalidError,
  MAX_CONFIG_BYTES,
  overrideFromFlag,
  overridesFromEnv,
  parseConfig,
  type ConfigIssue,
  type ConfigOverride,
} from './config-file.js';
