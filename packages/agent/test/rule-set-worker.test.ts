import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, ruleSetHash } from '@rhi/rules-dsl';
import { freePort, waitFor } from '@rhi/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, stopAgent } from './support/agent-process.js';
import { bigRuleSet } from './support/big-rule-set.js';

// The one-file build (`rhi-agent run`, started as the systemd unit starts it) judging its rule sets in a
// worker that is the bundle itself: a rule set of 10,000 rules comes out as the main thread here makes it,
// one over rules.limits and one whose judging overruns rules.worker.timeoutMs are refused with their code
// and the place, and the agent keeps the last good rule set and goes on. No HAProxy or BIRD: the agent
// judges rule sets all the same (HAProxy's proxies are then not checked).

const bundle = fileURLToPath(new URL('../dist/rhi-agent.mjs', import.meta.url));
const built = existsSync(bundle);

interface Status {
  readonly ruleSet: { readonly hash: string } | null;
}

describe.runIf(built)('the rule-set worker of the one-file build', () => {
  let dir: string;
  let agent: ChildProcess | undefined;
  let output: () => string = () => '';
  let port: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-worker-'));
  });
  afterEach(async () => {
    if (agent) await stopAgent(agent);
    agent = undefined;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const rulesFile = () => join(dir, 'rules.cfg');
  /** Starts the agent on `rules` with `extra` YAML under `rules:`, and waits until it runs. */
  const start = async (rules: string, extra: string) => {
    await writeFile(rulesFile(), rules);
    port = await freePort();
    const config = join(dir, 'agent.yaml');
    await writeFile(
      config,
      `node: { name: lb-worker }
haproxy: { sockets: [${join(dir, 'no-haproxy.sock')}], timeoutMs: 200 }
bird: { socket: ${join(dir, 'no-bird.ctl')}, include: ${join(dir, 'rhi-routes.conf')}, config: ${join(dir, 'bird.conf')} }
rules: { file: ${rulesFile()}, ${extra} }
allowlist: [198.18.0.0/24]
policies: { withdrawOnStop: false }
admin: { listen: 127.0.0.1:${port}, socket: ${join(dir, 'admin.sock')} }
stateDir: ${join(dir, `state-${port}`)}
`,
    );
    ({ agent, output } = await spawnAgent(config));
    return waitFor(
      'the agent to take its rules file',
      async () => {
        if (agent?.exitCode !== null) throw new Error(`the agent exited:\n${output()}`);
        const s = await status().catch(() => undefined);
        return s?.ruleSet ? s : undefined;
      },
      30_000,
    );
  };
  const status = async () => (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as Status;
  /** Puts a new rules file in place by rename (taken at once), and waits for the agent's verdict on it. */
  const replace = async (text: string, rejected: boolean) => {
    const before = output().length;
    const next = join(dir, 'rules.next');
    await writeFile(next, text);
    await rename(next, rulesFile());
    const hash = ruleSetHash(parse(text).ruleSet);
    return waitFor(
      'the verdict on the new rules file',
      async () => {
        const logged = output().slice(before);
        if (rejected) {
          const line = logged.split('\n').find((l) => l.includes('"event":"ruleSetRejected"'));
          return line ? (JSON.parse(line) as { code: string; reason: string }) : undefined;
        }
        return (await status()).ruleSet?.hash === hash ? { code: 'accepted', reason: '' } : undefined;
      },
      30_000,
    );
  };

  it('takes 10,000 rules as the main thread makes them, and refuses one rule more', async () => {
    const { text } = bigRuleSet(10_000);
    const { ruleSet } = parse(text);
    const taken = await start(text, 'allowUnknownProxies: true');
    expect(taken.ruleSet?.hash).toBe(ruleSetHash(ruleSet));
    // The same hash is the same canonical text: the same rules (rule-set-examiner.test.ts compares them
    // one by one, and their decisions).

    const over = await replace(bigRuleSet(10_001).text, true);
    expect(over.code).toBe('RULESET_OVER_LIMIT');
    expect(over.reason).toMatch(/^over rules\.limits\.maxRules \(10000\); 1 error:\n/);
    expect(over.reason).toContain(`${rulesFile()}:10002:1: error RULE_SET_TOO_MANY_RULES`);
    // 20 MB: only 4 MiB + 1 byte of it is read.
    const huge = await replace(text.repeat(36), true);
    expect(huge.code).toBe('RULESET_OVER_LIMIT');
    expect(huge.reason).toMatch(/^over rules\.limits\.maxBytes \(4194304\); 1 error:\n/);
    expect((await status()).ruleSet?.hash).toBe(ruleSetHash(ruleSet));

    const fewer = bigRuleSet(9_000).text;
    expect((await replace(fewer, false)).code).toBe('accepted');
  }, 120_000);

  it('refuses a rule set whose judging overruns rules.worker.timeoutMs, and judges the next', async () => {
    const small = '198.18.0.1 = b:be_a\n198.18.0.2 = b:be_b\n';
    await start(small, 'allowUnknownProxies: true, worker: { timeoutMs: 100 }');
    // 10,000 rules of 37 terms: 0.17 s at best in a warm worker, more in a new one.
    const slow = await replace(bigRuleSet(10_000, 37).text, true);
    expect(slow).toMatchObject({
      code: 'RULESET_WORKER_TIMEOUT',
      reason: 'judging it took longer than rules.worker.timeoutMs (100 ms); the worker was ended',
    });
    expect((await status()).ruleSet?.hash).toBe(ruleSetHash(parse(small).ruleSet));
    const next = '198.18.0.3 = b:be_c\n';
    expect((await replace(next, false)).code).toBe('accepted');
  }, 120_000);
});
