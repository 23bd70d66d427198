import { RuleSetSchema } from '@rhi/rules-dsl';
import { z } from 'zod';
import { ExplanationSchema } from './explanation.js';
import { TOKEN } from './subjects.js';

const nodeName = z.string().regex(TOKEN, 'a node name is 1-64 letters, digits, - or _');
const isoTime = z.iso.datetime();
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
const labels = z.record(z.string().regex(TOKEN), z.string().regex(TOKEN));

/**
 * A rule set signed by an operator key (ed25519). The signature covers {@link signingInput}: the
 * version tag, the hash of the rule set's canonical text, the serial and the issue time. Agents refuse
 * a serial lower than the one they run, so an old rule set cannot be replayed.
 */
export const SignedRuleSetSchema = z.strictObject({
  schema: z.literal('rhi.v1.ruleset'),
  ruleSet: RuleSetSchema,
  /** sha256 of `format(ruleSet)`; recomputed and compared by the receiver. */
  hash: sha256Hex,
  /** Monotonic per fleet; a higher serial supersedes a lower one. */
  serial: z.number().int().min(1),
  issuedAt: isoTime,
  /** Who signed: the name of a key in the agent's trusted key list. */
  keyId: z.string().min(1).max(128),
  /** base64 ed25519 signature of the signing input. */
  signature: z.string().min(1),
});
export type SignedRuleSet = z.infer<typeof SignedRuleSetSchema>;

/** Per-route state in a status report. */
export const RouteStatusSchema = z.strictObject({
  table: z.string(),
  prefix: z.string(),
  family: z.enum(['ipv4', 'ipv6']),
  /** What the rule says right now. */
  decision: z.enum(['advertise', 'withdraw']),
  /** What the agent asks BIRD for, after damping, drain and the allowlist. */
  desired: z.boolean(),
  /** Damping state: stable, or counting towards a change, or held down after flapping. */
  damping: z.enum(['stable', 'rising', 'falling', 'held']),
  /** False when the node's prefix allowlist forbids this route (it is then never advertised). */
  allowed: z.boolean(),
  /** One-line explanation, e.g. `b:be_app down`. */
  reason: z.string(),
  /** The whole explanation of the rule's verdict (bounded, see `EXPLANATION_LIMITS`). */
  explanation: ExplanationSchema,
  /** Whether BIRD really holds the route (read back), or null when BIRD could not be read. */
  inBird: z.boolean().nullable(),
  /**
   * For a route BIRD holds, once checked: the routing protocols (BGP, OSPF, ...) that send it to routers
   * (empty: no router receives it), and why the others do not.
   */
  exported: z.strictObject({ to: z.array(z.string()), problems: z.array(z.string()) }).optional(),
  /** Why the agent's injector left the route out of BIRD (it cannot be rendered); `reason` says so too. */
  refused: z.string().optional(),
  /** When the desired state last changed. */
  since: isoTime,
});
export type RouteStatus = z.infer<typeof RouteStatusSchema>;

/**
 * An agent's full status: published on `rhi.v1.status.<node>` when it changes, on every (re)connect and at
 * least every {@link STATUS_REFRESH_MS}, and kept per node in the status stream; between changes a
 * {@link Heartbeat} says that it still holds. `bird.exportsCheckedAt` alone changing is not a change: it is
 * as of the status's `time`.
 */
export const NodeStatusSchema = z.strictObject({
  schema: z.literal('rhi.v1.status'),
  node: nodeName,
  labels,
  agentVersion: z.string(),
  /**
   * The node's prefix allowlist (`allowlist` of its config, canonical CIDRs): what the controller's
   * what-if checks a candidate rule set against. Absent from older agents.
   */
  allowlist: z.array(z.string().min(1)).max(10_000).optional(),
  time: isoTime,
  /** Increases with every status the agent publishes; lets readers drop stale ones. */
  seq: z.number().int().min(0),
  ruleSet: z
    .strictObject({
      hash: sha256Hex,
      serial: z.number().int().min(0),
      source: z.enum(['file', 'controller', 'persisted']),
      appliedAt: isoTime,
    })
    .nullable(),
  haproxy: z.strictObject({
    reachable: z.boolean(),
    pid: z.number().int().optional(),
    error: z.string().optional(),
    /**
     * The event ring the agent follows for millisecond detection, when configured: `unavailable` while
     * HAProxy refuses it (detection then falls back to the poll interval), `pending` until it has said.
     */
    eventRing: z
      .strictObject({
        name: z.string(),
        state: z.enum(['pending', 'following', 'unavailable']),
        pid: z.number().int().optional(),
        error: z.string().optional(),
        code: z.string().optional(),
      })
      .optional(),
  }),
  bird: z.strictObject({
    reachable: z.boolean(),
    version: z.string().optional(),
    error: z.string().optional(),
    /** Static protocols disabled as a fail-safe while BIRD refuses its config: all their routes withdrawn. */
    disabled: z.array(z.string()).optional(),
    /** When BIRD was last asked which routers each route goes to (the routes' `exported`); absent before. */
    exportsCheckedAt: isoTime.optional(),
  }),
  /** Whether the node is drained (asked to advertise nothing), since when, why, and how far the drain is. */
  drain: z.strictObject({
    drained: z.boolean(),
    since: isoTime.optional(),
    reason: z.string().optional(),
    /** `deprefer`: routes still advertised, de-preferred, until sessions fall; `withdraw`: none advertised. */
    mode: z.enum(['deprefer', 'withdraw']).optional(),
    /** While de-preferring: the HAProxy connection count the drain waits for. */
    waitSessions: z.number().int().min(0).optional(),
    /** While de-preferring: HAProxy's connections as last read since the drain began. */
    sessions: z.number().int().min(0).optional(),
    /** While de-preferring: when the routes are withdrawn whatever the connections. */
    deadline: isoTime.optional(),
  }),
  routes: z.array(RouteStatusSchema),
});
export type NodeStatus = z.infer<typeof NodeStatusSchema>;

