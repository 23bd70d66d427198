import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../src/cli/io.js';
import { processIO } from '../src/cli/io.js';
import { EXIT, main } from '../src/cli/main.js';
import { generateRules } from '../bench/generate.js';
import { deepNot, manyRules, repeatedTerms } from './inputs.js';

/**
 * `rhi-rules` on the inputs of the issue "agent: fail safe under operator mistakes" (point 4): every
 * subcommand answers with diagnostics and an exit status, never a stack trace, and prints little.
 */

/** An in-memory CliIO that, like the real one, hands out at most `maxBytes` + 1 bytes of a file. */
function run(argv: string[], files: Record<string, string>, io: Partial<CliIO> = {}) {
  const out = { stdout: '', stderr: '' };
  const code = main(argv, {
    stdout: (text) => void (out.stdout += text),
    stderr: (text) => void (out.stderr += text),
    readFile: (path, maxBytes) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text.slice(0, maxBytes + 1);
    },
    writeFile: () => {
      throw new Error('no writes here');
    },
    ...io,
  });
  return { code, ...out };
}

const STACK_FRAME = /^\s+at /m;

const state = JSON.stringify({
  frontends: {},
  backends: { be_x: { up: true }, be_x1: { up: true }, a: { up: true } },
});
// The incident's file: about 20 MB of valid generated rules (lint passed it, eval died of a RangeError).
const big = generateRules(330_000);
const files = {
  'repeat.cfg': repeatedTerms(20_000),
  'big.cfg': big.text,
  'deep.cfg': deepNot(100_000),
  'many.cfg': manyRules(200_000),
  'state.json': state,
};

const commands = (file: string) => [
  ['lint', file],
  ['fmt', file],
  ['fmt', '--check', file],
  ['eval', file, '--state', 'state.json'],
  ['eval', file, '--state', 'state.json', '--json'],
  ['explain', file, '--state', 'state.json'],
];

describe.each([
  {
    file: 'repeat.cfg',
    size: '180 KB, 20,000 repeated terms',
    first: "repeat.cfg:1:29: warning RULE_REPEATED_TERM: 'b:be_x1' appears twice in all()",
    error:
      'repeat.cfg:1:9011: error RULE_TOO_MANY_TERMS: more than 1000 terms in one rule, aggregators included (the limit, maxTermsPerRule)',
    last: '1 error, 998 warnings',
  },
  {
    file: 'big.cfg',
    size: '20 MB, 330,000 rules',
    first:
      'big.cfg:1:1: error RULE_SET_TOO_LARGE: the rule set is larger than 4194304 bytes (the limit, maxBytes); none of it is read',
    error: undefined,
    last: '1 error, 0 warnings',
  },
  {
    file: 'deep.cfg',
    size: '100,000 levels of not()',
    first: 'deep.cfg:1:148: error RULE_TOO_DEEP: expressions are nested deeper than 32 levels',
    error: undefined,
    last: '1 error, 0 warnings',
  },
  {
    file: 'many.cfg',
    size: '200,000 rules',
    first:
      'many.cfg:10001:1: error RULE_SET_TOO_MANY_RULES: more than 10000 rules (the limit, maxRules): this is rule 10001; the rest of the file is not read',
    error: undefined,
    last: '1 error, 0 warnings',
  },
])('rhi-rules on $file ($size)', ({ file, first, error, last }) => {
  it.each(commands(file).map((argv) => [argv.join(' '), argv] as const))(
    'rhi-rules %s: exit 1, diagnostics on stderr, no stack trace',
    (_, argv) => {
      const r = run([...argv], files);
      expect(r.code).toBe(EXIT.findings);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toMatch(STACK_FRAME);
      const lines = r.stderr.split('\n');
      expect(lines[0]).toBe(first);
      if (error) expect(lines).toContain(error);
      expect(lines.at(-2)).toBe(last);
      expect(r.stderr.length).toBeLessThan(64 * 1024);
    },
  );
});

