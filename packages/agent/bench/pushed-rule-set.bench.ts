import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRuleSetRecord, jetstream, ruleSetKeys } from '@rhi/contracts';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { freePort, startNatsWithConfig } from '@rhi/test-support';
import { test } from 'vitest';
import { bigRuleSet } from '../test/support/big-rule-set.js';
import { assignmentOf, ruleSetRecord } from '../test/support/rule-set-records.js';
import { runBenchChild } from './run-child.js';

// What a rule set pushed from the controller costs the agent's main thread (the failover path): the agent
// in-process (bench/pushed-rule-set.child.mjs, tsc's build; its worker the one-file build), started with
// the systemd unit's Node flags and environment, connected to a real nats-server (JetStream, max_payload
// 8 MB), with neither HAProxy nor BIRD (the rule set is judged all the same; its proxies not checked).
// Per round: the same signed 10,000-rule command (`generateRules`, 2.6 MB) on `rhi.v1.cmd.<node>`,
// judged whole, accepted unchanged and persisted, not planned again; then an assignment in the rule-set
// bucket of a new serial of the same 10,000 rules signed by a key the agent does not trust (fetched, read
// and examined whole, refused: nothing planned). The stall is the longest gap between the ticks of a 1 ms
// interval timer in the agent's process, less 1 ms, from the request until 200 ms after the ack; blocked
// is the sum of every gap's excess over 2 ms in that time.

const ROUNDS = Number(process.env.RHI_BENCH_ROUNDS ?? 8);
const CHILDREN = Number(process.env.RHI_BENCH_CHILDREN ?? 2);
const child = fileURLToPath(new URL('./pushed-rule-set.child.mjs', import.meta.url));

interface Timed {
  readonly ms: number;
  readonly stallMs: number;
  readonly blockedMs: number;
  readonly gcMs: number;
  readonly verdict: string;
}
interface ChildResult {
  readonly first: string;
  readonly idleStallMs: number;
  readonly commandBytes: number;
  readonly pushes: readonly Timed[];
  readonly assignments: readonly Timed[];
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? ((s[(s.length - 1) >> 1] ?? 0) + (s[s.length >> 1] ?? 0)) / 2 : NaN;
};
const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();

/** A nats-server with JetStream and room for a 2.6 MB command (max_payload 8 MB). */
async function startNats(dir: string) {
  const conf = join(dir, 'nats.conf');
  await writeFile(
    conf,
    `max_payload: 8MB\nauthorization { user: rhi, password: rhi-secret }\njetstream { store_dir: "${join(dir, 'js')}" }\n`,
  );
  return startNatsWithConfig(conf);
}

test('the main thread around a pushed 10,000-rule set, by command and by assignment', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rhi-bench-push-'));
  const nats = await startNats(dir);
  try {
    const ops = generateKeyPairSync('ed25519');
    const signer = { privateKeyPem: pem(ops.privateKey), keyId: 'ops' };
    const stranger = { privateKeyPem: pem(generateKeyPairSync('ed25519').privateKey), keyId: 'ops' };
    await writeFile(join(dir, 'ops.pub'), ops.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const { text } = bigRuleSet(10_000);
    const pushed = ruleSetRecord(text, 1, signer);
    const commandFile = join(dir, 'command.json');
    await writeFile(
      commandFile,
      JSON.stringify({ schema: 'rhi.v1.command', id: 'bench', type: 'ruleset', ruleSet: pushed.signed }),
    );
    const records = [];
    const values = [];
    for (let serial = 2; serial < 2 + ROUNDS; serial++) {
      const record = ruleSetRecord(text, serial, stranger);
      const file = join(dir, `set-${serial}.gz`);
      await writeFile(file, encodeRuleSetRecord(record));
      records.push({ key: ruleSetKeys.record(serial), file });
      values.push(assignmentOf('bench', record));
    }
    const inputs = join(dir, 'inputs.json');
    await writeFile(
      inputs,
      JSON.stringify({
        command: commandFile,
        records,
        assignment: { key: ruleSetKeys.assignment('bench'), values },
      }),
    );
    const load = [loadavg()[1]];
    const results: ChildResult[] = [];
    for (let c = 0; c < CHILDREN; c++) {
      // As the controller creates it (packages/controller/src/nats/rule-set-store.ts), new per child.
      const nc = await connect({ servers: nats.url, user: 'rhi', pass: 'rhi-secret' });
      const kvm = new Kvm(nc);
      const bucket = { history: 5, replicas: 1 };
      await (await kvm.create(jetstream.ruleSetBucket, bucket)).destroy();
      await kvm.create(jetstream.ruleSetBucket, bucket);
      await nc.close();
      const state = join(dir, `state-${c}`);
      await mkdir(state, { recursive: true });
      const config = join(dir, `agent-${c}.yaml`);
      await writeFile(
        config,
        `node: { name: bench }
haproxy: { sockets: [${join(dir, 'no-haproxy.sock')}], pollIntervalMs: 60000, timeoutMs: 200 }
bird: { socket: ${join(dir, 'no-bird.ctl')}, include: ${join(dir, 'rhi-routes.conf')}, config: ${join(dir, 'bird.conf')} }
rules: { fromController: true, trustedKeys: { ops: ${join(dir, 'ops.pub')} }, allowUnknownProxies: true }
allowlist: [198.18.0.0/16, 2001:db8::/32]
nats: { servers: [${nats.url}], user: rhi, password: rhi-secret, heartbeatMs: 60000, assignmentPollMs: 600000 }
policies: { withdrawOnStop: false }
admin: { listen: 127.0.0.1:${await freePort()}, socket: ${join(dir, `admin-${c}.sock`)} }
stateDir: ${state}
`,
      );
      const r = await runBenchChild<ChildResult>(child, [config, inputs, String(ROUNDS)]);
      results.push(r);
      process.stderr.write(
        `child ${c}: first ${r.first}; pushes ${r.pushes.map((p) => `${f(p.stallMs)}/${f(p.blockedMs)}`).join(' ')}; assignments ${r.assignments.map((p) => `${f(p.stallMs)}/${f(p.blockedMs)}`).join(' ')}\n`,
      );
    }
    load.push(loadavg()[1]);
    const row = (label: string, timed: readonly Timed[]) => {
      const verdicts = [...new Set(timed.map((t) => t.verdict))].join(', ');
      const col = (k: 'stallMs' | 'blockedMs' | 'gcMs' | 'ms') =>
        `${f(median(timed.map((t) => t[k])))} / ${f(Math.max(...timed.map((t) => t[k])))}`;
      return `| ${label} | ${timed.length} | ${verdicts} | ${col('stallMs')} | ${col('blockedMs')} | ${col('gcMs')} | ${col('ms')} |`;
    };
    console.log(
      [
        `Load average (5 min) at the start and the end: ${load.map((l) => (l ?? 0).toFixed(2)).join(', ')}`,
        `Command: ${results[0]?.commandBytes ?? 0} bytes; idle stall (500 ms, nothing pushed): ${results.map((r) => f(r.idleStallMs)).join(', ')} ms`,
        '',
        '| path | runs | verdict | longest stall: median / max ms | blocked: median / max ms | longest GC: median / max ms | time to the ack: median / max ms |',
        '| --- | ---: | --- | ---: | ---: | ---: | ---: |',
        row(
          'command (rhi.v1.cmd)',
          results.flatMap((r) => r.pushes),
        ),
        row(
          'assignment (KV record)',
          results.flatMap((r) => r.assignments),
        ),
      ].join('\n'),
    );
  } finally {
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}, 1_800_000);