/**
 * The longest an agent goes without publishing its full status, even unchanged: a controller that missed
 * one (or a status stream whose `max_age` is longer than this) always has it again within this time.
 */
export const STATUS_REFRESH_MS = 600_000;

/**
 * An agent's heartbeat on `rhi.v1.heartbeat.<node>`, every `nats.heartbeatMs`: the node is alive and its
 * status number `seq` (the last it published) still holds at `time`. About 100 bytes, where the status is
 * kilobytes: a fleet's heartbeats cost the controller little. Kept per node in the heartbeat stream, so that
 * a controller started cold knows when each node was last heard. Agents write it as `JSON.stringify` of
 * these four keys in this order, with `time` from `toISOString`; the controller reads that form from its
 * bytes, and any other valid form (slower) through the schema.
 */
export const HeartbeatSchema = z.strictObject({
  schema: z.literal('rhi.v1.heartbeat'),
  node: nodeName,
  time: isoTime,
  /** The `seq` of the last status the agent published. */
  seq: z.number().int().min(0),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

/** The largest health report an agent publishes; proxies past it are left out and counted. */
export const HEALTH_REPORT_MAX_BYTES = 256 * 1024;

const count = z.number().int().min(0);
const proxyName = z.string().min(1).max(256);

/**
 * A node's HAProxy health, compactly: per frontend and backend, whether it is up and (backends) how many
 * servers are usable of how many. Published on `rhi.v1.health.<node>` when it changes (not with every
 * heartbeat), and kept per node in the health stream, so that the controller can judge a rule set against
 * the fleet's real state. Its `frontends`/`backends` are a rules-language `HealthState`.
 */
export const HealthReportSchema = z.strictObject({
  schema: z.literal('rhi.v1.health'),
  node: nodeName,
  time: isoTime,
  /** Increases with every report the agent publishes; lets readers drop stale ones. */
  seq: count,
  /** False while HAProxy cannot be read: the maps are then empty. */
  reachable: z.boolean(),
  /** The HAProxy worker the health was read from. */
  pid: z.number().int().optional(),
  frontends: z.record(proxyName, z.strictObject({ up: z.boolean() })),
  backends: z.record(
    proxyName,
    z
      .strictObject({ up: z.boolean(), serversUp: count, serversTotal: count })
      .refine((b) => b.serversUp <= b.serversTotal, { message: 'serversUp is larger than serversTotal' }),
  ),
  /**
   * Proxies left out to keep the report under {@link HEALTH_REPORT_MAX_BYTES}; the proxies the node's
   * rule set names are kept first.
   */
  omitted: z.strictObject({ frontends: count, backends: count }),
  /**
   * Every proxy the HAProxy worker `pid` has, by name, from the agent's last full read (at each rule-set
   * judgement): what a what-if checks a candidate's proxies against. The maps above hold the health of
   * the proxies the node's rules name (a read limited to them). Absent when not known for this worker
   * (HAProxy reloaded since) or when it would not fit under the size cap.
   */
  proxies: z.strictObject({ frontends: z.array(proxyName), backends: z.array(proxyName) }).optional(),
});
export type HealthReport = z.infer<typeof HealthReportSchema>;

/** Stable event names, shared by logs (`event` field) and the events subject. */
export const EVENT_NAMES = [
  'routeAnnounced',
  'routeWithdrawn',
  'ruleSetApplied',
  'ruleSetRejected',
  'drained',
  'undrained',
  'haproxyUnreachable',
  'haproxyReachable',
  'birdUnreachable',
  'birdReachable',
  /** BIRD answers but refuses its configuration (e.g. 8002 in bird.conf): nothing changes until it is fixed. */
  'birdConfigError',
  'birdConfigAccepted',
  /** A route left out of BIRD because it cannot be rendered; the node's other routes are applied. */
  'routeRefused',
  /**
   * BIRD refuses every `configure` (an error in its config) and a route had to be withdrawn: the static
   * protocol holding it was disabled, taking the node's other routes in it along (`table`: its table).
   */
  'birdProtocolDisabled',
  /** A protocol disabled so is enabled again: BIRD took a `configure`, and holds the right routes. */
  'birdProtocolEnabled',
  /** BIRD holds a route but sends it to no router (export filter, session down, invalid next hop). */
  'routeNotExported',
  /** A route no router received is sent again. */
  'routeExported',
  /** BIRD or the include file differed from the routes in force (a hand edit, a lost file): repaired. */
  'birdDriftRepaired',
  /** HAProxy refuses to let the agent follow its event ring: changes are seen at the poll interval only. */
  'eventRingUnavailable',
  /** The event ring is followed again (e.g. after a reload with a fixed config). */
  'eventRingFollowed',
] as const;

/** One transition on one node. */
export const AgentEventSchema = z.strictObject({
  schema: z.literal('rhi.v1.event'),
  node: nodeName,
  time: isoTime,
  event: z.enum(EVENT_NAMES),
  table: z.string().optional(),
  prefix: z.string().optional(),
  reason: z.string(),
});
export type AgentEvent = z.infer<typeof AgentEventSchema>;

/** The kinds of fleet alert the controller raises (also the `kind` label of its alerts metric). */
export const ALERT_KINDS = [
  'vipNoAdvertiser',
  'vipBelowMinimum',
  'nodeDrift',
  'nodeLost',
  'nodeFlapping',
  'ruleSetMismatch',
  /** A node rejected the rule set assigned to it (NACK): it keeps its last good one. */
  'ruleSetRejected',
] as const;

/**
 * An alert opening or closing, published once by the controller replica holding the lease on
 * `rhi.v1.events.controller.alerts`, so the timeline holds it beside the agents' events. Published with
 * the `Nats-Msg-Id` {@link alertEventMsgId}: a replica taking over cannot publish it twice within the
 * stream's de-duplication window.
 */
export const AlertEventSchema = z.strictObject({
  schema: z.literal('rhi.v1.alert'),
  event: z.enum(['alertOpened', 'alertClosed']),
  /** One occurrence of an alert: the same in its opening and its closing, new when it opens again. */
  id: z.string().min(1).max(1024),
  kind: z.enum(ALERT_KINDS),
  /** What the alert is about: a route id (`table%prefix`), a node name, or `fleet`. */
  subject: z.string().min(1),
  /** The VIP (route id) of `vipNoAdvertiser` and `vipBelowMinimum`. */
  vip: z.string().optional(),
  /** The node of `nodeDrift`, `nodeLost` and `nodeFlapping`. */
  node: nodeName.optional(),
  /** Why, in one line (at opening: the condition; at closing: the condition that no longer holds). */
  reason: z.string(),
  /** When the alert opened. */
  since: isoTime,
  /** When this transition was seen. */
  time: isoTime,
});
export type AlertEvent = z.infer<typeof AlertEventSchema>;

/** The `Nats-Msg-Id` of an alert event: its alert's id and the transition. */
export function alertEventMsgId(e: Pick<AlertEvent, 'id' | 'event'>): string {
  return `${e.id}:${e.event}`;
}

/** A command to one node or to every node with a label; answered with an {@link Ack}. */
export const CommandSchema = z.discriminatedUnion('type', [
  z.strictObject({
    schema: z.literal('rhi.v1.command'),
    id: z.string().min(1),
    type: z.literal('ruleset'),
    ruleSet: SignedRuleSetSchema,
  }),
  z.strictObject({
    schema: z.literal('rhi.v1.command'),
    id: z.string().min(1),
    type: z.literal('drain'),
    reason: z.string().optional(),
    /** Wait until HAProxy frontend sessions fall to this many (after de-preferring), then withdraw. */
    waitSessions: z.number().int().min(0).optional(),
    timeoutSec: z.number().positive().optional(),
  }),
  z.strictObject({ schema: z.literal('rhi.v1.command'), id: z.string().min(1), type: z.literal('undrain') }),
]);
export type Command = z.infer<typeof CommandSchema>;

/** The answer to a command. */
export const AckSchema = z.strictObject({
  schema: z.literal('rhi.v1.ack'),
  /** The command's id. */
  id: z.string(),
  node: nodeName,
  result: z.enum(['applied', 'rejected']),
  reason: z.string().optional(),
});
export type Ack = z.infer<typeof AckSchema>;
