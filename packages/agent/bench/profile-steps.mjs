// Where the agent's main thread spends its time, per step, from a V8 CPU profile of `rhi-agent run`
// (RHI_BENCH_AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" on route-count.bench.ts). Each step is the
// time spent inside the named functions (counted once when they nest), divided by the changes made.
// The benchmark prints the window of its changes (CLOCK_MONOTONIC µs, the profile's clock): only the
// samples inside it are counted.
//   node bench/profile-steps.mjs <file.cpuprofile> <changes> [<from µs> <to µs>]
import { readFileSync } from 'node:fs';
import process from 'node:process';

const log = (line) => process.stdout.write(`${line}\n`);

const STEPS = [
  ['health event, whole (decide, plan, hand to BIRD, tell)', ['onHealth']],
  ['  decide: which proxies changed, which rules name them', ['healthChanges', 'affected']],
  ['  decide: evaluate rules', ['evaluate', 'evaluateRules']],
  ['  plan routes', ['partial', 'full']],
  ['BIRD apply: render the include', ['render', 'renderInclude']],
  ['BIRD apply: write the include', ['writeIncludeAtomically']],
  ['BIRD apply: verify after configure', ['verify']],
  ['status: snapshot to sinks (metrics, NATS, /status)', ['publish']],
  ['transitions: logs, events, counters', ['emit']],
  ['export check (after each change, and every 10 s)', ['onExports', 'readExports']],
  ['reconcile (every 30 s): BIRD read back', ['reconcile']],
  ['BIRD replies parsed (all commands)', ['parseShowRoute', 'push']],
  ['garbage collector', ['(garbage collector)']],
];

const [file, changesArg, fromArg, toArg] = process.argv.slice(2);
const from = fromArg === undefined ? -Infinity : Number(fromArg);
const to = toArg === undefined ? Infinity : Number(toArg);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const changes = Number(changesArg ?? 1);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfTime = new Map();
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (at >= from && at <= to) selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const nameOf = (id) => byId.get(id).callFrame.functionName.replace(/\$\d+$/, '');
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);
const idle = [...selfTime].filter(([id]) => nameOf(id) === '(idle)').reduce((a, [, t]) => a + t, 0);
log(
  `profile ${(total / 1e6).toFixed(1)} s (in the window), busy ${((total - idle) / 1e3).toFixed(0)} ms; per change (${changes} changes), ms:`,
);
for (const [label, names] of STEPS) {
  let sum = 0;
  for (const [id, t] of selfTime) {
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      if (names.includes(nameOf(cur))) {
        sum += t;
        break;
      }
    }
  }
  log(`  ${label.padEnd(58)} ${(sum / 1e3 / changes).toFixed(2).padStart(8)}`);
}
