import { generateKeyPairSync } from 'node:crypto';
import { signRuleSet } from '@rhi/contracts';
import { evaluate, parse, ruleSetHash, ruleSetRoutes } from '@rhi/rules-dsl';
import { afterEach, describe, expect, it } from 'vitest';
import type { Examination } from '../src/core/accept-rule-set.js';
import { DEFAULT_RULE_SET_LIMITS } from '../src/core/accept-rule-set.js';
import type { ExaminerOptions, WorkerExaminerOptions } from '../src/app/rule-set-examiner.js';
import { InlineExaminer, WorkerExaminer } from '../src/app/rule-set-examiner.js';
import { bigRuleSet } from './support/big-rule-set.js';
import { recordingLogger } from './support/fakes.js';

// The worker runs tsc's build (dist/app/rule-set-worker.js): nx builds the package before its tests.
const faulty = new URL('./support/faulty-rule-set-worker.mjs', import.meta.url);
const keys = generateKeyPairSync('ed25519');
const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const base: ExaminerOptions = {
  limits: DEFAULT_RULE_SET_LIMITS,
  allowlist: ['198.18.0.0/24', '2001:db8::/48'],
  trustedKeys: new Map([['ops', keys.publicKey]]),
};
const open: WorkerExaminer[] = [];
const worker = (over: Partial<WorkerExaminerOptions> = {}) => {
  const { logger, records } = recordingLogger();
  const examiner = new WorkerExaminer({
    ...base,
    timeoutMs: 60_000,
    maxHeapMb: 256,
    idleMs: 0,
    minRules: 0,
    logger,
    ...over,
  });
  open.push(examiner);
  return { examiner, records };
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

/** An examination as plain data: the rule set as its hash, its rules and its decisions in a state. */
function comparable(e: Examination, state: Parameters<typeof evaluate>[1]) {
  if (!e.ok) return e;
  const { ruleSet, ...rest } = e.candidate;
  return {
    ...rest,
    hash: ruleSetHash(ruleSet),
    rules: ruleSet.rules,
    routes: ruleSetRoutes(ruleSet),
    decisions: evaluate(ruleSet, state).map((d) => ({
      table: d.table,
      prefix: d.prefix,
      advertise: d.advertise,
      reason: d.reason,
    })),
  };
}

describe('the rule-set worker', () => {
  it('makes of 10,000 rules what the main thread makes of them', async () => {
    const { text, state } = bigRuleSet(10_000);
    const { examiner } = worker();
    const off = await examiner.examineFile(text, 'rules.cfg');
    const on = await new InlineExaminer(base).examineFile(text, 'rules.cfg');
    expect(off).toMatchObject({ ok: true, candidate: { ruleCount: 10_000, label: 'rules.cfg' } });
    expect(comparable(off, state)).toEqual(comparable(on, state));
    if (off.ok) expect(off.candidate.hash).toBe(ruleSetHash(parse(text).ruleSet));
  });

  it('makes of a signed rule set what the main thread makes of it', async () => {
    const { text, state } = bigRuleSet(2_000);
    const envelope = JSON.parse(
      JSON.stringify(signRuleSet(parse(text).ruleSet, { privateKeyPem, keyId: 'ops', serial: 12 })),
    ) as unknown;
    const { examiner } = worker();
    const off = await examiner.examineSigned(envelope);
    expect(off).toMatchObject({ ok: true, candidate: { serial: 12, signed: true } });
    expect(comparable(off, state)).toEqual(
      comparable(await new InlineExaminer(base).examineSigned(envelope), state),
    );
  });

  it("takes a file's bytes, moving a buffer of their own and copying a pooled one, and makes its state file", async () => {
    const text = '198.18.0.1 = b:be_app\n';
    const { examiner } = worker();
    const own = new TextEncoder().encode(text);
    const pooled = Buffer.from(text);
    const fromOwn = await examiner.examineFile(own, 'rules.cfg', { persist: true });
    expect(own.buffer.byteLength).toBe(0);
    const fromPooled = await examiner.examineFile(pooled, 'rules.cfg');
    expect(pooled.toString()).toBe(text);
    expect(fromPooled).toMatchObject({ ok: true });
    expect(fromPooled.persisted).toBeUndefined();
    const hash = ruleSetHash(parse(text).ruleSet);
    expect(JSON.parse(new TextDecoder().decode(fromOwn.persisted))).toEqual({
      schema: 'rhi.v1.persisted-ruleset',
      source: 'file',
      file: 'rules.cfg',
      text,
      hash,
    });
    const inline = await new InlineExaminer(base).examineFile(text, 'rules.cfg', { persist: true });
    expect(inline.persisted).toEqual(fromOwn.persisted);
  });

  it('applies the limits it is given, file and signed', async () => {
    const { text } = bigRuleSet(50);
    const limits = { ...DEFAULT_RULE_SET_LIMITS, maxRules: 40 };
    const { examiner } = worker({ limits });
    const file = await examiner.examineFile(text, 'rules.cfg');
    expect(file).toMatchObject({ ok: false, code: 'RULESET_OVER_LIMIT' });
    if (!file.ok) {
      expect(file.reason).toMatch(/^over rules\.limits\.maxRules \(40\); 1 error:\n/);
      expect(file.reason).toContain('rules.cfg:42:1: error RULE_SET_TOO_MANY_RULES');
    }
    const envelope = signRuleSet(parse(text).ruleSet, { privateKeyPem, keyId: 'ops', serial: 3 });
    expect(await examiner.examineSigned(envelope)).toMatchObject({
      ok: false,
      code: 'RULESET_OVER_LIMIT',
      reason: expect.stringMatching(/^over rules\.limits\.maxRules \(40\); rules\.40: /),
    });
  });

  it.each([
    ['#crash', 'RULESET_WORKER_FAILED', /^the worker judging it crashed: the worker broke$/],
    ['#exit', 'RULESET_WORKER_FAILED', /^the worker judging it exited \(code 3\)$/],
    ['#hang', 'RULESET_WORKER_TIMEOUT', /^judging it took longer than rules\.worker\.timeoutMs \(500 ms\)/],
    [
      '#oom',
      'RULESET_WORKER_OUT_OF_MEMORY',
      /^judging it needed more than rules\.worker\.maxHeapMb \(64 MB\)/,
    ],
  ])(
    'refuses the rule set when the worker fails (%s), and judges the next in a new one',
    async (fault, code, reason) => {
      // Only a hang waits for the timeout: under load, filling 64 MB may take longer than 500 ms.
      const timeoutMs = fault === '#hang' ? 500 : 30_000;
      const { examiner, records } = worker({ workerUrl: faulty, timeoutMs, maxHeapMb: 64 });
      const good = '198.18.0.1 = b:be_app\n';
      expect(await examiner.examineFile(good, 'rules.cfg')).toMatchObject({ ok: true });
      const first = examiner.threadId;
      expect(await examiner.examineFile(`${fault}\n${good}`, 'rules.cfg')).toEqual({
        ok: false,
        code,
        reason: expect.stringMatching(reason),
      });
      expect(examiner.threadId).toBeNull();
      expect(records).toContainEqual(
        expect.objectContaining({ event: 'ruleSetWorkerFailed', op: 'judgeRuleSet', code, level: 40 }),
      );
      expect(await examiner.examineFile(good, 'rules.cfg')).toMatchObject({ ok: true });
      expect(examiner.threadId).not.toBe(first);
    },
  );

  it('judges rule sets one at a time, each with its own verdict', async () => {
    const { examiner } = worker({ workerUrl: faulty, timeoutMs: 500 });
    const verdicts = await Promise.all([
      examiner.examineFile('198.18.0.1 = b:be_a\n', 'a.cfg'),
      examiner.examineFile('#hang\n', 'b.cfg'),
      examiner.examineFile('198.18.0.1 = b:be_c\n', 'c.cfg'),
    ]);
    expect(verdicts.map((v) => (v.ok ? v.candidate.label : v.code))).toEqual([
      'a.cfg',
      'RULESET_WORKER_TIMEOUT',
      'c.cfg',
    ]);
  });

  it('ends the worker once idle for idleMs, and starts a new one for the next rule set', async () => {
    const { examiner } = worker({ idleMs: 50 });
    expect(await examiner.examineFile('198.18.0.1 = b:be_app\n', 'rules.cfg')).toMatchObject({ ok: true });
    expect(examiner.threadId).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(examiner.threadId).toBeNull();
    expect(await examiner.examineFile('198.18.0.2 = b:be_app\n', 'rules.cfg')).toMatchObject({ ok: true });
  });

  it('examines a small rule set on the main thread, starting no worker, and a big one in the worker', async () => {
    const { examiner } = worker({ minRules: 200 });
    const small = await examiner.examineFile('198.18.0.1 = b:be_app\n', 'rules.cfg');
    const inline = await new InlineExaminer(base).examineFile('198.18.0.1 = b:be_app\n', 'rules.cfg');
    expect(comparable(small, { frontends: {}, backends: {} })).toEqual(
      comparable(inline, { frontends: {}, backends: {} }),
    );
    expect(examiner.threadId).toBeNull();
    const text = bigRuleSet(300).text;
    expect(await examiner.examineFile(text, 'rules.cfg')).toMatchObject({ ok: true });
    expect(examiner.threadId).not.toBeNull();
  });

  it('reads a command in the worker as the main thread does, copying the bytes NATS gave', async () => {
    const { text, state } = bigRuleSet(500);
    const envelope = signRuleSet(parse(text).ruleSet, { privateKeyPem, keyId: 'ops', serial: 3 });
    const json = new TextEncoder().encode(
      JSON.stringify({ schema: 'rhi.v1.command', id: 'push-3', type: 'ruleset', ruleSet: envelope }),
    );
    // NATS hands a view into its own read buffer: the examiner must not take that buffer away.
    const pool = new Uint8Array(json.length + 64);
    const bytes = pool.subarray(32, 32 + json.length);
    bytes.set(json);
    const { examiner } = worker();
    const off = await examiner.examineCommand(bytes);
    expect(examiner.threadId).not.toBeNull();
    expect(pool.byteLength).toBe(json.length + 64);
    expect(bytes).toEqual(json);
    const on = await new InlineExaminer(base).examineCommand(bytes);
    if (off.kind !== 'ruleset' || on.kind !== 'ruleset') throw new Error('not read as a rule set');
    expect(off.id).toBe('push-3');
    expect(comparable(off.examined, state)).toEqual(comparable(on.examined, state));
    expect(off.examined).toMatchObject({ ok: true, candidate: { serial: 3, ruleCount: 500 } });
    expect(JSON.parse(new TextDecoder().decode(off.examined.persisted))).toEqual({
      schema: 'rhi.v1.persisted-ruleset',
      source: 'controller',
      envelope: JSON.parse(JSON.stringify(envelope)),
    });
  });

  it('reads a control command on the main thread even with minRules 0, starting no worker', async () => {
    const { examiner } = worker({ minRules: 0 });
    const undrain = { schema: 'rhi.v1.command', id: 'u-1', type: 'undrain' };
    expect(await examiner.examineCommand(new TextEncoder().encode(JSON.stringify(undrain)))).toEqual({
      kind: 'command',
      command: undrain,
    });
    expect(await examiner.examineCommand(new TextEncoder().encode('{"id":"u-2"'))).toEqual({
      kind: 'refused',
      id: '',
      reason: 'command is not JSON',
    });
    expect(examiner.threadId).toBeNull();
  });

  it('refuses a command as a rule set, its id read from the bytes, when the worker fails on it', async () => {
    const { examiner } = worker({ workerUrl: faulty });
    const envelope = signRuleSet(parse(bigRuleSet(10).text).ruleSet, {
      privateKeyPem,
      keyId: 'ops',
      serial: 3,
    });
    const command = (id: string) =>
      new TextEncoder().encode(
        JSON.stringify({ schema: 'rhi.v1.command', id, type: 'ruleset', ruleSet: envelope }),
      );
    expect(await examiner.examineCommand(command('#crash'))).toEqual({
      kind: 'ruleset',
      id: '#crash',
      examined: {
        ok: false,
        code: 'RULESET_WORKER_FAILED',
        reason: 'the worker judging it crashed: the worker broke',
      },
    });
    expect(await examiner.examineCommand(command('next'))).toMatchObject({
      kind: 'ruleset',
      id: 'next',
      examined: { ok: true },
    });
  });

  it('refuses what is left once closed', async () => {
    const { examiner } = worker({ workerUrl: faulty });
    const hanging = examiner.examineFile('#hang\n', 'rules.cfg');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await examiner.close();
    expect(await hanging).toEqual({
      ok: false,
      code: 'RULESET_WORKER_FAILED',
      reason: 'the agent is stopping',
    });
    expect(await examiner.examineFile('198.18.0.1 = b:be_app\n', 'rules.cfg')).toMatchObject({
      ok: false,
      code: 'RULESET_WORKER_FAILED',
    });
  });
});
