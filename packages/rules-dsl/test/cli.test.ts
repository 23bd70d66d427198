import { describe, expect, it } from 'vitest';
import type { CliIO } from '../src/cli/io.js';
import { EXIT, main } from '../src/cli/main.js';

/** An in-memory CliIO: files in a map, output collected, writes recorded. */
function memoryIO(files: Record<string, string>) {
  const out = { stdout: '', stderr: '', writes: [] as [string, string][] };
  const io: CliIO = {
    stdout: (text) => void (out.stdout += text),
    stderr: (text) => void (out.stderr += text),
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
    writeFile: (path, text) => {
      out.writes.push([path, text]);
      files[path] = text;
    },
  };
  return { io, out, files };
}

function run(argv: string[], files: Record<string, string> = {}) {
  const m = memoryIO({ ...files });
  const code = main(argv, m.io);
  return { code, ...m.out, files: m.files };
}

const RULES = [
  '# web VIPs',
  '198.18.200.1 = all(b:be_static,b:be_app)',
  'vol2%198.18.200.5, 2001:db8::/64 = any(b:be_app, b:be_missing)',
  '198.18.201.0/24 = all(f:fe_web, b:be_app>=3) with med 10',
  '198.18.200.5 = not(b:be_static)',
  '',
].join('\n');

const STATE = JSON.stringify({
  frontends: { fe_web: { up: true } },
  backends: {
    be_static: { up: false, reason: 'DOWN', serversUp: 0, serversTotal: 2 },
    be_app: { up: true, serversUp: 2, serversTotal: 3 },
  },
});

const files = { 'rules.cfg': RULES, 'state.json': STATE };

describe('rhi-rules lint', () => {
  it('exits 0 on a valid file and says what it holds', () => {
    expect(run(['lint', 'rules.cfg'], files)).toMatchObject({
      code: EXIT.ok,
      stdout: 'rules.cfg: ok, 4 rules, 5 routes, 0 warnings\n',
      stderr: '',
    });
  });

  it('exits 0 with warnings, printed on stderr', () => {
    const r = run(['lint', 'w.cfg'], { 'w.cfg': '198.18.200.1 = true\n' });
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toBe('w.cfg: ok, 1 rule, 1 route, 1 warning\n');
    expect(r.stderr).toBe(
      [
        "w.cfg:1:16: warning RULE_CONSTANT: 'true' is constant; it is meant for debugging",
        ' 1 | 198.18.200.1 = true',
        '   |                ^~~~',
        '0 errors, 1 warning',
        '',
      ].join('\n'),
    );
  });

  it('exits 1 with every error of every file on stderr', () => {
    const r = run(['lint', 'bad.cfg', 'rules.cfg', 'worse.cfg'], {
      ...files,
      'bad.cfg': '198.18.0.1/24 = all(b:a)\n198.18.200.1 = al(b:a)\n',
      'worse.cfg': '198.18.200.1 = any()\n',
    });
    expect(r.code).toBe(EXIT.findings);
    expect(r.stdout).toBe('rules.cfg: ok, 4 rules, 5 routes, 0 warnings\n');
    expect(r.stderr).toBe(
      [
        "bad.cfg:1:1: error RULE_HOST_BITS: '198.18.0.1/24' has host bits set; did you mean '198.18.0.0/24'?",
        ' 1 | 198.18.0.1/24 = all(b:a)',
        '   | ^~~~~~~~~~~~~',
        "bad.cfg:2:16: error RULE_UNKNOWN_AGGREGATOR: unknown aggregator 'al'; did you mean 'all'?",
        ' 2 | 198.18.200.1 = al(b:a)',
        '   |                ^~',
        '2 errors, 0 warnings',
        'worse.cfg:1:19: error RULE_EMPTY_ARGS: any() needs at least one term',
        ' 1 | 198.18.200.1 = any()',
        '   |                   ^~',
        '1 error, 0 warnings',
        '',
      ].join('\n'),
    );
  });

  it('puts the caret under a parenthesis that is never closed', () => {
    const r = run(['lint', 'open.cfg'], {
      'open.cfg': '198.18.200.1 = all(b:be_static,\n198.18.200.2 = any(b:be_app)\n',
    });
    expect(r.code).toBe(EXIT.findings);
    expect(r.stderr).toBe(
      [
        "open.cfg:1:19: error RULE_SYNTAX: '(' at 1:19 is never closed (line 2 starts a new rule)",
        ' 1 | 198.18.200.1 = all(b:be_static,',
        '   |                   ^',
        '1 error, 0 warnings',
        '',
      ].join('\n'),
    );
  });

  it('exits 2 on a file it cannot read, and without files', () => {
    expect(run(['lint', 'nope.cfg'])).toMatchObject({ code: EXIT.usage, stdout: '' });
    expect(run(['lint', 'nope.cfg']).stderr).toContain("cannot read rules file 'nope.cfg': ENOENT");
    expect(run(['lint']).code).toBe(EXIT.usage);
  });
});

