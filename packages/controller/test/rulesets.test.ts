import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publicKeyFrom, verifySignedRuleSet } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import { loadSigningKey, SigningKeyError, writeKeyPair } from '../src/config/signing-key.js';
import { buildRecord, lintUpload, MAX_LISTED_DIAGNOSTICS } from '../src/rulesets/lint-upload.js';
import { serialFloor, whatIfNodes } from '../src/rulesets/what-if-input.js';
import type { NodeSummary } from '../src/view/summaries.js';
import { status } from './support/statuses.js';

const summary = (name: string, over: Partial<NodeSummary> = {}): NodeSummary => ({
  name,
  state: 'up',
  labels: { site: 'par1', role: 'edge' },
  agentVersion: '0.1.0',
  ruleSet: null,
  drained: false,
  haproxyReachable: true,
  birdReachable: true,
  lastHeard: new Date().toISOString(),
  routes: 1,
  desired: 1,
  ...over,
});

describe('lintUpload', () => {
  it('counts the rules and routes of a good text, and keeps its warnings', () => {
    const lint = lintUpload('198.18.200.1,198.18.200.2 = all(b:be_app)\n198.18.200.3 = all(b:x)\n', 'r');
    expect(lint).toMatchObject({ ok: true, rules: 2, routes: 3 });
  });

  it('refuses a text with errors: each with its file, line and column, errors listed first', () => {
    const lint = lintUpload('198.18.200.1 = all(b:be_app\n\n198.18.200.9 = bogus(b:x)\n', 'edge.cfg');
    expect(lint.ok).toBe(false);
    if (lint.ok) return;
    expect(lint.code).toBe('RULESET_INVALID');
    expect(lint.message).toMatch(/^edge\.cfg: \d+ errors?, the first at 1:\d+: /);
    expect(lint.diagnostics.map((d) => [d.file, d.line])).toContainEqual(['edge.cfg', 3]);
    expect(lint.diagnostics.every((d) => d.severity === 'error')).toBe(true);
    expect(lint.text).toContain('edge.cfg:3:');
  });

  it('lists only the first diagnostics of a text with very many, and counts them all', () => {
    const text = Array.from({ length: MAX_LISTED_DIAGNOSTICS + 50 }, () => '198.18.200.1 = ').join('\n');
    const lint = lintUpload(text, 'many');
    if (lint.ok) throw new Error('expected a refusal');
    expect(lint.diagnostics.length).toBeLessThanOrEqual(MAX_LISTED_DIAGNOSTICS);
    expect(lint.errors).toBeGreaterThanOrEqual(MAX_LISTED_DIAGNOSTICS + 50);
    expect(lint.errors).toBeGreaterThan(lint.diagnostics.length);
  });

  it('refuses a text without rules: it would withdraw every route it reaches', () => {
    expect(lintUpload('# later\n\n', 'r')).toMatchObject({ ok: false, code: 'RULESET_EMPTY' });
  });

  it('refuses a text past the size limit it is given', () => {
    const lint = lintUpload('198.18.200.1 = all(b:be_app)\n'.repeat(10), 'r', { maxRules: 3 });
    expect(lint).toMatchObject({ ok: false, code: 'RULESET_INVALID' });
  });
});

describe('buildRecord', () => {
  it('signs the rules at the serial given, as the agents verify them', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const lint = lintUpload('198.18.200.1 = all(b:be_app)\n', 'r');
    if (!lint.ok) throw new Error('fixture');
    const record = buildRecord(
      lint,
      { source: '198.18.200.1 = all(b:be_app)\n', author: 'ops', message: 'm', target: { kind: 'all' } },
      9,
      { keyId: 'k1', privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
      new Date('2026-12-03T08:00:00Z'),
    );
    expect(record).toMatchObject({
      serial: 9,
      bytes: 29,
      copyOf: null,
      createdAt: '2026-12-03T08:00:00.000Z',
    });
    const trusted = new Map([
      ['k1', publicKeyFrom(publicKey.export({ type: 'spki', format: 'pem' }).toString())],
    ]);
    const verdict = verifySignedRuleSet(JSON.parse(JSON.stringify(record.signed)), trusted);
    expect(verdict.ok && verdict.envelope.serial).toBe(9);
  });
});

