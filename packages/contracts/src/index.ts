export type { ExplanationNode } from './explanation.js';
export { boundExplanation, EXPLANATION_LIMITS, ExplanationSchema } from './explanation.js';
export type {
  Ack,
  AgentEvent,
  AlertEvent,
  Command,
  HealthReport,
  Heartbeat,
  NodeStatus,
  RouteStatus,
  SignedRuleSet,
} from './schemas.js';
export {
  AckSchema,
  AgentEventSchema,
  ALERT_KINDS,
  alertEventMsgId,
  AlertEventSchema,
  CommandSchema,
  EVENT_NAMES,
  HEALTH_REPORT_MAX_BYTES,
  HealthReportSchema,
  HeartbeatSchema,
  NodeStatusSchema,
  RouteStatusSchema,
  SignedRuleSetSchema,
  STATUS_REFRESH_MS,
} from './schemas.js';
export type { RuleSetRejection, VerifyResult } from './signing.js';
export { publicKeyFrom, signingInput, signRuleSet, verifySignedRuleSet } from './signing.js';
export { ContractInvalidTokenError, jetstream, subjects, TOKEN, WIRE_VERSION } from './subjects.js';
export { parseRouteId, routeId } from './route-id.js';
