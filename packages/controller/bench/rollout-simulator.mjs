/* global clearInterval, performance, process, setInterval */
// Simulated agents for the rollout benchmark: N nodes on one NATS connection, each doing what rhi-agent does
// with rule sets. One core subscription on the assignment keys' put subject ($KV.rhi_v1_rulesets.assign.*)
// hears every node's assignment; each serial's record is read once (direct get of set.<serial>) and its
// signature checked once with the agents' own verifySignedRuleSet; then per node an ack on rhi.v1.ack.<node>
// and its new status (what it runs, its routes from the agents' evaluator) on rhi.v1.status.<node>. Besides:
// a status and a health report per node at start, a heartbeat per node every interval, answers to
// rhi.v1.resend.<node>. Node i is in group i % 20 and serves that group's 10 VIPs (VIP v on backend
// be_g<v % 20>), so that each of the 200 VIPs is on N/20 nodes, as in fleet-bench. Usage (forked):
//   rollout-simulator.mjs url user pass nodes heartbeatMs publicKeyFile keyId baseSerial
import { readFile } from 'node:fs/promises';
import {
  decodeRuleSetRecord,
  jetstream as names,
  kvSubject,
  publicKeyFrom,
  ruleSetKeys,
  subjects,
  verifySignedRuleSet,
} from '@rhi/contracts';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { evaluate } from '@rhi/rules-dsl';

const [url, user, pass, nodesArg, heartbeatArg, publicKeyFile, keyId, baseSerialArg] = process.argv.slice(2);
const N = Number(nodesArg);
const HEARTBEAT_MS = Number(heartbeatArg);
// Diagnosis only: RHI_BENCH_SIM_STATUS=0 acks without publishing the new status an agent publishes.
const PUBLISH_STATUS = process.env.RHI_BENCH_SIM_STATUS !== '0';
const GROUPS = 20;
const wallMs = () => performance.timeOrigin + performance.now();

const trusted = new Map([[keyId, publicKeyFrom(await readFile(publicKeyFile, 'utf8'))]]);
const nc = await connect({ servers: url, user, pass, name: 'bench-rollout-simulator' });
const kv = await new Kvm(nc).open(names.ruleSetBucket);
const name = (i) => `lb${String(i).padStart(5, '0')}`;
const since = new Date(Date.now() - 3_600_000).toISOString();

/** A group's HAProxy health: every group's backend is configured, only its own has servers here. */
function healthOf(g) {
  const backends = {};
  for (let k = 0; k < GROUPS; k++)
    backends[`be_g${k}`] =
      k === g ? { up: true, serversUp: 2, serversTotal: 2 } : { up: false, serversUp: 0, serversTotal: 0 };
  return { frontends: { fe_web: { up: true } }, backends };
}
const groupHealth = Array.from({ length: GROUPS }, (_, g) => healthOf(g));

const explanation = (e) => ({
  term: e.term,
  value: e.value,
  detail: e.detail,
  children: e.children.map(explanation),
});

/** Per group, the routes its nodes' status shows for a rule set: those it advertises, as the agent decides. */
function groupRoutes(ruleSet) {
  return groupHealth.map((health) =>
    JSON.stringify(
      evaluate(ruleSet, health)
        .filter((d) => d.advertise)
        .map((d) => ({
          table: d.table,
          prefix: d.prefix,
          family: d.family,
          decision: 'advertise',
          desired: true,
          damping: 'stable',
          allowed: true,
          reason: d.reason,
          explanation: explanation(d.explanation),
          inBird: true,
          exported: { to: ['bgp_router1'], problems: [] },
          since,
        })),
    ),
  );
}

/** Each serial seen: its record read and verified once, shared by every node assigned it. */
const serials = new Map();
function serialInfo(serial) {
  let info = serials.get(serial);
  if (!info) {
    info = (async () => {
      const t0 = performance.now();
      const entry = await kv.get(ruleSetKeys.record(serial));
      if (!entry || entry.operation !== 'PUT')
        return { ok: false, code: 'RULESET_RECORD_MISSING', reason: 'no record' };
      const record = decodeRuleSetRecord(entry.value, ruleSetKeys.record(serial));
      const verdict = verifySignedRuleSet(record.signed, trusted);
      if (!verdict.ok) return { ok: false, code: verdict.code, reason: verdict.reason };
      const routes = groupRoutes(record.signed.ruleSet);
      return { ok: true, hash: record.hash, routes, readMs: performance.now() - t0 };
    })();
    serials.set(serial, info);
  }
  return info;
}

const base = await serialInfo(Number(baseSerialArg));
if (!base.ok) throw new Error(`base serial ${baseSerialArg}: ${base.reason}`);
const appliedAt = new Date(Date.now() - 7_200_000).toISOString();
const nodes = Array.from({ length: N }, (_, i) => ({
  name: name(i),
  group: i % GROUPS,
  seq: 0,
  ruleSet: JSON.stringify({
    hash: base.hash,
    serial: Number(baseSerialArg),
    source: 'controller',
    appliedAt,
  }),
  routes: base.routes[i % GROUPS],
}));
const index = new Map(nodes.map((n, i) => [n.name, i]));