describe('rhi-rules fmt', () => {
  const messy =
    '# keep me\n198.18.200.1=all(b:a,b:b)   # and me\n\n\n\nvol1%198.18.200.2 = any(\n  b:c, # inner\n  b:d)\n';
  const tidy =
    '# keep me\n198.18.200.1/32 = all(b:a, b:b)  # and me\n\n# inner\n198.18.200.2/32 = any(b:c, b:d)\n';

  it('prints the canonical text, comments kept', () => {
    expect(run(['fmt', 'm.cfg'], { 'm.cfg': messy })).toMatchObject({
      code: EXIT.ok,
      stdout: tidy,
      stderr: '',
      writes: [],
    });
  });

  it('--check exits 1 when the file would change, 0 when it is canonical', () => {
    expect(run(['fmt', '--check', 'm.cfg'], { 'm.cfg': messy })).toMatchObject({
      code: EXIT.findings,
      stdout: '',
      stderr: 'm.cfg: would reformat\n',
      writes: [],
    });
    expect(run(['fmt', '--check', 't.cfg'], { 't.cfg': tidy })).toMatchObject({
      code: EXIT.ok,
      stdout: '',
      stderr: '',
    });
  });

  it('--write rewrites only a file that changes', () => {
    const r = run(['fmt', '--write', 'm.cfg'], { 'm.cfg': messy });
    expect(r).toMatchObject({
      code: EXIT.ok,
      stdout: '',
      stderr: 'm.cfg: reformatted\n',
      writes: [['m.cfg', tidy]],
    });
    expect(run(['fmt', '-w', 't.cfg'], { 't.cfg': tidy })).toMatchObject({
      code: EXIT.ok,
      writes: [],
      stderr: '',
    });
  });

  it('does not format a file with errors', () => {
    const r = run(['fmt', '--write', 'b.cfg'], { 'b.cfg': '198.18.200.1 = al(b:a)\n' });
    expect(r).toMatchObject({ code: EXIT.findings, stdout: '', writes: [] });
    expect(r.stderr).toContain('error RULE_UNKNOWN_AGGREGATOR');
  });

  it('rejects bad usage', () => {
    expect(run(['fmt', '--check', '--write', 'm.cfg'], { 'm.cfg': messy }).code).toBe(EXIT.usage);
    expect(run(['fmt', 'a.cfg', 'b.cfg'], { 'a.cfg': '', 'b.cfg': '' }).code).toBe(EXIT.usage);
    expect(run(['fmt', '--write', '-'], { '-': messy })).toMatchObject({ code: EXIT.usage, writes: [] });
  });

  it('reports a failed write as an I/O error', () => {
    const m = memoryIO({ 'm.cfg': messy });
    const io: CliIO = {
      ...m.io,
      writeFile: () => {
        throw Object.assign(new Error('read-only'), { code: 'EROFS' });
      },
    };
    expect(main(['fmt', '--write', 'm.cfg'], io)).toBe(EXIT.usage);
    expect(m.out.stderr).toContain("cannot write 'm.cfg': EROFS");
  });
});

