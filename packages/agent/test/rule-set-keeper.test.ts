import { generateKeyPairSync } from 'node:crypto';
import type { SignedRuleSet } from '@rhi/contracts';
import { signRuleSet } from '@rhi/contracts';
import type { HealthSnapshot } from '@rhi/haproxy-client';
import type { RuleSet } from '@rhi/rules-dsl';
import { parse, ruleSetHash } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import { tableView } from '../src/app/bird-port.js';
import { InlineExaminer } from '../src/app/rule-set-examiner.js';
import type { RuleSetKeeperSettings } from '../src/app/rule-set-keeper.js';
import { RuleSetKeeper } from '../src/app/rule-set-keeper.js';
import type { AgentConfig } from '../src/config/schema.js';
import { DEFAULT_RULE_SET_LIMITS } from '../src/core/accept-rule-set.js';
import { allowlist } from '../src/core/allowlist.js';
import type { FeedSelection } from '../src/core/feed-selection.js';
import type { PersistedRuleSet } from '../src/core/state-files.js';
import type { RuleSetMeta } from '../src/loop/agent-loop.js';
import type { AgentTransition, HealthEvent } from '../src/loop/ports.js';
import { recordingLogger } from './support/fakes.js';

const keys = generateKeyPairSync('ed25519');
const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const stranger = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const FILE = '/etc/rhi/rules.cfg';
const fileText = '198.18.200.1 = b:be_app\n';
const pushText = '198.18.200.2 = b:be_app\n198.18.200.3 = f:fe_web\n';
const hashOf = (text: string) => ruleSetHash(parse(text).ruleSet);
const signed = (text: string, serial: number, pem = privateKeyPem): SignedRuleSet =>
  JSON.parse(
    JSON.stringify(signRuleSet(parse(text).ruleSet, { privateKeyPem: pem, keyId: 'ops', serial })),
  ) as SignedRuleSet;
const bytes = (text: string) => new TextEncoder().encode(text);

const snapshot: HealthSnapshot = {
  readAt: 2,
  sentAt: 1,
  process: { pid: 42, uptimeSec: 9, stopping: false, version: '2.6.12', currentConnections: 7 },
  frontends: { fe_web: { up: true, reason: 'OPEN', sessions: 7 } },
  backends: { be_app: { up: true, reason: 'UP' } },
};
const birdConfig: AgentConfig['bird'] = {
  dialect: 'bird2',
  socket: '/run/bird/bird.ctl',
  include: '/run/rhi/rhi-routes.conf',
  config: '/etc/bird/bird.conf',
  tables: {},
  reconcileIntervalMs: 30_000,
  timeoutMs: 1000,
  exportCheckIntervalMs: 10_000,
};

/** The loop as the keeper drives it; fails loudly when a rule set is applied over itself. */
class FakeLoop {
  readonly allowlist = allowlist(['198.18.200.0/24']);
  readonly calls: string[] = [];
  readonly notified: Omit<AgentTransition, 'time'>[] = [];
  inForce: string | null = null;
  onHealth(event: HealthEvent): void {
    if (event.type !== 'snapshot') throw new Error('the keeper only seeds snapshots');
    this.calls.push(`health pid ${event.pid} sessions ${event.sessions}`);
  }
  setRuleSet(ruleSet: RuleSet, meta: RuleSetMeta): void {
    const hash = ruleSetHash(ruleSet);
    if (hash === this.inForce) throw new Error(`rule set ${hash.slice(0, 12)} applied while in force`);
    this.inForce = hash;
    this.calls.push(`ruleSet ${meta.source} serial ${meta.serial} ${hash.slice(0, 12)}`);
  }
  notify(t: Omit<AgentTransition, 'time'>): void {
    this.notified.push(t);
  }
}

/** Examines inline; fails loudly when two examinations overlap (rule sets are judged one at a time). */
class OneAtATimeExaminer {
  private readonly inline = new InlineExaminer({
    limits: DEFAULT_RULE_SET_LIMITS,
    allowlist: ['198.18.200.0/24'],
    trustedKeys: new Map([['ops', keys.publicKey]]),
  });
  private busy = false;
  private async once<T>(examine: () => Promise<T>): Promise<T> {
    if (this.busy) throw new Error('two rule sets examined at once');
    this.busy = true;
    try {
      await new Promise((resolve) => setImmediate(resolve));
      return await examine();
    } finally {
      this.busy = false;
    }
  }
  examineFile(text: string | Uint8Array, file: string, options?: { readonly persist?: boolean }) {
    return this.once(() => this.inline.examineFile(text, file, options));
  }
  examineSigned(envelope: unknown) {
    return this.once(() => this.inline.examineSigned(envelope));
  }
}