let published = 0;
let bytes = 0;
function send(subject, payload) {
  nc.publish(subject, payload);
  published++;
  bytes += payload.length;
}
function publishStatus(i) {
  const n = nodes[i];
  n.seq++;
  send(
    subjects.status(n.name),
    `{"schema":"rhi.v1.status","node":"${n.name}","labels":{"site":"site${i % 4}","group":"g${n.group}"},` +
      `"agentVersion":"0.1.0","time":"${new Date().toISOString()}","seq":${n.seq},"ruleSet":${n.ruleSet},` +
      `"haproxy":{"reachable":true,"pid":${1000 + (i % 30000)}},"bird":{"reachable":true,"version":"2.0.12"},` +
      `"drain":{"drained":false},"routes":${n.routes}}`,
  );
}
function heartbeat(i) {
  const n = nodes[i];
  send(
    subjects.heartbeat(n.name),
    `{"schema":"rhi.v1.heartbeat","node":"${n.name}","time":"${new Date().toISOString()}","seq":${n.seq}}`,
  );
}
function publishHealth(i) {
  const n = nodes[i];
  const h = groupHealth[n.group];
  send(
    subjects.health(n.name),
    JSON.stringify({
      schema: 'rhi.v1.health',
      node: n.name,
      time: new Date().toISOString(),
      seq: 1,
      reachable: true,
      pid: 1000 + (i % 30000),
      frontends: h.frontends,
      backends: h.backends,
      omitted: { frontends: 0, backends: 0 },
    }),
  );
}

/** Per serial, when each node heard of its assignment and when it acked (wall-clock ms), by node index. */
const times = new Map();
function timesOf(serial) {
  let t = times.get(serial);
  if (!t)
    times.set(
      serial,
      (t = { assigned: new Float64Array(N).fill(NaN), acked: new Float64Array(N).fill(NaN) }),
    );
  return t;
}
const ack = (node, a, result, code, reason) =>
  JSON.stringify({
    schema: 'rhi.v1.ruleset.ack',
    node,
    serial: a.serial,
    hash: a.hash,
    result,
    ...(code === undefined ? {} : { code }),
    ...(reason === undefined ? {} : { reason }),
    time: new Date().toISOString(),
  });
let rejected = 0;
async function answer(i, a, at) {
  const t = timesOf(a.serial);
  t.assigned[i] = at;
  const info = await serialInfo(a.serial);
  const n = nodes[i];
  let payload;
  if (!info.ok) payload = ack(n.name, a, 'rejected', info.code, info.reason);
  else if (info.hash !== a.hash)
    payload = ack(n.name, a, 'rejected', 'RULESET_HASH_MISMATCH', 'not the hash assigned');
  else {
    n.ruleSet = JSON.stringify({
      hash: a.hash,
      serial: a.serial,
      source: 'controller',
      appliedAt: new Date().toISOString(),
    });
    n.routes = info.routes[n.group];
    if (PUBLISH_STATUS) publishStatus(i);
    payload = ack(n.name, a, 'applied');
  }
  if (!payload.includes('"applied"')) rejected++;
  send(subjects.ruleSetAck(n.name), payload);
  t.acked[i] = wallMs();
}
const assignPrefix = kvSubject(names.ruleSetBucket, 'assign.');
nc.subscribe(`${assignPrefix}*`, {
  callback: (_err, m) => {
    const at = wallMs();
    const i = index.get(m.subject.slice(assignPrefix.length));
    if (i === undefined || m.data.length === 0) return;
    void answer(i, m.json(), at);
  },
});
nc.subscribe('rhi.v1.resend.*', {
  callback: (_err, m) => {
    const i = index.get(m.subject.slice(m.subject.lastIndexOf('.') + 1));
    if (i !== undefined) publishStatus(i);
  },
});
await nc.flush();
for (let i = 0; i < N; i++) {
  publishStatus(i);
  publishHealth(i);
}

let beats = 0;
const t0 = performance.now();
const timer = setInterval(() => {
  const due = Math.floor(((performance.now() - t0) / HEARTBEAT_MS) * N);
  for (; beats < due; beats++) heartbeat(beats % N);
}, 10);

/** The floor of the assignment phase: N puts into a bucket of its own, `inFlight` at once, as the controller writes. */
async function floor(inFlight) {
  const bucket = await new Kvm(nc).create('bench_floor', { history: 1 });
  const value = JSON.stringify({
    schema: 'rhi.v1.assignment',
    node: name(0),
    serial: 1,
    hash: 'a'.repeat(64),
    rollout: 'floor',
    assignedAt: new Date().toISOString(),
  });
  const t = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < N) await bucket.put(`assign.${name(next++)}`, value);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, N) }, worker));
  const ms = performance.now() - t;
  await bucket.destroy();
  return ms;
}

process.on('message', (msg) => {
  if (msg === 'count') process.send({ published, bytes, rejected });
  else if (msg.floor) void floor(msg.floor).then((ms) => process.send({ floorMs: ms }));
  else if (msg.times) {
    const t = timesOf(msg.times);
    void serialInfo(msg.times).then((info) =>
      process.send({ assigned: [...t.assigned], acked: [...t.acked], readMs: info.readMs ?? null }),
    );
  } else if (msg === 'stop') {
    clearInterval(timer);
    void nc.drain().then(() => process.exit(0));
  }
});
process.send('ready');
