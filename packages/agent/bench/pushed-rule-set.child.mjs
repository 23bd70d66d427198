// The child process of pushed-rule-set.bench.ts, started with the Node flags and environment of the
// systemd unit: the agent in-process (tsc's build, dist/; its rule-set worker is the one-file build),
// connected to a real nats-server, taking a 10,000-rule set from the controller again and again, with the
// main thread's stalls measured around each. Prints one JSON line.
//
//   node ... pushed-rule-set.child.mjs <config.yaml> <inputs.json> <rounds>
//
// inputs.json: { command, records: [{ key, file }], assignment: { key, values: [...] } }: `command` the
// file of a rule-set command's bytes (the same signed rule set each time: judged whole, accepted unchanged,
// persisted, not planned again); each record a gzip'd record to store under `key`, and each assignment
// value one to write in turn (a serial signed by a key the agent does not trust: fetched, read and
// examined whole, then refused, so that no round plans 20,000 routes again).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { URL } from 'node:url';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { jetstream, subjects } from '@rhi/contracts';
import pino from 'pino';
import { AgentApp } from '../dist/app/agent-app.js';
import { WorkerExaminer } from '../dist/app/rule-set-examiner.js';
import { parseConfig } from '../dist/config/load.js';
import { stallDuring } from './stall-meter.mjs';

const [configFile, inputsFile, roundsText] = process.argv.slice(2);
const inputs = JSON.parse(readFileSync(inputsFile, 'utf8'));
const rounds = Number(roundsText);
const config = parseConfig(readFileSync(configFile, 'utf8'), configFile);
const bundle = new URL('../dist/rhi-agent.mjs', import.meta.url);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const logger = pino(
  { level: 'warn' },
  pino.destination({ dest: join(config.stateDir, 'agent.log'), sync: false }),
);
const app = await AgentApp.start({
  config,
  logger,
  version: 'bench',
  examiner: (options) => new WorkerExaminer({ ...options, workerUrl: bundle }),
});
const { servers, user, password } = config.nats;
const nc = await connect({ servers, user, pass: password });
const kv = await new Kvm(nc).open(jetstream.ruleSetBucket);
const node = config.node.name;
const acks = [];
nc.subscribe(subjects.ruleSetAck(node), { callback: (_e, m) => void acks.push(m.json()) });
for (const { key, file } of inputs.records) await kv.put(key, readFileSync(file));
const command = readFileSync(inputs.command);

const push = async () => {
  const reply = await nc.request(subjects.nodeCommand(node), command, { timeout: 120_000 });
  const ack = reply.json();
  return ack.result === 'applied' ? 'applied' : `${ack.result} ${String(ack.reason).slice(0, 60)}`;
};
// The first push applies the rule set (the loop plans its 20,000 routes): not measured. It is sent
// again until the agent's link has subscribed (no responders before).
let first = '';
for (let i = 0; !first; i++) {
  first = await push().catch((err) => {
    if (i === 100) throw err;
    return sleep(200).then(() => '');
  });
}
await sleep(3000);
const idle = await stallDuring(() => sleep(500), 0);
const pushes = [];
const assignments = [];
const values = [...inputs.assignment.values];
for (let round = 0; round < rounds; round++) {
  const p = await stallDuring(push, 200);
  pushes.push({ ms: p.ms, stallMs: p.stallMs, blockedMs: p.blockedMs, gcMs: p.gcMs, verdict: p.result });
  await sleep(1000);
  const value = values.shift();
  if (value !== undefined) {
    const from = acks.length;
    const a = await stallDuring(async () => {
      await kv.put(inputs.assignment.key, JSON.stringify(value));
      for (let i = 0; i < 6000 && acks.length === from; i++) await sleep(10);
      const ack = acks[from];
      return ack ? `${ack.result} ${ack.code ?? ''}`.trim() : 'no ack';
    }, 200);
    assignments.push({
      ms: a.ms,
      stallMs: a.stallMs,
      blockedMs: a.blockedMs,
      gcMs: a.gcMs,
      verdict: a.result,
    });
    await sleep(1000);
  }
}
await nc.close();
await app.stop();
process.stdout.write(
  `${JSON.stringify({ first, idleStallMs: idle.stallMs, commandBytes: command.length, pushes, assignments })}\n`,
);
process.exit(0);
