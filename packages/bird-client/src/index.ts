export { BirdClient, type BirdClientOptions } from './client.js';
export {
  birdCommands,
  MAX_SYMBOL_LENGTH,
  symbolProblem,
  type ConfigureOptions,
  type ShowProtocolsOptions,
  type ShowRouteOptions,
} from './commands.js';
export {
  checkBirdConfig,
  includeTargets,
  type BirdConfigCheck,
  type BirdConfigProblem,
  type BirdConfigFile,
} from './check-config.js';
export {
  exportQueries,
  judgeExports,
  nextHopProblem,
  ROUTING_PROTOCOLS,
  routers,
  type BirdRouteExport,
  type ExportAnswer,
  type ExportQuery,
  type TableNextHop,
} from './export-check.js';
export { readExports } from './read-exports.js';
export {
  BirdCommandSyntaxError,
  BirdCommandTooLongError,
  BirdConfigError,
  BirdConnectionError,
  BirdError,
  BirdIncludeWriteError,
  BirdInvalidInputError,
  BirdProtocolError,
  BirdReplyError,
  BirdTimeoutError,
  BirdVerifyError,
} from './errors.js';
export {
  BirdRouteInjector,
  type BirdApplyResult,
  type BirdDisabledProtocol,
  type BirdRouteInjectorOptions,
  type BirdSetOptions,
} from './injector.js';
export {
  parseConfigError,
  parseConfigureReply,
  parseProtocolAction,
  type BirdConfigErrorLocation,
  type BirdConfigureOutcome,
  type BirdConfigureResult,
  type BirdProtocolActionResult,
} from './parse-configure.js';
export { parseShowProtocols, type BirdChannel, type BirdProtocol } from './parse-protocols.js';
export {
  bgpAttributesOf,
  parseShowRoute,
  parseShowRouteCount,
  type BirdBgpAttributes,
  type BirdNextHop,
  type BirdRoute,
  type BirdRouteCount,
  type ParseShowRouteOptions,
} from './parse-routes.js';
export { parseBanner, parseShowStatus, type BirdStatus } from './parse-status.js';
export { parseShowSymbols, type BirdSymbol } from './parse-symbols.js';
export { parsePrefix, type BirdFamily, type ParsedPrefix } from './prefix.js';
export {
  DEFAULT_NEXT_HOP,
  DEFAULT_PROTOCOL_NAMES,
  includeProtocols,
  normalizeRoute,
  ownedProtocols,
  partitionRoutes,
  planProtocols,
  protocolNameFor,
  renderableLayout,
  renderInclude,
  type BirdRouteBgp,
  type DesiredRoute,
  type IncludeLayout,
  type NormalizedBgp,
  type NormalizedRoute,
  type RefusedRoute,
  type RefusedTable,
  type RenderedInclude,
  type RenderedProtocol,
  type StaticNextHop,
  type TableOptions,
} from './render-include.js';
export { BirdReplyReader, type BirdReaderEvent, type BirdReply, type BirdReplyLine } from './reply-reader.js';
export { diffProtocol, heldRoutes, toDesiredRoute } from './route-diff.js';