function keeper(
  over: {
    rules?: Partial<RuleSetKeeperSettings>;
    files?: Record<string, string>;
    health?: HealthSnapshot | null;
    failWrites?: boolean;
  } = {},
) {
  const loop = new FakeLoop();
  const saved: (PersistedRuleSet | string)[] = [];
  const selections: FeedSelection[] = [];
  const { logger, records } = recordingLogger();
  const files = over.files ?? { [FILE]: fileText };
  const k = new RuleSetKeeper({
    rules: {
      file: FILE,
      fromController: true,
      allowUnknownProxies: false,
      allowEmpty: false,
      limits: { maxBytes: 1 << 20 },
      ...over.rules,
    },
    examiner: new OneAtATimeExaminer(),
    haproxy: {
      readHealth: () =>
        over.health === null
          ? Promise.reject(new Error('ECONNREFUSED'))
          : Promise.resolve(over.health ?? snapshot),
    },
    birdTables: () => Promise.resolve(tableView(birdConfig, new Map())),
    loop,
    store: {
      saveRuleSet: (value) => {
        if (over.failWrites) return Promise.reject(new Error('ENOSPC'));
        saved.push(value instanceof Uint8Array ? new TextDecoder().decode(value) : value);
        return Promise.resolve();
      },
    },
    logger,
    onSelection: (s) => selections.push(s),
    readFile: (file) => {
      const text = files[file];
      return text === undefined ? Promise.reject(new Error(`ENOENT: ${file}`)) : Promise.resolve(bytes(text));
    },
  });
  const events = (name: string) => records.filter((r) => r['event'] === name);
  return { k, loop, saved, selections, events };
}

