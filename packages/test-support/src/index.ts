export type { Backends, BirdInstance, ConfiguredNats, NatsCluster, NatsInstance } from './daemons.js';
export {
  birdCommand,
  startBackends,
  startBird,
  startNats,
  startNatsCluster,
  startNatsWithConfig,
} from './daemons.js';
export type { HaproxyInstance, HaproxyOptions, ReloadOptions } from './haproxy.js';
export { startHaproxy, statsCommand } from './haproxy.js';
export type { BgpPair, RouteLogEntry } from './bgp-pair.js';
export { parseRouteLog, startBgpPair } from './bgp-pair.js';
export type { BgpChannelStats, BgpRouteCounts } from './bgp-stats.js';
export { bgpChannelStats, parseBgpChannelStats } from './bgp-stats.js';
export { bgpSessionId, routerCaughtUp } from './bgp-sync.js';
export type { PortHold } from './ports.js';
export { holdPort, retryOnPortClash } from './ports.js';
export type { UnixBackends } from './unix-backends.js';
export { startUnixBackends } from './unix-backends.js';
export { Daemon } from './process.js';
export { freePort, GiveUp, loopbackPair, waitFor } from './util.js';
export type { NetnsLink } from './netns.js';
export { startNetnsLink } from './netns.js';
export type {
  ConfigParseResult,
  ConfigSchema,
  ExampleConfigCheck,
  ExampleConfigOptions,
} from './example-config.js';
export { checkExampleConfig } from './example-config.js';
export type { GeneratedRules } from './generate-rules.js';
export { generateRules } from './generate-rules.js';
