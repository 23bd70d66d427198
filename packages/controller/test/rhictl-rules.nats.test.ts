import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subjects, type RuleSetSummary } from '@rhi/contracts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/rhictl.js';
import { ControllerConfigSchema } from '../src/config/schema.js';
import { writeKeyPair } from '../src/config/signing-key.js';
import { tokenHash } from '../src/http/auth.js';
import { ControllerRuntime } from '../src/runtime.js';
import { healthReport } from './support/health.js';
import { route, status, withdrawn } from './support/statuses.js';

// `rhictl rules ...` against a controller replica on a real nats-server: lint here, the history, a
// stored text given back byte for byte, diffs, and what-ifs over simulated agents' statuses and reports.

const OPERATOR = 'operator-token-of-some-length';
const VIEWER = 'viewer-token-of-some-length';

const FIRST = [
  '# edge, first cut',
  '198.18.200.1 = all(b:be_app)',
  '198.18.200.2 = all(b:be_app, f:fe_web)   # web too',
  '',
  '198.18.200.3 = all(b:be_old)',
  '',
].join('\n');
const SECOND = [
  '# edge, second cut',
  '198.18.200.1 = all(b:be_app)',
  '198.18.200.2 = all(b:be_app)',
  '198.18.200.4 = all(b:be_new)',
  '',
].join('\n');
/** FIRST's rules in another order, grouping and comments: the same rules. */
const FIRST_AGAIN =
  '198.18.200.3 = all(b:be_old)\n# web\n198.18.200.2 = all(b:be_app,f:fe_web)\n198.18.200.1 = all( b:be_app )\n';
const BROKEN = '198.18.200.1 = all(b:be_app)\n198.18.200.2 = nope(b:x)\n';