describe('rhi-rules limit options', () => {
  it('eval --max-rules 200000 --max-routes 200000 prints a table of 200,000 routes', () => {
    const r = run(
      ['eval', 'many.cfg', '--state', 'state.json', '--max-rules', '200000', '--max-routes', '200000'],
      files,
    );
    expect(r).toMatchObject({ code: EXIT.ok, stderr: '' });
    const lines = r.stdout.split('\n');
    expect(lines).toHaveLength(200_002);
    expect(lines[1]).toBe('vol1   10.0.0.0/32      yes        b:a up');
    expect(lines.at(-2)).toBe('vol1   10.3.13.63/32    yes        b:a up');
  });

  it.each([
    [['--max-rules', '2'], 'many.cfg', 'many.cfg:3:1: error RULE_SET_TOO_MANY_RULES: '],
    [['--max-routes', '1'], 'many.cfg', 'many.cfg:2:1: error RULE_SET_TOO_MANY_ROUTES: '],
    [['--max-bytes', '10'], 'many.cfg', 'many.cfg:1:1: error RULE_SET_TOO_LARGE: '],
    [['--max-terms', '0'], 'many.cfg', 'many.cfg:1:12: error RULE_TOO_MANY_TERMS: '],
    [['--max-depth', '1'], 'deep.cfg', 'deep.cfg:1:24: error RULE_TOO_DEEP: '],
  ])('lint %j %s', (options, file, diagnostic) => {
    const r = run(['lint', file, ...options], files);
    expect(r.code).toBe(EXIT.findings);
    expect(r.stderr.split('\n')[0]?.startsWith(diagnostic)).toBe(true);
  });

  it('lists as many diagnostics as --max-diagnostics says', () => {
    const r = run(['lint', 'repeat.cfg', '--max-diagnostics', '2'], files);
    expect(r.stderr.split('\n').filter((l) => / (error|warning) RULE_/.test(l))).toEqual([
      "repeat.cfg:1:29: warning RULE_REPEATED_TERM: 'b:be_x1' appears twice in all()",
      "repeat.cfg:1:38: warning RULE_REPEATED_TERM: 'b:be_x1' appears twice in all()",
      'repeat.cfg:1:9011: error RULE_TOO_MANY_TERMS: more than 1000 terms in one rule, aggregators included (the limit, maxTermsPerRule)',
      'repeat.cfg:1:47: warning RULE_TOO_MANY_DIAGNOSTICS: 996 more warnings from here on are not listed; at most 2 errors and 2 warnings are (the limit, maxDiagnostics)',
    ]);
  });

  it.each([
    [['--max-rules', 'many'], "--max-rules takes a whole number, not 'many'"],
    [['--max-bytes', '1.5'], "--max-bytes takes a whole number, not '1.5'"],
    [['--max-depth', '257'], '--max-depth is at most 256'],
  ])('exits 2 on %j', (options, message) => {
    expect(run(['lint', 'many.cfg', ...options], files)).toMatchObject({
      code: EXIT.usage,
      stderr: `rhi-rules: ${message}\nRun 'rhi-rules --help' for usage.\n`,
    });
  });
});

describe('rhi-rules internal errors', () => {
  it('are one line and exit status 2, without a stack trace', () => {
    const r = run(
      ['eval', 'five.cfg', '--state', 'state.json'],
      { ...files, 'five.cfg': manyRules(5) },
      {
        stdout: () => {
          throw new RangeError('Invalid string length');
        },
      },
    );
    expect(r).toMatchObject({
      code: EXIT.usage,
      stderr: 'rhi-rules: internal error (please report it): RangeError: Invalid string length\n',
    });
  });
});

describe('processIO.readFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rhi-rules-io-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file whole within the limit, and no more than the limit and one byte of a 20 MB file', () => {
    const small = join(dir, 'small.cfg');
    writeFileSync(small, '198.18.200.1 = b:é\n');
    expect(processIO.readFile(small, 100)).toBe('198.18.200.1 = b:é\n');
    expect(processIO.readFile(small, 20)).toBe('198.18.200.1 = b:é\n');
    const path = join(dir, 'big.cfg');
    writeFileSync(path, big.text);
    expect(processIO.readFile(path, 4 * 1024 * 1024)).toBe(big.text.slice(0, 4 * 1024 * 1024 + 1));
  });

  it('ends an endless input at the limit', () => {
    expect(processIO.readFile('/dev/zero', 100_000)).toBe('\0'.repeat(100_001));
  });

  it('waits on standard input for a writer that is slow to write (a non-blocking pipe)', () => {
    // A shell pipe into a Node process of its own, as in `slow-command | rhi-rules lint -`. Importing
    // node:process as bin/rhi-rules.js does reads every property of process, process.stdin too, which
    // makes a pipe on standard input non-blocking: a read before the writer wrote gets EAGAIN.
    const io = fileURLToPath(new URL('../src/cli/io.ts', import.meta.url));
    const script = `import process from 'node:process';
      import { processIO } from ${JSON.stringify(io)};
      process.stdout.write(JSON.stringify(processIO.readFile('-', 1000)));`;
    const child = spawnSync(
      '/bin/sh',
      [
        '-c',
        `(sleep 0.3; printf '10.0.0.1 = b:a\\n'; sleep 0.1; printf '10.0.0.2 = b:a\\n') | "$NODE" --input-type=module -e "$SCRIPT"`,
      ],
      { encoding: 'utf8', env: { ...process.env, NODE: process.execPath, SCRIPT: script } },
    );
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toBe('10.0.0.1 = b:a\n10.0.0.2 = b:a\n');
  });
});
