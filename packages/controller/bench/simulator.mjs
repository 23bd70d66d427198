/* global clearInterval, performance, process, setInterval */
// Simulated agents: N nodes on one NATS connection, each as rhi-agent does: its full status on
// rhi.v1.status.<node> at start, on a change and when a controller asks (rhi.v1.resend.<node>), and a
// heartbeat on rhi.v1.heartbeat.<node> every interval; `changes` nodes a second toggle one route (published
// at once, as the agent publishes a change). Tells the parent the time of each change, for the lag.
import { connect } from '@nats-io/transport-node';

const [url, user, pass, nodesArg, routesArg, vipsArg, heartbeatArg, changesArg] = process.argv.slice(2);
const N = Number(nodesArg);
const ROUTES = Number(routesArg);
const VIPS = Number(vipsArg);
const HEARTBEAT_MS = Number(heartbeatArg);
const CHANGES_PER_S = Number(changesArg);

const nc = await connect({ servers: url, user, pass, name: 'bench-simulator' });
const name = (i) => `lb${String(i).padStart(5, '0')}`;
const vipOf = (i, k) => (i + k * Math.floor(VIPS / ROUTES)) % VIPS;
const start = Date.now();
const since = new Date(start - 3_600_000).toISOString();
const appliedAt = new Date(start - 7_200_000).toISOString();

function routeOf(vip, up) {
  const prefix = `198.18.${200 + Math.floor(vip / 250)}.${(vip % 250) + 1}/32`;
  return {
    table: 'vol1',
    prefix,
    family: 'ipv4',
    decision: up ? 'advertise' : 'withdraw',
    desired: up,
    damping: 'stable',
    allowed: true,
    reason: up ? 'all(b:be_static,b:be_app) holds' : 'b:be_app down',
    explanation: {
      term: 'all(b:be_static,b:be_app)',
      value: up,
      detail: up ? '2 of 2 terms hold' : '1 of 2 terms hold',
      children: [
        { term: 'b:be_static', value: true, detail: 'up (UP)', children: [] },
        { term: 'b:be_app', value: up, detail: up ? 'up (UP)' : 'down (DOWN)', children: [] },
      ],
    },
    inBird: up,
    ...(up ? { exported: { to: ['bgp_router1'], problems: [] } } : {}),
    since,
  };
}

const MARK = '"time":"@@TIME@@","seq":-1';
/** Each node's status as text around its time and seq, rebuilt when a route changes. */
function template(i, down) {
  const text = JSON.stringify({
    schema: 'rhi.v1.status',
    node: name(i),
    labels: { site: `site${i % 4}` },
    agentVersion: '0.1.0',
    time: '@@TIME@@',
    seq: -1,
    ruleSet: { hash: 'a'.repeat(64), serial: 7, source: 'controller', appliedAt },
    haproxy: { reachable: true, pid: 1000 + (i % 30000) },
    bird: { reachable: true, version: '2.0.12' },
    drain: { drained: false },
    routes: Array.from({ length: ROUTES }, (_, k) => routeOf(vipOf(i, k), !down.has(k))),
  });
  const at = text.indexOf(MARK);
  return [text.slice(0, at), text.slice(at + MARK.length)];
}

const nodes = Array.from({ length: N }, (_, i) => ({
  down: new Set(),
  seq: 0,
  parts: template(i, new Set()),
}));
let published = 0;
let bytes = 0;
function count(payload) {
  published++;
  bytes += payload.length;
}
function publish(i) {
  const node = nodes[i];
  node.seq++;
  const payload = `${node.parts[0]}"time":"${new Date().toISOString()}","seq":${node.seq}${node.parts[1]}`;
  nc.publish(`rhi.v1.status.${name(i)}`, payload);
  count(payload);
}
function heartbeat(i) {
  const payload = `{"schema":"rhi.v1.heartbeat","node":"${name(i)}","time":"${new Date().toISOString()}","seq":${nodes[i].seq}}`;
  nc.publish(`rhi.v1.heartbeat.${name(i)}`, payload);
  count(payload);
}
const index = new Map(nodes.map((_, i) => [name(i), i]));
nc.subscribe('rhi.v1.resend.*', {
  callback: (_err, m) => {
    const i = index.get(m.subject.slice(m.subject.lastIndexOf('.') + 1));
    if (i !== undefined) publish(i);
  },
});
for (let i = 0; i < N; i++) publish(i);

let seed = 14;
/** mulberry32: the same changes on every run. */
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
let beats = 0;
let changes = 0;
let changing = false;
const t0 = performance.now();
const timer = setInterval(() => {
  const elapsed = performance.now() - t0;
  const dueBeats = Math.floor((elapsed / HEARTBEAT_MS) * N);
  for (; beats < dueBeats; beats++) heartbeat(beats % N);
  if (!changing) return;
  const dueChanges = Math.floor((elapsed / 1000) * CHANGES_PER_S);
  for (; changes < dueChanges; changes++) {
    const i = Math.floor(random() * N);
    const k = Math.floor(random() * ROUTES);
    const node = nodes[i];
    if (node.down.has(k)) node.down.delete(k);
    else node.down.add(k);
    node.parts = template(i, node.down);
    const at = performance.timeOrigin + performance.now();
    publish(i);
    const v = vipOf(i, k);
    process.send({ change: name(i), at, vip: `198.18.${200 + Math.floor(v / 250)}.${(v % 250) + 1}/32` });
  }
}, 10);

process.on('message', (msg) => {
  if (msg === 'changes') {
    changing = true;
    changes = Math.floor(((performance.now() - t0) / 1000) * CHANGES_PER_S);
  }
  if (msg === 'count') process.send({ published, bytes, beatsPerNode: beats / N });
  if (msg === 'stop') {
    clearInterval(timer);
    void nc.drain().then(() => process.exit(0));
  }
});
process.send('ready');