describe('what-if input', () => {
  it('targets the nodes a selector matches, counts the others as they are, and marks lost ones', () => {
    const nodes = [
      { summary: summary('a'), status: status('a') },
      { summary: summary('b', { labels: { site: 'ams1' } }), status: status('b') },
      { summary: summary('c', { state: 'lost' }), status: status('c') },
    ];
    const got = whatIfNodes(nodes, (n) => (n === 'a' ? undefined : undefined), {
      kind: 'selector',
      selector: 'role=edge,site=par1',
    });
    expect(got.map((n) => [n.name, n.targeted, n.lost])).toEqual([
      ['a', true, false],
      ['b', false, false],
      ['c', true, true],
    ]);
    expect(whatIfNodes(nodes, () => undefined, { kind: 'all' }).every((n) => n.targeted)).toBe(true);
  });

  it("takes each node's allowlist from its status, unknown when an older agent's status has none", () => {
    const nodes = [
      { summary: summary('a'), status: status('a', { allowlist: ['198.18.200.0/24'] }) },
      { summary: summary('b'), status: status('b') },
    ];
    expect(whatIfNodes(nodes, () => undefined, { kind: 'all' }).map((n) => n.allowlist)).toEqual([
      ['198.18.200.0/24'],
      undefined,
    ]);
  });

  it('puts the next serial above every serial a node runs', () => {
    const on = (serial: number) => ({ hash: 'a'.repeat(64), serial, source: 'controller' });
    expect(serialFloor([])).toBe(1);
    expect(
      serialFloor([
        { summary: summary('a', { ruleSet: on(4) }) },
        { summary: summary('b', { ruleSet: on(17) }) },
        { summary: summary('c') },
      ]),
    ).toBe(18);
  });
});

describe('the signing key', () => {
  const dirOf = () => mkdtemp(join(tmpdir(), 'rhi-key-'));

  it('is written as a pair, the private one 0600, and never over an existing one', async () => {
    const dir = await dirOf();
    const { privateFile, publicFile } = await writeKeyPair(join(dir, 'k'));
    expect((await stat(privateFile)).mode & 0o777).toBe(0o600);
    const key = await loadSigningKey({ signingKey: privateFile, keyId: 'k' });
    expect(key.publicKeyPem).toBe(await readFile(publicFile, 'utf8'));
    expect(key.exposedMode).toBeUndefined();
    const before = await readFile(privateFile, 'utf8');
    await expect(writeKeyPair(join(dir, 'k'))).rejects.toThrow(/k\.key exists: a key is never overwritten/);
    expect(await readFile(privateFile, 'utf8')).toBe(before);
  });

  it('is refused, naming rules.signingKey and the file, when absent, public, not ed25519 or not a key', async () => {
    const dir = await dirOf();
    const reasonFor = async (file: string) => {
      const err = await loadSigningKey({ signingKey: file, keyId: 'k' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SigningKeyError);
      return (err as Error).message;
    };
    expect(await reasonFor(join(dir, 'none.key'))).toMatch(
      /^rules\.signingKey \(.*none\.key\): cannot read it/,
    );
    const { publicFile } = await writeKeyPair(join(dir, 'p'));
    expect(await reasonFor(publicFile)).toMatch(/it is a public key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(dir, 'rsa.key'), rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(await reasonFor(join(dir, 'rsa.key'))).toMatch(
      /an rsa key: rule sets are signed with ed25519 only/,
    );
    await writeFile(join(dir, 'junk.key'), 'hello\n');
    expect(await reasonFor(join(dir, 'junk.key'))).toMatch(/not a private key in PEM/);
  });

  it('says when others may read it', async () => {
    const dir = await dirOf();
    const { privateFile } = await writeKeyPair(join(dir, 'k'));
    await chmod(privateFile, 0o644);
    expect((await loadSigningKey({ signingKey: privateFile, keyId: 'k' })).exposedMode).toBe('0644');
  });
});
