// The child process of rule-set-judging.bench.ts, started with the Node flags and environment of the
// systemd unit: the agent in-process (tsc's build, dist/; its rule-set worker is the one-file build),
// judging rule sets again and again, with the main thread's longest stall measured around each. Prints
// one JSON line.
//
//   node ... rule-set-judging.child.mjs <config.yaml> <worker|inline> <inputs.json> <rounds>
//
// inputs.json: [{ "label": ..., "files": [<variant A>, <variant B>] }]: each round takes every input's
// variants in turn (two variants, so that the rule set changes every time), each three ways: judged alone
// (read, examined, verdict: what the worker takes off the main thread), then by the agent
// (`reloadRules()`: judged and applied, the loop planning the new rule set), then a health event at the
// rule set now in force (a backend it names changes state in HAProxy), which costs the loop the same
// planning every time, judging or not.
import { readFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { URL } from 'node:url';
import { statsCommand } from '@rhi/test-support';
import pino from 'pino';
import { AgentApp } from '../dist/app/agent-app.js';
import { InlineExaminer, WorkerExaminer } from '../dist/app/rule-set-examiner.js';
import { readBounded } from '../dist/app/rules-file.js';
import { parseConfig } from '../dist/config/load.js';
import { judgeCandidate } from '../dist/core/accept-rule-set.js';
import { allowlist } from '../dist/core/allowlist.js';
import { stallDuring } from './stall-meter.mjs';

const [configFile, mode, inputsFile, roundsText] = process.argv.slice(2);
const inputs = JSON.parse(readFileSync(inputsFile, 'utf8'));
const rounds = Number(roundsText);
const config = parseConfig(readFileSync(configFile, 'utf8'), configFile);
const bundle = new URL('../dist/rhi-agent.mjs', import.meta.url);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (key) =>
  Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
const memory = () => ({ rssMb: mb('VmRSS'), privateMb: mb('RssAnon') });

const logger = pino(
  { level: 'warn' },
  pino.destination({ dest: join(config.stateDir, `agent-${mode}.log`), sync: false }),
);
/** The agent's own examiner, for judging alone. */
let examiner;
const app = await AgentApp.start({
  config,
  logger,
  version: 'bench',
  examiner: (options) =>
    (examiner =
      mode === 'inline'
        ? new InlineExaminer(options)
        : new WorkerExaminer({ ...options, workerUrl: bundle })),
});
const ctx = {
  current: null,
  allowlist: allowlist(config.allowlist),
  health: null,
  allowUnknownProxies: false,
};
const judge = async (file) => {
  const bytes = await readBounded(file, config.rules.limits.maxBytes);
  return judgeCandidate(await examiner.examineFile(bytes, file), ctx);
};
let up = false;
const event = async () => {
  up = !up;
  await statsCommand(config.haproxy.sockets[0], `set server be_1/s1 state ${up ? 'ready' : 'maint'}`);
  await sleep(300);
};
const verdict = (v) => (v?.ok ? 'accepted' : v?.code);

for (let i = 0; i < 500 && !app.snapshot().haproxy.reachable; i++) await sleep(20);
await sleep(1000);
const idle = await stallDuring(() => sleep(300), 0);
const before = memory();
const judgments = [];
for (let round = 0; round < rounds; round++) {
  for (const input of inputs) {
    for (const file of input.files) {
      const alone = await stallDuring(() => judge(file), 200);
      await sleep(200);
      await copyFile(file, config.rules.file);
      const agent = await stallDuring(() => app.reloadRules('bench'), 200);
      await sleep(200);
      const health = await stallDuring(event, 0);
      // What the event set going (BIRD's apply and read-back, the export check) is over before the next.
      await sleep(1000);
      judgments.push({
        input: input.label,
        round,
        judging: { ms: alone.ms, stallMs: alone.stallMs, gcMs: alone.gcMs, verdict: verdict(alone.result) },
        agent: { ms: agent.ms, stallMs: agent.stallMs, gcMs: agent.gcMs, verdict: verdict(agent.result) },
        event: { stallMs: health.stallMs, gcMs: health.gcMs },
      });
      await sleep(200);
    }
  }
}
const after = memory();
await sleep(Number(process.env.RHI_BENCH_IDLE_MS ?? 30_000));
const later = memory();
await app.stop();
process.stdout.write(
  `${JSON.stringify({ mode, idleStallMs: idle.stallMs, before, after, later, judgments })}\n`,
);
process.exit(0);
