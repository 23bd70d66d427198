export type { SocketAddress } from './address.js';
export { formatSocketAddress, parseSocketAddress } from './address.js';
export type { HaproxyClientOptions, ReadHealthOptions } from './client.js';
export { HaproxyClient } from './client.js';
export * as commands from './commands.js';
export type { ForcedServerHealth, ServerAdminState, StatObjectType } from './commands.js';
export type { HaproxyErrorCode } from './errors.js';
export {
  HaproxyBadAddressError,
  HaproxyBadArgumentError,
  HaproxyCommandRejectedError,
  HaproxyConnectionFailedError,
  HaproxyError,
  HaproxyMalformedReplyError,
  HaproxyPermissionDeniedError,
  HaproxySocketMissingError,
  HaproxyTimeoutError,
  HaproxyUnknownCommandError,
  HaproxyUnknownProxyError,
  HaproxyUnknownRingError,
  HaproxyUnknownServerError,
  HaproxyWorkerStoppingError,
  parseCommandError,
} from './errors.js';
export type { EventSink, RingEvent } from './events.js';
export { parseEventSinks, parseRingEvent } from './events.js';
export type { RingVerdict } from './ring-patch.js';
export { patchWithRingEvents, ringVerdict } from './ring-patch.js';
export type { FeedEvent, FeedState, FeedStep, SnapshotEvent, UnreachableEvent } from './feed-state.js';
export { feedOnFailure, feedOnRead, INITIAL_FEED_STATE } from './feed-state.js';
export type {
  BackendHealth,
  DiffOptions,
  FrontendHealth,
  HealthSnapshot,
  ProcessIdentity,
  ProxyChanges,
  ProxyNames,
  ServerStatus,
  SnapshotChanges,
  SnapshotOptions,
} from './health.js';
export { buildHealthSnapshot, diffSnapshots, isFrontendUp, isServerUsable } from './health.js';
export type { EventsRingStatus, WatchOptions } from './health-feed.js';
export { watch } from './health-feed.js';
export type { ProcessInfo } from './info.js';
export { parseInfo } from './info.js';
export { EventLineReader, ReplyReader } from './reply-reader.js';
export type { ServerOperationalState, ServerStateRow } from './servers-state.js';
export type { ProxyIds, SelectionQuery } from './proxy-selection.js';
export { selectionIds, selectionQueries, selectionTable } from './proxy-selection.js';
export { parseServersState, SERVER_ADMIN_FLAGS } from './servers-state.js';
export type { StatRow, StatTable } from './stat-csv.js';
export { parseStat, statValue } from './stat-csv.js';
export type { Follower } from './transport.js';