describe('rhi-rules eval', () => {
  it('prints a table of every route in file order', () => {
    const r = run(['eval', 'rules.cfg', '--state', 'state.json'], files);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'TABLE  PREFIX           ADVERTISE  REASON',
        'vol1   198.18.200.1/32  no         b:be_static down',
        'vol2   198.18.200.5/32  yes        b:be_app up',
        'vol1   2001:db8::/64    yes        b:be_app up',
        'vol1   198.18.201.0/24  no         b:be_app>=3 2/3 usable',
        'vol1   198.18.200.5/32  yes        not(b:be_static down)',
        '',
      ].join('\n'),
    );
  });

  it('--json prints {"routes":[{table, prefix, advertise, reason}]} in file order, prefixes with masks', () => {
    const r = run(['eval', 'rules.cfg', '-s', 'state.json', '--json'], files);
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout)).toEqual({
      routes: [
        { table: 'vol1', prefix: '198.18.200.1/32', advertise: false, reason: 'b:be_static down' },
        { table: 'vol2', prefix: '198.18.200.5/32', advertise: true, reason: 'b:be_app up' },
        { table: 'vol1', prefix: '2001:db8::/64', advertise: true, reason: 'b:be_app up' },
        { table: 'vol1', prefix: '198.18.201.0/24', advertise: false, reason: 'b:be_app>=3 2/3 usable' },
        { table: 'vol1', prefix: '198.18.200.5/32', advertise: true, reason: 'not(b:be_static down)' },
      ],
    });
  });

  it('says unknown for a proxy the state does not know', () => {
    const r = run(['eval', 'u.cfg', '--state', 'state.json', '--json'], {
      ...files,
      'u.cfg': '198.18.200.9 = any(b:be_missing)\n',
    });
    expect(JSON.parse(r.stdout).routes).toEqual([
      { table: 'vol1', prefix: '198.18.200.9/32', advertise: false, reason: 'b:be_missing unknown' },
    ]);
  });

  it('exits 1 with diagnostics when the rules are invalid', () => {
    const r = run(['eval', 'bad.cfg', '--state', 'state.json'], {
      ...files,
      'bad.cfg': '198.18.200.1 = al(b:a)\n',
    });
    expect(r).toMatchObject({ code: EXIT.findings, stdout: '' });
    expect(r.stderr).toContain('bad.cfg:1:16: error RULE_UNKNOWN_AGGREGATOR');
  });

  it.each([
    ['not JSON', '{"frontends":', 'state.json: not valid JSON'],
    ['an array', '[]', 'state.json: (root):'],
    ['a missing section', '{"frontends":{}}', 'state.json: backends:'],
    [
      'a string for serversUp',
      '{"frontends":{},"backends":{"be_app":{"up":true,"serversUp":"2"}}}',
      'state.json: backends.be_app.serversUp:',
    ],
    [
      'a negative count',
      '{"frontends":{},"backends":{"be_app":{"up":true,"serversTotal":-1}}}',
      'state.json: backends.be_app.serversTotal:',
    ],
    [
      'up as a string',
      '{"frontends":{"fe_web":{"up":"yes"}},"backends":{}}',
      'state.json: frontends.fe_web.up:',
    ],
    [
      'an unknown key',
      '{"frontends":{"fe_web":{"up":true,"weight":1}},"backends":{}}',
      'state.json: frontends.fe_web:',
    ],
    [
      'more servers up than exist',
      '{"frontends":{},"backends":{"be_app":{"up":true,"serversUp":3,"serversTotal":2}}}',
      'state.json: backends.be_app: serversUp is larger than serversTotal',
    ],
  ])('exits 2 on a state file with %s, naming the path', (_, state, message) => {
    const r = run(['eval', 'rules.cfg', '--state', 'state.json'], { ...files, 'state.json': state });
    expect(r).toMatchObject({ code: EXIT.usage, stdout: '' });
    expect(r.stderr).toContain(`rhi-rules: ${message}`);
  });

  it('exits 2 without --state, with a missing state file, or with two rules files', () => {
    expect(run(['eval', 'rules.cfg'], files).stderr).toContain('--state <state.json> is required');
    expect(run(['eval', 'rules.cfg'], files).code).toBe(EXIT.usage);
    expect(run(['eval', 'rules.cfg', '--state', 'none.json'], files)).toMatchObject({ code: EXIT.usage });
    expect(run(['eval', 'rules.cfg', 'rules.cfg', '--state', 'state.json'], files).code).toBe(EXIT.usage);
  });
});

