import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuleSetAssignment } from '@rhi/contracts';
import { encodeRuleSetRecord, ruleSetKeys } from '@rhi/contracts';
import { evaluate, parse, ruleSetHash, ruleSetRoutes } from '@rhi/rules-dsl';
import { freePort, waitFor } from '@rhi/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InlineExaminer } from '../src/app/rule-set-examiner.js';
import type { PersistableExamination, WorkerRequest } from '../src/app/rule-set-worker.js';
import { examineRequest, unpackCommand, unpackRecord } from '../src/app/rule-set-worker.js';
import { DEFAULT_RULE_SET_LIMITS } from '../src/core/accept-rule-set.js';
import { stateFileText } from '../src/core/state-files.js';
import { spawnAgent, stopAgent } from './support/agent-process.js';
import { bigRuleSet } from './support/big-rule-set.js';
import { assignmentOf, ruleSetRecord } from './support/rule-set-records.js';

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

// What the worker makes of a rule set's bytes as NATS gave them (`examineRequest`, run here on the test's
// thread): a command on rhi.v1.cmd.<node> and a stored record `set.<serial>`, read, checked and examined
// there, with the state file the keeper writes; compared with what the main thread made of the same rule
// set before (the envelope examined, `{ source: 'controller', envelope }` written).
describe('the rule-set worker reading bytes from NATS', () => {
  const ops = generateKeyPairSync('ed25519');
  const pem = (k: typeof ops.privateKey) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
  const signer = { privateKeyPem: pem(ops.privateKey), keyId: 'ops' };
  const stranger = { privateKeyPem: pem(generateKeyPairSync('ed25519').privateKey), keyId: 'ops' };
  const options = {
    limits: DEFAULT_RULE_SET_LIMITS,
    allowlist: ['198.18.0.0/15', '2001:db8::/32'],
    trustedKeys: new Map([['ops', ops.publicKey]]),
  };
  const { text, state } = bigRuleSet(200);
  const record = ruleSetRecord(text, 4, signer);
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const request = (
    body:
      | { kind: 'command'; bytes: Uint8Array }
      | { kind: 'record'; bytes: Uint8Array; key: string; assignment: RuleSetAssignment },
  ): WorkerRequest => ({
    id: 9,
    limits: options.limits,
    allowlist: options.allowlist,
    trustedKeys: [...options.trustedKeys],
    ...body,
  });
  const commandOf = (reply: ReturnType<typeof examineRequest>['reply']) => {
    if (!('command' in reply)) throw new Error('no command in the reply');
    return reply.command;
  };
  const recordOf = (reply: ReturnType<typeof examineRequest>['reply']) => {
    if (!('record' in reply)) throw new Error('no record in the reply');
    return reply.record;
  };
  /** An examination as plain data (the rule set by its rules, routes and decisions), and its state file. */
  const plain = (e: PersistableExamination) => {
    if (!e.ok) return e;
    const { persisted, candidate } = e;
    const { ruleSet, ...rest } = candidate;
    return {
      ...rest,
      rules: ruleSet.rules,
      routes: ruleSetRoutes(ruleSet),
      decisions: evaluate(ruleSet, state).map((d) => [d.prefix, d.advertise, d.reason]),
      persisted: persisted && new TextDecoder().decode(persisted),
    };
  };
  const before = async () => {
    const examination = await new InlineExaminer(options).examineSigned(record.signed);
    const persisted = stateFileText({
      schema: 'rhi.v1.persisted-ruleset',
      source: 'controller',
      envelope: record.signed,
    });
    return plain({ ...examination, persisted: new TextEncoder().encode(persisted) });
  };

  it('reads a rule-set command, examines it as the main thread did and makes its state file', async () => {
    const bytes = json({ schema: 'rhi.v1.command', id: 'push-4', type: 'ruleset', ruleSet: record.signed });
    const { reply, transfer } = examineRequest(request({ kind: 'command', bytes }));
    expect(reply.id).toBe(9);
    const read = unpackCommand(commandOf(reply));
    if (read.kind !== 'ruleset') throw new Error(`read as ${read.kind}`);
    expect(read.id).toBe('push-4');
    expect(plain(read.examined)).toEqual(await before());
    // The state file and the packed rule set move back: none of it is copied to the main thread.
    const packed = commandOf(reply);
    if (packed.kind !== 'ruleset' || !packed.examined.ok) throw new Error('not examined');
    expect(transfer).toContain(packed.examined.persisted?.buffer);
    expect(transfer.length).toBeGreaterThan(1);
  });

  it('refuses a command as the link did, and reads a drain whole', () => {
    const answer = (body: unknown) =>
      commandOf(examineRequest(request({ kind: 'command', bytes: json(body) })).reply);
    expect(
      commandOf(examineRequest(request({ kind: 'command', bytes: json('x').subarray(1) })).reply),
    ).toEqual({
      kind: 'refused',
      id: '',
      reason: 'command is not JSON',
    });
    expect(
      answer({
        schema: 'rhi.v1.command',
        id: 'p',
        type: 'ruleset',
        ruleSet: { ...record.signed, serial: -1 },
      }),
    ).toEqual({
      kind: 'refused',
      id: 'p',
      reason: expect.stringMatching(/^malformed command: ruleSet\.serial /),
    });
    const drain = { schema: 'rhi.v1.command', id: 'd', type: 'drain', reason: 'kernel' };
    expect(examineRequest(request({ kind: 'command', bytes: json(drain) }))).toEqual({
      reply: { id: 9, command: { kind: 'command', command: drain } },
      transfer: [],
    });
  });

  it('judges a signed rule set it cannot trust as refused, with no state file', () => {
    const untrusted = ruleSetRecord(text, 5, stranger);
    const bytes = json({ schema: 'rhi.v1.command', id: 'p', type: 'ruleset', ruleSet: untrusted.signed });
    const { reply, transfer } = examineRequest(request({ kind: 'command', bytes }));
    expect(commandOf(reply)).toEqual({
      kind: 'ruleset',
      id: 'p',
      examined: {
        ok: false,
        code: 'RULESET_BAD_SIGNATURE',
        reason: "signature does not verify with key 'ops'",
      },
    });
    expect(transfer).toEqual([]);
  });

  it('reads a stored record, checks it against its assignment and examines its rule set', async () => {
    const key = ruleSetKeys.record(4);
    const bytes = encodeRuleSetRecord(record);
    const { reply } = examineRequest(
      request({ kind: 'record', bytes, key, assignment: assignmentOf('lb1', record) }),
    );
    const read = unpackRecord(recordOf(reply));
    if (!read.ok) throw new Error(read.outcome.reason);
    expect(plain(read.examined)).toEqual(await before());
  });

  it('refuses a record that is not the one assigned, or not a record, before examining it', () => {
    const key = ruleSetKeys.record(4);
    const bytes = encodeRuleSetRecord(record);
    const other = assignmentOf('lb1', { serial: 4, hash: '0'.repeat(64) });
    expect(
      recordOf(examineRequest(request({ kind: 'record', bytes, key, assignment: other })).reply),
    ).toEqual({
      ok: false,
      outcome: {
        serial: 4,
        hash: '0'.repeat(64),
        result: 'rejected',
        code: 'RULESET_RECORD_MISMATCH',
        reason: `${key} holds serial 4 with hash ${record.hash}; the assignment names serial 4 with hash ${'0'.repeat(64)}`,
      },
    });
    const garbage = examineRequest(
      request({ kind: 'record', bytes: json(record), key, assignment: assignmentOf('lb1', record) }),
    );
    expect(recordOf(garbage.reply)).toMatchObject({
      ok: false,
      outcome: { serial: 4, code: 'RULESET_RECORD_UNREADABLE', reason: expect.stringContaining(key) },
    });
    expect(garbage.transfer).toEqual([]);
  });

  it('refuses the rule set of a record signed by a key it does not trust', () => {
    const untrusted = ruleSetRecord(text, 6, stranger);
    const { reply } = examineRequest(
      request({
        kind: 'record',
        bytes: encodeRuleSetRecord(untrusted),
        key: ruleSetKeys.record(6),
        assignment: assignmentOf('lb1', untrusted),
      }),
    );
    expect(recordOf(reply)).toEqual({
      ok: true,
      examined: {
        ok: false,
        code: 'RULESET_BAD_SIGNATURE',
        reason: "signature does not verify with key 'ops'",
      },
    });
  });
});
