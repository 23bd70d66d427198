import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '@rhi/contracts';
import { signRuleSet } from '@rhi/contracts';
import { parse, ruleSetHash } from '@rhi/rules-dsl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentApp } from '../src/app/agent-app.js';
import { WorkerExaminer } from '../src/app/rule-set-examiner.js';
import { parseConfig } from '../src/config/load.js';
import { recordingLogger } from './support/fakes.js';

// The agent in-process, with neither HAProxy nor BIRD (both unreachable: the rule sets are judged all the
// same), its rule sets examined in a worker that fails on demand (test/support/faulty-rule-set-worker.mjs,
// on tsc's build): rule sets over the configured limits, from the file and from the controller, and a
// worker that crashes, exits, hangs or runs out of heap are refused with their code, the last good rule
// set stays, and the agent goes on judging.

const faulty = new URL('./support/faulty-rule-set-worker.mjs', import.meta.url);
const keys = generateKeyPairSync('ed25519');
const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const rules = (n: number, backend = 'be_app') =>
  Array.from({ length: n }, (_, i) => `198.18.200.${i + 1} = b:${backend}\n`).join('');
const hashOf = (text: string) => ruleSetHash(parse(text).ruleSet);

describe('judging rule sets off the failover path', () => {
  let dir: string;
  let file: string;
  let app: AgentApp;
  const { logger, records } = recordingLogger();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-judging-'));
    file = join(dir, 'rules.cfg');
    await writeFile(file, rules(3));
    await writeFile(join(dir, 'ops.pub'), keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const config = parseConfig(
      `node: { name: lb-judging }
haproxy: { sockets: [${join(dir, 'no-haproxy.sock')}], timeoutMs: 200 }
bird: { socket: ${join(dir, 'no-bird.ctl')}, include: ${join(dir, 'rhi-routes.conf')}, config: ${join(dir, 'bird.conf')} }
rules:
  file: ${file}
  fromController: true
  trustedKeys: { ops: ${join(dir, 'ops.pub')} }
  allowUnknownProxies: true
  limits: { maxRules: 5, maxDepth: 4 }
  worker: { timeoutMs: 3000, maxHeapMb: 64, minRules: 0 }
allowlist: [198.18.200.0/24]
policies: { withdrawOnStop: false }
admin: { listen: 127.0.0.1:0, socket: ${join(dir, 'admin.sock')} }
stateDir: ${dir}
`,
      'agent.yaml',
    );
    app = await AgentApp.start({
      config,
      logger,
      version: 'test',
      examiner: (options) => new WorkerExaminer({ ...options, workerUrl: faulty }),
    });
  });

  afterAll(async () => {
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const inForce = () => app.snapshot().ruleSet?.hash;
  const reload = async (text: string) => {
    await writeFile(file, text);
    return app.reloadRules('test');
  };

  it('takes the rules file at boot, in the worker', () => {
    expect(inForce()).toBe(hashOf(rules(3)));
  });

  it('refuses a rules file over rules.limits, naming the limit and the place', async () => {
    expect(await reload(rules(6))).toEqual({
      ok: false,
      code: 'RULESET_OVER_LIMIT',
      reason: expect.stringMatching(
        new RegExp(
          `^over rules\\.limits\\.maxRules \\(5\\); 1 error:\\n${file}:6:1: error RULE_SET_TOO_MANY_RULES`,
        ),
      ),
    });
    expect(await reload('198.18.200.1 = not(not(not(not(not(b:be_app)))))\n')).toMatchObject({
      ok: false,
      code: 'RULESET_OVER_LIMIT',
      reason: expect.stringMatching(/^over rules\.limits\.maxDepth \(4\)/),
    });
    expect(inForce()).toBe(hashOf(rules(3)));
    expect(records).toContainEqual(
      expect.objectContaining({ event: 'ruleSetRejected', code: 'RULESET_OVER_LIMIT', level: 50 }),
    );
  });

  it.each([
    ['#crash', 'RULESET_WORKER_FAILED'],
    ['#exit', 'RULESET_WORKER_FAILED'],
    ['#hang', 'RULESET_WORKER_TIMEOUT'],
    ['#oom', 'RULESET_WORKER_OUT_OF_MEMORY'],
  ])('refuses the rule set when the worker fails (%s); the last good one stays', async (fault, code) => {
    const before = inForce();
    expect(await reload(`${fault}\n${rules(2, 'be_other')}`)).toMatchObject({ ok: false, code });
    expect(inForce()).toBe(before);
    expect(records).toContainEqual(expect.objectContaining({ event: 'ruleSetRejected', code }));
    // The agent goes on: the next rule set is judged in a new worker.
    const next = rules(4, fault.slice(1));
    expect(await reload(next)).toMatchObject({ ok: true });
    expect(inForce()).toBe(hashOf(next));
  });

  it('refuses a controller rule set over rules.limits, then takes one within them', async () => {
    const push = (text: string, serial: number): Command => ({
      schema: 'rhi.v1.command',
      id: `push-${serial}`,
      type: 'ruleset',
      ruleSet: signRuleSet(parse(text).ruleSet, { privateKeyPem, keyId: 'ops', serial }),
    });
    const before = inForce();
    expect(await app.command(push(rules(6), 1))).toEqual({
      result: 'rejected',
      reason: expect.stringMatching(
        /^RULESET_OVER_LIMIT: over rules\.limits\.maxRules \(5\); rules\.5: RULE_SET_TOO_MANY_RULES/,
      ),
    });
    expect(inForce()).toBe(before);
    expect(await app.command(push(rules(5), 2))).toMatchObject({ result: 'applied' });
    expect(inForce()).toBe(hashOf(rules(5)));
  });
});