describe('rhi-rules explain', () => {
  it('explains every route without --prefix', () => {
    const r = run(['explain', 'rules.cfg', '--state', 'state.json'], files);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toBe(
      [
        '198.18.200.1/32: withdraw (table vol1, rule at rules.cfg:2)',
        '  all(b:be_static, b:be_app): false (1 of 2 hold)',
        '  ├─ b:be_static: false (down (DOWN), 0 of 2 servers usable)',
        '  └─ b:be_app: true (up, 2 of 3 servers usable)',
        '',
        'vol2%198.18.200.5/32: advertise (table vol2, rule at rules.cfg:3)',
        '  any(b:be_app, b:be_missing): true (1 of 2 hold)',
        '  ├─ b:be_app: true (up, 2 of 3 servers usable)',
        '  └─ b:be_missing: false (unknown backend)',
        '',
        '2001:db8::/64: advertise (table vol1, rule at rules.cfg:3)',
        '  any(b:be_app, b:be_missing): true (1 of 2 hold)',
        '  ├─ b:be_app: true (up, 2 of 3 servers usable)',
        '  └─ b:be_missing: false (unknown backend)',
        '',
        '198.18.201.0/24: withdraw (table vol1, rule at rules.cfg:4)',
        '  all(f:fe_web, b:be_app>=3): false (1 of 2 hold)',
        '  ├─ f:fe_web: true (up)',
        '  └─ b:be_app>=3: false (2 of 3 servers usable, need 3)',
        '',
        '198.18.200.5/32: advertise (table vol1, rule at rules.cfg:5)',
        '  not(b:be_static): true (negates false)',
        '  └─ b:be_static: false (down (DOWN), 0 of 2 servers usable)',
        '',
      ].join('\n'),
    );
  });

  it('--prefix without a table picks the prefix in every table', () => {
    const r = run(['explain', 'rules.cfg', '--state', 'state.json', '--prefix', '198.18.200.5'], files);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout.split('\n').filter((l) => !l.startsWith(' '))).toEqual([
      'vol2%198.18.200.5/32: advertise (table vol2, rule at rules.cfg:3)',
      '',
      '198.18.200.5/32: advertise (table vol1, rule at rules.cfg:5)',
      '',
    ]);
  });

  it.each(['vol2%198.18.200.5', 'vol2%198.18.200.5/32', '198.18.200.5%vol2'])(
    '--prefix %s picks one table',
    (prefix) => {
      const r = run(['explain', 'rules.cfg', '--state', 'state.json', '-p', prefix], files);
      expect(r.code).toBe(EXIT.ok);
      expect(r.stdout).toBe(
        [
          'vol2%198.18.200.5/32: advertise (table vol2, rule at rules.cfg:3)',
          '  any(b:be_app, b:be_missing): true (1 of 2 hold)',
          '  ├─ b:be_app: true (up, 2 of 3 servers usable)',
          '  └─ b:be_missing: false (unknown backend)',
          '',
        ].join('\n'),
      );
    },
  );

  it('--prefix matches IPv6 whatever its spelling', () => {
    const r = run(['explain', 'rules.cfg', '--state', 'state.json', '--prefix', '2001:DB8:0::/64'], files);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout.split('\n')[0]).toBe('2001:db8::/64: advertise (table vol1, rule at rules.cfg:3)');
  });

  it('exits 1 for a prefix no rule controls', () => {
    expect(
      run(['explain', 'rules.cfg', '--state', 'state.json', '--prefix', '198.18.200.77'], files),
    ).toMatchObject({
      code: EXIT.findings,
      stdout: '',
      stderr: 'rules.cfg: no rule controls 198.18.200.77/32\n',
    });
    expect(
      run(['explain', 'rules.cfg', '--state', 'state.json', '--prefix', 'vol3%198.18.200.1'], files),
    ).toMatchObject({
      code: EXIT.findings,
      stderr: 'rules.cfg: no rule controls vol3%198.18.200.1/32\n',
    });
  });

  it('exits 2 for a --prefix that is not a prefix', () => {
    const r = run(['explain', 'rules.cfg', '--state', 'state.json', '--prefix', '198.18.200.1/24'], files);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain("did you mean '198.18.200.0/24'?");
  });
});

describe('rhi-rules usage', () => {
  it.each([[['--help']], [['-h']], [['help']]])('%j prints usage and exits 0', (argv) => {
    const r = run(argv);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('Usage:');
    expect(r.stdout).toContain('rhi-rules lint <file>...');
  });

  it.each([[[]], [['frobnicate']], [['lint', '--bogus', 'rules.cfg']], [['eval', 'rules.cfg', '--state']]])(
    '%j exits 2 with a hint',
    (argv) => {
      const r = run(argv, files);
      expect(r.code).toBe(EXIT.usage);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^rhi-rules: .+\nRun 'rhi-rules --help' for usage\.\n$/);
    },
  );
});