describe('rhictl rules on a real controller', () => {
  let nats: NatsInstance;
  let nc: NatsConnection;
  let dir: string;
  let replica: ControllerRuntime;
  let url = '';
  const serials: number[] = [];
  const hashes: string[] = [];
  const file = (name: string) => join(dir, name);

  const run = async (args: string[], env: Record<string, string> = { RHICTL_TOKEN: VIEWER }) => {
    let out = '';
    let err = '';
    const code = await main(
      args,
      { RHICTL_URL: url, ...env },
      { write: (t) => void (out += t) },
      { write: (t) => void (err += t) },
    );
    return { code, out, err };
  };
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown, token = OPERATOR) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // The answers are read deep, field by field, and checked by the assertions themselves.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const upload = async (source: string, message: string, target?: string) => {
    const r = await call('POST', '/api/v1/rulesets', {
      source,
      message,
      ...(target === undefined ? {} : { target }),
    });
    expect(r.status).toBe(201);
    return r.body.ruleset as RuleSetSummary;
  };

  beforeAll(async () => {
    nats = await startNats();
    dir = await mkdtemp(join(tmpdir(), 'rhi-rhictl-rules-'));
    await writeKeyPair(join(dir, 'signing'));
    replica = await ControllerRuntime.start({
      config: ControllerConfigSchema.parse({
        nats: { servers: [nats.url], user: nats.user, password: nats.password },
        api: {
          listen: '127.0.0.1:0',
          tokens: [
            { name: 'alice', role: 'operator', sha256: tokenHash(OPERATOR) },
            { name: 'victor', role: 'viewer', sha256: tokenHash(VIEWER) },
          ],
        },
        rules: { signingKey: join(dir, 'signing.key'), keyId: 'ops-2026' },
        // Long enough that the simulated nodes stay up for the whole file.
        fleet: { heartbeatMs: 60_000 },
      }),
      logger: pino({ level: 'silent' }),
      version: 'test',
    });
    url = `http://127.0.0.1:${replica.address?.port}`;
    await waitFor('the replica to reach NATS', async () => {
      const res = await fetch(`${url}/healthz`);
      return res.status === 200 ? true : undefined;
    });
    nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    for (const [name, text] of [
      ['first.cfg', FIRST],
      ['first-again.cfg', FIRST_AGAIN],
      [
        'first-med.cfg',
        FIRST.replace('198.18.200.1 = all(b:be_app)', '198.18.200.1 = all(b:be_app) with med 10'),
      ],
      ['broken.cfg', BROKEN],
      ['constant.cfg', '198.18.200.9 = true\n'],
      ['comments.cfg', '# nothing yet\n\n'],
      ['allowed.cfg', '198.18.210.1 = all(b:be_app)\n198.18.210.2 = all(b:be_app)\n'],
      ['blocked.cfg', '198.18.210.1 = all(b:be_down)\n198.18.210.2 = all(b:be_app)\n'],
      ['7', SECOND],
    ] as const)
      await writeFile(file(name), text);
    for (const [text, message] of [
      [FIRST, 'edge: first cut'],
      [SECOND, 'edge: second cut'],
    ] as const) {
      const s = await upload(text, message);
      serials.push(s.serial);
      hashes.push(s.hash);
    }
  }, 30_000);

  afterAll(async () => {
    await replica?.stop();
    await nc?.close();
    await nats?.stop();
  });

  describe('lint (here, no controller needed)', () => {
    it('passes a clean file: its counts on stdout, nothing on stderr, exit 0, with no token or URL', async () => {
      const r = await run(['rules', 'lint', file('first.cfg')], { RHICTL_URL: 'http://127.0.0.1:1' });
      expect(r).toEqual({
        code: 0,
        out: `${file('first.cfg')}: ok, 3 rules, 3 routes, 0 warnings\n`,
        err: '',
      });
    });

    it('exits 0 for warnings alone, showing each with its caret', async () => {
      const r = await run(['rules', 'lint', file('constant.cfg')], {});
      expect(r.code).toBe(0);
      expect(r.err).toContain(`${file('constant.cfg')}:1:16: warning RULE_CONSTANT:`);
      expect(r.err).toContain(' 1 | 198.18.200.9 = true\n   |                ^~~~\n0 errors, 1 warning\n');
      expect(r.out).toBe(`${file('constant.cfg')}: ok, 1 rule, 1 route, 1 warning\n`);
    });

    it('exits 1 for a file without rules, as the controller and the agents refuse it', async () => {
      const r = await run(['rules', 'lint', file('comments.cfg')], {});
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toContain(`${file('comments.cfg')}: RULESET_EMPTY: no rule`);
    });

    it('exits 1 on errors, each at file:line:column with the line and a caret under the place', async () => {
      // The broken file first: a clean one after it does not clear the exit status.
      const r = await run(['rules', 'lint', file('broken.cfg'), file('first.cfg')], {});
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        new RegExp(
          `^${file('broken.cfg')}:2:16: error RULE_UNKNOWN_AGGREGATOR: .*\n 2 \\| 198\\.18\\.200\\.2 = nope\\(b:x\\)\n   \\| {16}\\^~~~\n`,
          'm',
        ),
      );
      expect(r.err).toMatch(/^1 error, 0 warnings$/m);
      // The clean file is still reported; the broken one gets no "ok" line.
      expect(r.out).toBe(`${file('first.cfg')}: ok, 3 rules, 3 routes, 0 warnings\n`);
    });

    it('--json: each file with its counts and diagnostics', async () => {
      const r = await run(['rules', 'lint', '--json', file('broken.cfg')], {});
      expect(r.code).toBe(1);
      expect(r.err).toBe('');
      expect(JSON.parse(r.out)).toEqual({
        files: [
          {
            file: file('broken.cfg'),
            ok: false,
            rules: 1,
            routes: 1,
            errors: 1,
            warnings: 0,
            diagnostics: [
              expect.objectContaining({
                severity: 'error',
                code: 'RULE_UNKNOWN_AGGREGATOR',
                line: 2,
                column: 16,
                length: 4,
              }),
            ],
          },
        ],
      });
    });

    it('exits 2 for a file it cannot read, or none given, naming what is wrong', async () => {
      const missing = await run(['rules', 'lint', file('first.cfg'), file('absent.cfg')], {});
      expect(missing.code).toBe(2);
      expect(missing.err).toMatch(
        new RegExp(`^rhictl: cannot read rules file '${file('absent.cfg')}': ENOENT\n`),
      );
      expect(missing.out).toBe('');
      const none = await run(['rules', 'lint'], {});
      expect(none.code).toBe(2);
      expect(none.err).toMatch(/^rhictl: rules lint needs at least one file\n/);
    });
  });

  it('history: the stored rule sets newest first, one a line; --before pages; --json is the answer', async () => {
    const [a, b] = serials as [number, number];
    const r = await run(['rules', 'history', '--limit', '2']);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^SERIAL\s+CREATED\s+AUTHOR\s+TARGET\s+RULES\s+HASH\s+MESSAGE$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${b}\\s+\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+alice\\s+all\\s+3\\s+${hashes[1]!.slice(0, 12)}\\s+edge: second cut$`,
      ),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^${a}\\s+\\S+\\s+alice\\s+all\\s+3\\s+${hashes[0]!.slice(0, 12)}\\s+edge: first cut$`),
    );
    const page = await run(['rules', 'history', '--before', String(b), '--limit', '1']);
    expect(page.out.trimEnd().split('\n').slice(1)).toEqual([expect.stringMatching(new RegExp(`^${a}\\s`))]);
    const json = await run(['rules', 'history', '--limit', '2', '--json']);
    expect(JSON.parse(json.out)).toEqual(
      (await call('GET', '/api/v1/rulesets?limit=2', undefined, VIEWER)).body,
    );
    expect((await run(['rules', 'history', '--limit', 'ten'])).code).toBe(2);
  });

  it('show: the text exactly as stored on stdout, the summary on stderr; --json is the answer', async () => {
    const [a] = serials as [number];
    const r = await run(['rules', 'show', String(a)]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(FIRST);
    expect(r.err).toMatch(
      new RegExp(`^serial: +${a}\nhash: +${hashes[0]}\ncreated: +\\S+Z by alice\ntarget: +all\n`),
    );
    expect(r.err).toMatch(
      /^rules: +3 rules, 3 routes, \d+ bytes\nsigned by: +ops-2026\nmessage: +edge: first cut\n$/m,
    );
    const json = await run(['rules', 'show', String(a), '--json']);
    expect(JSON.parse(json.out)).toEqual(
      (await call('GET', `/api/v1/rulesets/${a}`, undefined, VIEWER)).body,
    );
    expect(json.err).toBe('');
  });

  it('show: 4 for a serial never stored, 2 for what is no serial', async () => {
    const missing = await run(['rules', 'show', '999999']);
    expect(missing.code).toBe(4);
    expect(missing.err).toBe('rhictl: no rule set has serial 999999 (RULESET_NOT_FOUND)\n');
    const bad = await run(['rules', 'show', 'latest']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(
      /^rhictl: show <serial> is a rule set's serial \(a whole number from 1\), not 'latest'\n/,
    );
    expect((await run(['rules', 'show'])).code).toBe(2);
  });

  it('diff of two serials: each route only in one (- and +) and each rule that changed (~), exit 1', async () => {
    const [a, b] = serials as [number, number];
    const r = await run(['rules', 'diff', String(a), String(b)]);
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      [
        `--- serial ${a}`,
        `+++ serial ${b}`,
        '- vol1%198.18.200.3/32 = all(b:be_old)',
        '~ vol1%198.18.200.2/32 = all(b:be_app, f:fe_web) -> all(b:be_app)',
        '+ vol1%198.18.200.4/32 = all(b:be_new)',
        `1 only in serial ${a}, 1 only in serial ${b}, 1 changed`,
        '',
      ].join('\n'),
    );
    const json = await run(['rules', 'diff', String(a), String(b), '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toEqual({
      onlyA: [{ route: 'vol1%198.18.200.3/32', rule: 'all(b:be_old)' }],
      onlyB: [{ route: 'vol1%198.18.200.4/32', rule: 'all(b:be_new)' }],
      changed: [{ route: 'vol1%198.18.200.2/32', a: 'all(b:be_app, f:fe_web)', b: 'all(b:be_app)' }],
    });
  });

  it('diff of a serial and a file: 0 for the same rules written otherwise, 1 for an attribute changed', async () => {
    const [a, b] = serials as [number, number];
    const same = await run(['rules', 'diff', String(a), file('first-again.cfg')]);
    expect(same.code).toBe(0);
    expect(same.out).toBe(
      `serial ${a} and ${file('first-again.cfg')}: the same rules for the same 3 routes\n`,
    );
    const med = await run(['rules', 'diff', String(a), file('first-med.cfg')]);
    expect(med.code).toBe(1);
    expect(med.out).toContain('\n~ vol1%198.18.200.1/32 = all(b:be_app) -> all(b:be_app) with med 10\n');
    expect(med.out).not.toMatch(/^[-+] /m);
    // Digits alone are a serial; ./7 is the file named 7 (SECOND: the same as serial b).
    expect((await run(['rules', 'diff', String(b), join(dir, '.', '7')])).code).toBe(0);
    const broken = await run(['rules', 'diff', String(a), file('broken.cfg')]);
    expect(broken.code).toBe(2);
    expect(broken.err).toContain(`${file('broken.cfg')}:2:16: error RULE_UNKNOWN_AGGREGATOR`);
    expect(broken.err).toContain(`rhictl: ${file('broken.cfg')} has errors: not compared\n`);
    const absent = await run(['rules', 'diff', String(a), file('absent.cfg')]);
    expect(absent.code).toBe(2);
    expect(absent.err).toMatch(/^rhictl: cannot read rules file '.*absent\.cfg': ENOENT\n/);
    expect((await run(['rules', 'diff', String(a)])).code).toBe(2);
    expect((await run(['rules', 'diff', 'x', String(b)])).code).toBe(2);
  });

  describe('whatif over simulated agents', () => {
    beforeAll(async () => {
      const now = () => new Date().toISOString();
      for (const node of ['lb-w1', 'lb-w2', 'lb-w3']) {
        nc.publish(
          subjects.status(node),
          JSON.stringify(
            status(node, {
              time: now(),
              labels: { site: 'ams1' },
              ruleSet: null,
              routes: [route('198.18.210.1/32'), withdrawn('198.18.210.2/32')],
            }),
          ),
        );
        // lb-w3 never reports its health: targeted but not simulated.
        if (node !== 'lb-w3')
          nc.publish(
            subjects.health(node),
            JSON.stringify(
              healthReport(node, {
                time: now(),
                backends: {
                  be_app: { up: true, serversUp: 2, serversTotal: 2 },
                  be_down: { up: false, serversUp: 0, serversTotal: 2 },
                },
              }),
            ),
          );
      }
      await waitFor('the nodes and their health in the view', () =>
        replica.view.node('lb-w1') &&
        replica.view.node('lb-w2') &&
        replica.view.node('lb-w3') &&
        replica.health.get('lb-w1') &&
        replica.health.get('lb-w2')
          ? true
          : undefined,
      );
    });

    it('allowed: the VIPs that change with their nodes, and last "allowed", exit 0', async () => {
      const r = await run(['rules', 'whatif', file('allowed.cfg'), '--target', 'site=ams1']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(
        new RegExp(
          `^candidate: ${file('allowed.cfg')} \\(not stored\\), target site=ams1\nnodes: 2 simulated, 2 changed, 0 drained, 1 unknown, \\d+ outside the target\n`,
        ),
      );
      expect(r.out).toMatch(/^VIP\s+ADVERTISERS\s+WITHDRAWN BY\s+ADDED BY$/m);
      expect(r.out).toMatch(/^vol1%198\.18\.210\.2\/32\s+0 -> 2\s+-\s+lb-w1, lb-w2$/m);
      // Its advertisers do not change: lb-w3 (no report) is not counted but still advertises it.
      expect(r.out).not.toMatch(/^vol1%198\.18\.210\.1\/32/m);
      expect(r.out).toContain('\nUNKNOWN lb-w3: no health report received; not simulated\n');
      expect(r.out).not.toContain('BLOCKED');
      expect(r.out.endsWith('\n\nallowed\n')).toBe(true);
    });

    it('blocked: each blocker on its line, and last "blocked (N blockers)", exit 1', async () => {
      const r = await run(['rules', 'whatif', file('blocked.cfg'), '--target', 'site=ams1']);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^vol1%198\.18\.210\.1\/32\s+2 -> 0 \(1 unknown\)\s+lb-w1, lb-w2\s+-$/m);
      expect(r.out).toContain(
        '\nBLOCKED vol1%198.18.210.1/32: 2 -> 0 advertisers, minimum 1 (withdrawn by lb-w1, lb-w2)\n',
      );
      expect(r.out.endsWith('\n\nblocked (1 blocker)\n')).toBe(true);
    });

    it('--serial: a stored rule set, with its own target; --json is the API answer', async () => {
      const stored = await upload(
        '198.18.210.1 = all(b:be_app)\n198.18.210.2 = all(b:be_nowhere)\n',
        'names a backend no node has',
        'site=ams1',
      );
      const r = await run(['rules', 'whatif', '--serial', String(stored.serial)]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(
        new RegExp(
          `^candidate: serial ${stored.serial} \\(${stored.hash.slice(0, 12)}\\), target site=ams1\n`,
        ),
      );
      // Health reports hold the proxies the nodes' rules name now: a new one is unverified, not missing.
      expect(r.out).toContain('\nUNVERIFIED lb-w1: b:be_nowhere not in its health report');
      expect(r.out).toContain('\nUNVERIFIED lb-w2: b:be_nowhere not in its health report');
      expect(r.out).not.toContain('BLOCKED');
      const json = await run(['rules', 'whatif', '--serial', String(stored.serial), '--json']);
      expect(json.code).toBe(0);
      const answer = await call('POST', '/api/v1/whatif', { serial: stored.serial }, VIEWER);
      expect(JSON.parse(json.out)).toEqual(answer.body);
      const allowed = await run(['rules', 'whatif', file('allowed.cfg'), '--target', 'site=ams1', '--json']);
      expect(allowed.code).toBe(0);
      expect(JSON.parse(allowed.out)).toMatchObject({ serial: null, guard: { allowed: true, blockers: [] } });
    });

    it('a text with errors: the diagnostics the controller returned, exit 1', async () => {
      const r = await run(['rules', 'whatif', file('broken.cfg')]);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toMatch(
        new RegExp(
          `^${file('broken.cfg')}:2:16: error RULE_UNKNOWN_AGGREGATOR: .*\n 2 \\| 198\\.18\\.200\\.2 = nope\\(b:x\\)\n   \\| {16}\\^~~~\n1 error, 0 warnings\n`,
        ),
      );
      expect(r.err).toMatch(/\nrhictl: .*broken\.cfg: 1 error, the first at 2:16: .* \(RULESET_INVALID\)\n$/);
      const json = await run(['rules', 'whatif', file('broken.cfg'), '--json']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.out)).toMatchObject({ error: { code: 'RULESET_INVALID', errors: 1 } });
    });

    it('usage errors: a file and --serial, neither, a bad serial, a bad target', async () => {
      const both = await run(['rules', 'whatif', file('allowed.cfg'), '--serial', '1']);
      expect(both.code).toBe(2);
      expect(both.err).toMatch(/^rhictl: rules whatif takes a rules file or --serial N \(one of them\)\n/);
      expect((await run(['rules', 'whatif'])).code).toBe(2);
      const bad = await run(['rules', 'whatif', '--serial', '0']);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(
        /^rhictl: --serial is a rule set's serial \(a whole number from 1\), not '0'\n/,
      );
      const target = await run(['rules', 'whatif', file('allowed.cfg'), '--target', 'site=']);
      expect(target.code).toBe(2);
      expect(target.err).toMatch(/\(SELECTOR_SYNTAX\)\n$/);
    });
  });

  it('exits 2 for a rules subcommand missing or unknown, naming it', async () => {
    const none = await run(['rules']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(
      /^rhictl: rules needs a subcommand: lint, whatif, history, show, diff, push or rollback\n/,
    );
    const unknown = await run(['rules', 'pull', file('first.cfg')]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^rhictl: unknown rules subcommand 'pull'/);
    expect((await run(['rules', 'history', '--frobnicate'])).code).toBe(2);
  });

  it('exits 3 when the controller cannot be reached, or refuses the token', async () => {
    const env = { RHICTL_TOKEN: VIEWER, RHICTL_URL: 'http://127.0.0.1:1' };
    for (const args of [
      ['rules', 'history'],
      ['rules', 'show', '1'],
      ['rules', 'whatif', file('allowed.cfg')],
      ['rules', 'diff', '1', '2'],
    ]) {
      const r = await run(args, env);
      expect(r.code).toBe(3);
      expect(r.err).toMatch(
        /^rhictl: cannot reach the controller at http:\/\/127\.0\.0\.1:1: .* \(UNREACHABLE\)\n$/,
      );
    }
    const refused = await run(['rules', 'history'], { RHICTL_TOKEN: 'not-a-token' });
    expect(refused.code).toBe(3);
    expect(refused.err).toContain('AUTH_INVALID');
    expect((await run(['rules', 'history'], {})).code).toBe(2);
  });
});
