export type { Ack, AgentEvent, Command, NodeStatus, RouteStatus, SignedRuleSet } from './schemas.js';
export {
  AckSchema,
  AgentEventSchema,
  CommandSchema,
  EVENT_NAMES,
  NodeStatusSchema,
  RouteStatusSchema,
  SignedRuleSetSchema,
} from './schemas.js';
export type { RuleSetRejection, VerifyResult } from './signing.js';
export { publicKeyFrom, signingInput, signRuleSet, verifySignedRuleSet } from './signing.js';
export { ContractInvalidTokenError, jetstream, subjects, TOKEN, WIRE_VERSION } from './subjects.js';
export { parseRouteId, routeId } from './route-id.js';