describe('rule-set keeper', () => {
  it("boot: the controller's persisted rule set wins over the file, which then stands aside", async () => {
    const { k, loop, events } = keeper();
    await k.restore({
      schema: 'rhi.v1.persisted-ruleset',
      source: 'controller',
      envelope: signed(pushText, 3),
    });
    expect(k.inForce).toEqual({ hash: hashOf(pushText), serial: 3, fromController: true });
    expect(loop.calls).toEqual([
      'health pid 42 sessions 7',
      `ruleSet persisted serial 3 ${hashOf(pushText).slice(0, 12)}`,
    ]);
    expect(await k.reloadRules('SIGHUP')).toBeNull();
    expect(events('rulesFileIgnored')).toMatchObject([{ file: FILE, reason: 'SIGHUP' }]);
    expect(loop.calls).toHaveLength(2);
  });

  it('boot: a persisted push that fails its check leaves the file to be used', async () => {
    const { k, loop, events } = keeper();
    await k.restore({
      schema: 'rhi.v1.persisted-ruleset',
      source: 'controller',
      envelope: signed(pushText, 3, stranger),
    });
    expect(k.inForce).toEqual({ hash: hashOf(fileText), serial: 0, fromController: false });
    expect(loop.calls.at(-1)).toBe(`ruleSet file serial 0 ${hashOf(fileText).slice(0, 12)}`);
    expect(events('ruleSetRejected')).toHaveLength(1);
  });

  it('boot: a bad file falls back to its last good copy, which a good file then replaces', async () => {
    const { k, loop, saved } = keeper({ files: { [FILE]: '198.18.200.1 = b:\n' } });
    await k.restore({
      schema: 'rhi.v1.persisted-ruleset',
      source: 'file',
      file: FILE,
      text: fileText,
      hash: hashOf(fileText),
    });
    expect(k.inForce).toEqual({ hash: hashOf(fileText), serial: 0, fromController: false });
    expect(loop.calls.at(-1)).toBe(`ruleSet persisted serial 0 ${hashOf(fileText).slice(0, 12)}`);
    expect(saved).toEqual([]);
    const next = '198.18.200.4 = b:be_app\n';
    const verdict = await k.reloadRules('file changed', bytes(next));
    expect(verdict).toMatchObject({ ok: true, unchanged: false });
    expect(k.inForce?.hash).toBe(hashOf(next));
    await Promise.resolve();
    expect(saved).toHaveLength(1);
    expect(JSON.parse(saved[0] as string)).toEqual({
      schema: 'rhi.v1.persisted-ruleset',
      source: 'file',
      file: FILE,
      text: next,
      hash: hashOf(next),
    });
  });

  it('boot: with nothing acceptable, nothing is in force and it says so', async () => {
    const { k, loop, events } = keeper({ files: {} });
    await k.restore(null);
    expect(k.inForce).toBeNull();
    expect(loop.calls).toEqual([]);
    expect(events('ruleSetRejected')).toMatchObject([{ level: 50, op: 'read', file: FILE }]);
    expect(events('noRuleSet')).toHaveLength(1);
  });

  it('a push replaces the file and is persisted before it resolves; a bad push leaves it in force', async () => {
    const { k, loop, saved, events } = keeper();
    await k.restore(null);
    const envelope = signed(pushText, 5);
    expect(await k.push(envelope)).toMatchObject({ ok: true, serial: 5 });
    expect(saved.at(-1)).toEqual({ schema: 'rhi.v1.persisted-ruleset', source: 'controller', envelope });
    const inForce = k.inForce;
    expect(inForce).toEqual({ hash: hashOf(pushText), serial: 5, fromController: true });
    const calls = loop.calls.length;

    expect(await k.push(signed(fileText, 4))).toMatchObject({ ok: false, code: 'RULESET_REPLAYED' });
    expect(await k.push(signed(fileText, 6, stranger))).toMatchObject({ ok: false });
    expect(await k.push(signed('198.18.200.9 = b:be_gone\n', 7))).toMatchObject({
      ok: false,
      code: 'RULESET_UNKNOWN_PROXIES',
    });
    expect(k.inForce).toBe(inForce);
    expect(loop.calls).toHaveLength(calls);
    expect(saved).toHaveLength(2);
    expect(loop.notified.map((n) => n.reason?.split(':')[0])).toEqual([
      'RULESET_REPLAYED',
      expect.any(String),
      'RULESET_UNKNOWN_PROXIES',
    ]);
    expect(events('ruleSetRejected')).toHaveLength(3);
  });

  it('the same push again is applied once and answered as good', async () => {
    const { k, loop, saved } = keeper();
    const envelope = signed(pushText, 2);
    await k.push(envelope);
    expect(await k.push(envelope)).toMatchObject({ ok: true, unchanged: true });
    expect(loop.calls.filter((c) => c.startsWith('ruleSet'))).toHaveLength(1);
    expect(saved).toHaveLength(2);
  });

  it('judges one rule set at a time, in the order they came', async () => {
    const { k, loop } = keeper();
    await k.restore(null);
    const [one, two] = await Promise.all([k.push(signed(pushText, 1)), k.push(signed(fileText, 2))]);
    expect([one.ok, two.ok]).toEqual([true, true]);
    expect(loop.calls.filter((c) => c.startsWith('ruleSet'))).toEqual([
      `ruleSet file serial 0 ${hashOf(fileText).slice(0, 12)}`,
      `ruleSet controller serial 1 ${hashOf(pushText).slice(0, 12)}`,
      `ruleSet controller serial 2 ${hashOf(fileText).slice(0, 12)}`,
    ]);
  });

  it('a file read while a push is judged stands aside once the push is in force', async () => {
    const { k, loop, events } = keeper();
    const [file, push] = await Promise.all([k.reloadRules('SIGHUP'), k.push(signed(pushText, 1))]);
    expect(push.ok).toBe(true);
    expect(file).toBeNull();
    expect(k.inForce).toEqual({ hash: hashOf(pushText), serial: 1, fromController: true });
    expect(loop.calls.filter((c) => c.startsWith('ruleSet'))).toEqual([
      `ruleSet controller serial 1 ${hashOf(pushText).slice(0, 12)}`,
    ]);
    expect(events('rulesFileIgnored')).toMatchObject([{ file: FILE, reason: 'SIGHUP' }]);
  });

  it('an unchanged file is neither applied nor persisted again; the feed is told only of new proxies', async () => {
    const { k, loop, saved, selections } = keeper();
    await k.reloadRules('boot');
    await k.reloadRules('SIGHUP');
    await Promise.resolve();
    expect(loop.calls.filter((c) => c.startsWith('ruleSet'))).toHaveLength(1);
    expect(saved).toHaveLength(1);
    expect(selections).toEqual([k.selection]);
    expect(k.selection.proxies).toEqual({ frontends: [], backends: ['be_app'] });
    await k.reloadRules('SIGHUP', bytes('198.18.200.7 = b:be_app\n'));
    expect(selections).toHaveLength(1);
    await k.push(signed(pushText, 1));
    expect(selections).toHaveLength(2);
    expect(k.selection.proxies).toEqual({ frontends: ['fe_web'], backends: ['be_app'] });
  });

  it('with HAProxy unreadable the proxies go unchecked and the loop is not seeded', async () => {
    const { k, loop, events } = keeper({ health: null });
    expect(await k.push(signed('198.18.200.9 = b:be_gone\n', 1))).toMatchObject({ ok: true });
    expect(loop.calls).toEqual([expect.stringMatching(/^ruleSet controller serial 1 /)]);
    expect(events('haproxyReadFailed')).toMatchObject([{ level: 40, op: 'judgeRuleSet' }]);
  });

  it('a failed write is logged and the rule set stays in force', async () => {
    const { k, events } = keeper({ failWrites: true });
    expect(await k.push(signed(pushText, 1))).toMatchObject({ ok: true });
    expect(k.inForce?.serial).toBe(1);
    expect(events('stateWriteFailed')).toMatchObject([{ op: 'saveRuleSet', err: { message: 'ENOSPC' } }]);
  });

  it('without a rules file there is nothing to reload', async () => {
    const { k, loop } = keeper({ rules: { file: undefined } });
    expect(await k.reloadRules('SIGHUP')).toBeNull();
    expect(loop.calls).toEqual([]);
  });
});
