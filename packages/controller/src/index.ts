export { Fleet, type HeartbeatOutcome, type IngestOutcome, type NodeRecord } from './fleet/fleet.js';
export { isNewer, judgeStatus, type StatusRejection, type StatusVerdict } from './fleet/ingest.js';
export { LOST_AFTER_HEARTBEATS, liveness, lostAt } from './fleet/liveness.js';
export {
  classify,
  vipViews,
  type VipNode,
  type VipNodeState,
  type VipView,
  type VipViewOptions,
} from './fleet/vip-view.js';
export {
  ALERT_KINDS,
  alertConditions,
  trackAlerts,
  type Alert,
  type AlertCondition,
  type AlertKind,
  type AlertOptions,
} from './fleet/alerts.js';
export { buildRecord, lintUpload, type LintOutcome, type RecordMeta } from './rulesets/lint-upload.js';
