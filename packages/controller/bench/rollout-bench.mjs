/* global URL, clearInterval, console, fetch, performance, process, setInterval, setTimeout */
// The rollout benchmark: simulated agents (bench/rollout-simulator.mjs, N nodes on one NATS connection) -> a
// real nats-server -> the built `rhi-controller run` in its own process, rule sets signed by it. Per fleet
// size: the what-if over HTTP; the floor of the assignment phase (N KV puts, 256 in flight, by the
// simulator); a rollout to every node at once (no canary, no soak), the rollback of it, and a staged rollout
// (canary 1, batches of 25 %, no soak). Each rollout is followed through its own record: the bench watches
// the rollout's KV key (its own connection, so the controller serves nothing more) and notes when each node
// first shows in a step's `applied`, i.e. when the controller counted its ack. Writes
// bench/rollout-results.json and prints a table. Usage:
//   node bench/rollout-bench.mjs [sizes=1000,5000,10000] [whatIfRequests=10]
import { execFile, fork } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { jetstream as names, rolloutKeys } from '@rhi/contracts';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { startNats, waitFor } from '@rhi/test-support';
import { startController } from './controller-process.mjs';
import { cpuSeconds, machineTicks, memoryMb, natsServerPid, percentile } from './proc-stats.mjs';
import { decodeRolloutRecord, encodeRolloutRecord } from '../dist/nats/rollout-store.js';
import { applyRolloutEvent, createRollout } from '../dist/rollout/rollout-machine.js';
import { planSteps } from '../dist/rollout/step-plan.js';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const [sizesArg = '1000,5000,10000', whatIfArg = '10'] = process.argv.slice(2);
const SIZES = sizesArg.split(',').map(Number);
const WHATIF_REQUESTS = Number(whatIfArg);
const VIPS = 200;
const GROUPS = 20;
const HEARTBEAT_MS = 1000;
const ASSIGN_IN_FLIGHT = 256; // ASSIGN_CONCURRENCY in src/nats/rollout-effects.ts
const TOKEN = 'bench-operator-token-of-some-length';
const KEY_ID = 'bench-2026';
const TERMINAL = new Set(['completed', 'rolledBack', 'aborted', 'failed']);
// Node options for the controller only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where its time goes.
const nodeArgs = (process.env.RHI_BENCH_CONTROLLER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const wallMs = () => performance.timeOrigin + performance.now();
const round = (n, d = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : null);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const request = (child, msg, key) =>
  new Promise((resolve) => {
    const on = (reply) => {
      if (typeof reply === 'object' && key in reply) {
        child.off('message', on);
        resolve(reply);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
const ready = (child) => new Promise((resolve) => child.once('message', resolve));

/** p50 / p99 / max of a list, and how many were missing. */
function spread(values, missing = 0) {
  return {
    n: values.length,
    missing,
    min: round(values.length ? Math.min(...values) : NaN),
    p50: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    max: round(values.length ? Math.max(...values) : NaN),
  };
}

/** The rule sets: VIP v on the backend of its group (be_g<v % 20>); `edit` changes a rule's text. */
function rules(edit = (_v, line) => line, extra = '') {
  const lines = [];
  for (let v = 0; v < VIPS; v++)
    lines.push(
      edit(v, `198.18.${200 + Math.floor(v / 250)}.${(v % 250) + 1} = all(f:fe_web, b:be_g${v % GROUPS})`),
    );
  return `${lines.join('\n')}\n${extra}`;
}

const TICKS_PER_SECOND = 100;

/**
 * Waits until the other processes of the machine (not `pids`, not this one) use under 15 % of one core over
 * 3 s: another benchmark's or test run's load would be measured too. Returns that share.
 */
async function waitQuiet(pids = []) {
  const ours = () => pids.reduce((a, pid) => a + cpuSeconds(pid), cpuSeconds(process.pid));
  for (let tries = 0; ; tries++) {
    const a = machineTicks();
    const o = ours();
    await sleep(3000);
    const b = machineTicks();
    const others = (100 * ((b.busy - a.busy) / TICKS_PER_SECOND - (ours() - o))) / 3;
    if (others < 15 || tries >= 200) return round(others);
    if (tries % 10 === 0)
      console.log(`  waiting for a quiet machine (others use ${round(others)} % of a core)`);
  }
}

/**
 * The runner's pure work for one rollout of `n` nodes in one batch, in this process from the built dist (no
 * NATS): one tick taking every node's ack (one `applyRolloutEvent` per ack, as `RolloutRunner.step` feeds
 * them), and encoding / decoding the record then (each runner step decodes it once and encodes it once or
 * twice; each GET of the rollout decodes it). Best of 3.
 */
function runnerCosts(n) {
  const best = (f) => {
    let ms = Infinity;
    let out;
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      out = f();
      ms = Math.min(ms, performance.now() - t);
    }
    return { ms, out };
  };
  const nodes = Array.from({ length: n }, (_, i) => ({
    name: `lb${String(i).padStart(5, '0')}`,
    labels: {},
  }));
  const hash = 'b'.repeat(64);
  const strategy = {
    canary: null,
    batch: { percent: 100 },
    soakMs: 0,
    ackTimeoutMs: 60_000,
    progressDeadlineMs: null,
  };
  const created = createRollout({
    id: 'micro',
    now: 1,
    by: 'bench',
    target: { kind: 'all' },
    ruleSet: { serial: 2, hash },
    rollbackTo: null,
    strategy,
    steps: planSteps(nodes, { kind: 'all' }, strategy),
  });
  const started = applyRolloutEvent(created.state, { type: 'start', now: 2, by: 'bench' }).state;
  const one = (name) => ({ node: name, serial: 2, hash, result: 'applied' });
  // As the runner feeds them: one `acks` input per pass. One by one: what it did before (quadratic).
  const acks = best(
    () => applyRolloutEvent(started, { type: 'acks', now: 3, acks: nodes.map((x) => one(x.name)) }).state,
  );
  const oneByOne = best(() => {
    let r = started;
    for (const { name } of nodes) r = applyRolloutEvent(r, { type: 'ack', now: 3, ...one(name) }).state;
    return r;
  });
  const encoded = best(() => encodeRolloutRecord(acks.out));
  const decoded = best(() => decodeRolloutRecord(encoded.out, 'rollout.micro'));
  return {
    acksOneTickMs: round(acks.ms),
    perAckUs: round((1000 * acks.ms) / n, 2),
    acksOneByOneMs: round(oneByOne.ms),
    statusAfter: acks.out.status,
    encodeMs: round(encoded.ms),
    decodeMs: round(decoded.ms),
    recordKb: round(encoded.out.length / 1024, 0),
  };
}

/** Others' CPU above this (% of one core) during a measurement: measured again (another run shared the VM). */
const NOISY = 20;

/** Runs `f`, with the CPU the machine's other processes (not `pids`, not this one) used meanwhile. */
async function othersDuring(pids, f) {
  const ours = () => pids.reduce((a, pid) => a + cpuSeconds(pid), cpuSeconds(process.pid));
  const a = machineTicks();
  const o = ours();
  const t = performance.now();
  const value = await f();
  const seconds = (performance.now() - t) / 1000;
  const b = machineTicks();
  return { value, others: round((100 * ((b.busy - a.busy) / TICKS_PER_SECOND - (ours() - o))) / seconds) };
}

/**
 * `measure()` again (up to `tries` in all) while the other processes took more than {@link NOISY} % of a
 * core during it; the first quiet one, or else the quietest, marked `noisy`.
 */
async function quietly(pids, tries, measure) {
  let best = null;
  for (let k = 1; k <= tries; k++) {
    await waitQuiet(pids); // also lets the statuses of the last rollout's nodes be ingested
    const during = await othersDuring(pids, () => measure(k));
    const { value } = during;
    // A rollout's own window (POST to its end) when it has one.
    const others = value.othersPercentOfOneCore ?? during.others;
    const got = { ...value, othersDuringPercent: others, tries: k };
    if (others <= NOISY) return got;
    console.log(`  (others took ${others} % of a core meanwhile: measured again)`);
    if (!best || others < best.othersDuringPercent) best = got;
  }
  return { ...best, noisy: true };
}

async function runSize(n) {
  const othersAtStartPercent = await waitQuiet();
  const dir = await mkdtemp(join(tmpdir(), 'rhi-rollout-bench-'));
  const nats = await startNats();
  const children = [];
  let bench = null;
  try {
    await promisify(execFile)(process.execPath, [
      here('../bin/rhi-controller.js'),
      'keygen',
      '--out',
      join(dir, 'signing'),
    ]);
    const { controller, base, logFile } = await startController({
      dir,
      nats,
      token: TOKEN,
      role: 'operator',
      heartbeatMs: HEARTBEAT_MS,
      extraYaml: `rules:\n  signingKey: ${join(dir, 'signing.key')}\n  keyId: ${KEY_ID}\n`,
      nodeArgs,
      children,
    });
    const api = async (method, path, body) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, text, body: text.startsWith('{') ? JSON.parse(text) : text };
    };
    const metric = async (line) => {
      const text = (await api('GET', '/metrics')).text;
      const m = new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };
    const upload = async (source, message) => {
      const res = await api('POST', '/api/v1/rulesets', { source, message });
      if (res.status !== 201) throw new Error(`upload: ${res.status} ${res.text.slice(0, 300)}`);
      return res.body.ruleset;
    };
    const base0 = await upload(rules(), 'bench: what the fleet runs');

    const sim = fork(here('./rollout-simulator.mjs'), [
      nats.url,
      nats.user,
      nats.password,
      String(n),
      String(HEARTBEAT_MS),
      join(dir, 'signing.pub'),
      KEY_ID,
      String(base0.serial),
    ]);
    children.push(sim);
    await ready(sim);
    await waitFor(
      `the controller to see ${n} nodes up, their health reports and the lease`,
      async () => {
        const res = await api('GET', '/api/v1/nodes');
        const up = (res.body.nodes ?? []).filter((x) => x.state === 'up').length;
        if (up !== n) return undefined;
        if ((await metric('rhi_controller_health_reports_total{result="accepted"}')) < n) return undefined;
        return (await metric('rhi_controller_lease_held')) === 1 ? true : undefined;
      },
      180_000,
      1000,
    );
    await sleep(3000); // steady heartbeats

    const noop = await upload(
      rules((v, l) => (v % GROUPS === 0 ? `${l} with med 10` : l)),
      'bench: med 10 on group 0',
    );
    const addVip = await upload(
      rules(undefined, '198.18.201.1 = all(f:fe_web, b:be_g0)\n'),
      'bench: one VIP more',
    );
    const staged = await upload(
      rules((v, l) => (v % GROUPS === 1 ? `${l} with med 20` : l)),
      'bench: med 20 on group 1',
    );

    const runner = runnerCosts(n);
    console.log(`  runner (in process): ${JSON.stringify(runner)}`);
    const natsPid = natsServerPid(new URL(nats.url).port);
    const pids = { controller: controller.pid, natsServer: natsPid, simulator: sim.pid };
    bench = await connect({ servers: nats.url, user: nats.user, pass: nats.password, name: 'bench-watch' });
    const rolloutKv = await new Kvm(bench).open(names.rolloutBucket);

    // The what-if: sequential requests, the fleet steady.
    const quiet = Object.values(pids).filter(Boolean);
    const whatIf = {};
    for (const [label, set] of [
      ['noop', noop],
      ['addVip', addVip],
    ])
      whatIf[label] = await quietly(quiet, 4, async () => {
        const ms = [];
        let last = null;
        for (let k = 0; k < WHATIF_REQUESTS; k++) {
          const t = performance.now();
          const res = await api('POST', '/api/v1/whatif', { serial: set.serial });
          ms.push(performance.now() - t);
          if (res.status !== 200) throw new Error(`whatif: ${res.status} ${res.text.slice(0, 300)}`);
          last = res;
        }
        const out = {
          serial: set.serial,
          requests: ms.length,
          p50: round(percentile(ms, 50)),
          p99: round(percentile(ms, 99)),
          min: round(Math.min(...ms)),
          responseKb: round(last.text.length / 1024, 0),
          counts: last.body.whatIf.counts,
          vipsChanged: last.body.whatIf.vips.filter((v) => v.added.length || v.withdrawn.length).length,
          allowed: last.body.guard.allowed,
        };
        console.log(`  whatif ${label}: ${JSON.stringify(out)}`);
        return out;
      });

    // The floor of the assignment phase.
    const floors = [];
    for (let k = 0; k < 3; k++)
      floors.push(
        (await quietly(quiet, 4, () => request(sim, { floor: ASSIGN_IN_FLIGHT }, 'floorMs'))).floorMs,
      );
    const floor = {
      kvPutsMs: floors.map((x) => round(x)),
      bestMs: round(Math.min(...floors)),
      inFlight: ASSIGN_IN_FLIGHT,
    };
    console.log(`  floor: ${JSON.stringify(floor)}`);

    /** Starts a rollout and follows it to its end; per node: assignment heard, ack published, ack counted. */
    const follow = async (label, body) => {
      const id = `${label}-${n}-${Date.now().toString(36)}`;
      const counted = new Map();
      let revisions = 0;
      let decodeMs = 0;
      let completedAt = null;
      let endedRecord = null;
      let firstAssign = null;
      const history = [];
      const watch = await rolloutKv.watch({ key: rolloutKeys.record(id) });
      const ended = (async () => {
        for await (const e of watch) {
          const at = wallMs();
          if (e.operation !== 'PUT') continue;
          const t = performance.now();
          const r = JSON.parse(gunzipSync(e.value).toString('utf8'));
          decodeMs += performance.now() - t;
          revisions++;
          history.push({
            revision: r.revision,
            at,
            status: r.status,
            owner: r.owner !== null,
            applied: r.steps.reduce((a, x) => a + x.applied.length, 0),
            outbox: r.outbox.map((x) => x.kind[0]).join(''),
            kb: round(e.value.length / 1024, 0),
          });
          if (firstAssign === null && r.steps[0].assignedAt !== null) firstAssign = at;
          for (const step of r.steps)
            for (const node of step.applied) if (!counted.has(node)) counted.set(node, at);
          if (TERMINAL.has(r.status) && completedAt === null) completedAt = at;
          if (TERMINAL.has(r.status) && r.outbox.length === 0) {
            endedRecord = r;
            return;
          }
        }
      })();
      const cpu0 = Object.fromEntries(
        Object.entries(pids).map(([k, pid]) => [k, pid ? cpuSeconds(pid) : NaN]),
      );
      const self0 = cpuSeconds(process.pid);
      const machine0 = machineTicks();
      const rss0 = memoryMb(controller.pid).rss;
      let rssMax = rss0;
      const sampler = setInterval(() => {
        rssMax = Math.max(rssMax, memoryMb(controller.pid).rss);
      }, 100);
      // The monotonic clock V8's CPU profiles are stamped with (µs): to cut a controller profile to the rollout.
      const t0MonotonicUs = Number(process.hrtime.bigint() / 1000n);
      const t0 = wallMs();
      const res = await api('POST', '/api/v1/rollouts', { id, ...body });
      const postMs = wallMs() - t0;
      if (res.status !== 201) throw new Error(`${label}: ${res.status} ${res.text.slice(0, 500)}`);
      const serial = res.body.rollout.ruleSet.serial;
      await Promise.race([
        ended,
        sleep(180_000).then(() => {
          throw new Error(`${label}: no end within 180 s`);
        }),
      ]);
      const endMs = wallMs() - t0;
      clearInterval(sampler);
      const seconds = (wallMs() - t0) / 1000;
      const cpu = Object.fromEntries(
        Object.entries(pids).map(([k, pid]) => [
          k,
          pid ? round((100 * (cpuSeconds(pid) - cpu0[k])) / seconds) : null,
        ]),
      );
      const machine1 = machineTicks();
      const ours = Object.values(pids).reduce(
        (a, pid) => a + (pid ? cpuSeconds(pid) : 0),
        cpuSeconds(process.pid),
      );
      const ours0 = Object.values(cpu0).reduce((a, x) => a + (Number.isFinite(x) ? x : 0), self0);
      watch.stop();
      await waitFor(
        `${label}: the active claim given back`,
        async () => ((await api('GET', '/api/v1/rollouts')).body.active === null ? true : undefined),
        30_000,
        50,
      );
      const releasedMs = wallMs() - t0;
      const sim1 = await request(sim, { times: serial }, 'assigned');
      const r = endedRecord;
      const nodes = r.steps.flatMap((s) => s.nodes);
      const idx = (node) => Number(node.slice(2));
      const assigned = [];
      const acked = [];
      const ackCounted = [];
      const assignToCounted = [];
      let missingAssign = 0;
      let missingAck = 0;
      let missingCounted = 0;
      for (const node of nodes) {
        const a = sim1.assigned[idx(node)];
        const k = sim1.acked[idx(node)];
        const c = counted.get(node);
        if (Number.isFinite(a)) assigned.push(a - t0);
        else missingAssign++;
        if (Number.isFinite(k)) acked.push(k - t0);
        else missingAck++;
        if (c !== undefined) ackCounted.push(c - t0);
        else missingCounted++;
        if (Number.isFinite(a) && c !== undefined) assignToCounted.push(c - a);
      }
      const lastAssign = assigned.length ? Math.max(...assigned) : NaN;
      const out = {
        rollout: id,
        t0MonotonicUs,
        serial,
        status: r.status,
        nodes: nodes.length,
        steps: r.steps.map((s) => ({
          kind: s.kind,
          nodes: s.nodes.length,
          applied: s.applied.length,
          // Controller clock (the same host): from the POST's start.
          assignedMs: s.assignedAt === null ? null : round(s.assignedAt - t0, 0),
          allAppliedMs: s.soakUntil === null ? null : round(s.soakUntil - r.strategy.soakMs - t0, 0),
          completedMs: s.completedAt === null ? null : round(s.completedAt - t0, 0),
        })),
        postMs: round(postMs),
        firstAssignWrittenMs: firstAssign === null ? null : round(firstAssign - t0),
        completedMs: round(completedAt - t0),
        endedMs: round(endMs),
        releasedMs: round(releasedMs),
        assignHeardMs: spread(assigned, missingAssign),
        ackPublishedMs: spread(acked, missingAck),
        ackCountedMs: spread(ackCounted, missingCounted),
        assignHeardToCountedMs: spread(assignToCounted),
        assignPhaseMs: round(lastAssign - (r.steps[0].assignedAt - t0)),
        simulatorReadVerifyMs: round(sim1.readMs),
        recordRevisions: revisions,
        // Each write of the record as the bench's watch got it: ms from the POST's start, nodes applied, outbox
        // (a: assign, t: timeline) and its gzip'd size.
        recordWrites: history.map((h) => ({ ...h, at: round(h.at - t0, 0) })),
        recordDecodeMsInBench: round(decodeMs),
        cpuPercentOfOneCore: cpu,
        machineBusyPercent: round(
          (100 * (machine1.busy - machine0.busy)) / (machine1.total - machine0.total),
        ),
        // CPU of every other process on the machine (% of one core): another benchmark or test run shows here.
        othersPercentOfOneCore: round(
          (100 * ((machine1.busy - machine0.busy) / TICKS_PER_SECOND - (ours - ours0))) / seconds,
        ),
        controllerRssMb: { before: round(rss0, 0), max: round(rssMax, 0) },
      };
      console.log(`  ${label}: ${JSON.stringify(out)}`);
      return out;
    };

    const strategy = (s) => ({ progressDeadlineMs: null, ackTimeoutMs: 60_000, soakMs: 0, ...s });
    // A rollout measured again rolls out a fresh serial (the nodes' acks of the last one would count at once);
    // a rollback again re-issues the base serial once more.
    const again = async (k, set, group) =>
      k === 1
        ? set
        : upload(
            rules((v, l) => (v % GROUPS === group ? `${l} with med ${20 + k}` : l)),
            `bench: again (${k})`,
          );
    const rollout = await quietly(quiet, 4, async (k) =>
      follow('all', {
        serial: (await again(k, noop, 0)).serial,
        strategy: strategy({ canary: null, batch: { percent: 100 } }),
      }),
    );
    const rollback = await quietly(quiet, 4, () =>
      follow('back', {
        serial: base0.serial,
        rollback: true,
        strategy: strategy({ canary: null, batch: { percent: 100 } }),
      }),
    );
    const stagedRun = await quietly(quiet, 4, async (k) =>
      follow('staged', {
        serial: (await again(k, staged, 1)).serial,
        strategy: strategy({ canary: { count: 1 }, batch: { percent: 25 } }),
      }),
    );
    const sim1 = await request(sim, 'count', 'published');
    const logText = await readFile(logFile, 'utf8');
    return {
      nodes: n,
      vips: VIPS,
      othersAtStartPercent,
      serials: { base: base0.serial, rollout: noop.serial, addVip: addVip.serial, staged: staged.serial },
      whatIf,
      floor,
      runnerInProcess: runner,
      rollout,
      rollback,
      staged: stagedRun,
      simulatorRejected: sim1.rejected,
      controllerLog: {
        rolloutStepFailed: (logText.match(/"event":"rolloutStepFailed"/g) ?? []).length,
        // The events of its warnings and errors, with how many of each.
        warnings: logText
          .split('\n')
          .filter((l) => /"level":(40|50)/.test(l))
          .reduce((a, l) => {
            const kind = /"kind":"([^"]+)"/.exec(l)?.[1];
            const e = `${/"event":"([^"]+)"/.exec(l)?.[1] ?? '?'}${kind ? `:${kind}` : ''}`;
            return { ...a, [e]: (a[e] ?? 0) + 1 };
          }, {}),
      },
      controllerPeakRssMb: round(memoryMb(controller.pid).peak, 0),
      loadAverage1m: round(loadavg()[0], 2),
    };
  } finally {
    await bench?.close().catch(() => undefined);
    for (const c of children.reverse()) {
      if (c.exitCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (c.exitCode === null) c.kill('SIGKILL');
    }
    await nats.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

const machine = `${cpus().length} x ${cpus()[0]?.model}`;
console.log(
  `machine: ${machine}, load ${loadavg()
    .map((l) => round(l, 2))
    .join(' ')}`,
);
const git = async (...args) =>
  (await promisify(execFile)('git', args, { cwd: here('.') }).catch(() => ({ stdout: '' }))).stdout.trim();
const commit = await git('rev-parse', '--short', 'HEAD');
const dirty = (await git('status', '--porcelain', '--', '../src', '../../contracts/src')) !== '';
const results = [];
for (const n of SIZES) {
  console.log(`${n} nodes`);
  results.push(await runSize(n));
}
await writeFile(
  here('./rollout-results.json'),
  `${JSON.stringify({ at: new Date().toISOString(), machine, node: process.version, commit, sourcesChanged: dirty, results }, null, 2)}\n`,
);
const fmt = (s) => `${s.p50} / ${s.p99}`;
console.log(
  '\nnodes | rollout: POST ms | ack counted p50/p99 ms | completed ms | rollback: ack counted p50/p99 | completed ms | staged completed ms | floor puts ms | whatif noop p50/p99 | addVip p50/p99 | CPU % | RSS max MB',
);
for (const r of results)
  console.log(
    `${r.nodes} | ${r.rollout.postMs} | ${fmt(r.rollout.ackCountedMs)} | ${r.rollout.completedMs} | ${fmt(r.rollback.ackCountedMs)} | ${r.rollback.completedMs} | ${r.staged.completedMs} | ${r.floor.bestMs} | ${r.whatIf.noop.p50}/${r.whatIf.noop.p99} | ${r.whatIf.addVip.p50}/${r.whatIf.addVip.p99} | ${r.rollout.cpuPercentOfOneCore.controller} | ${r.rollout.controllerRssMb.max}`,
  );
