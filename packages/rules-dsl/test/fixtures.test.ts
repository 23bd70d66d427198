import { existsSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DiagnosticCode, ParseLimits } from '../src/index.js';
import {
  DIAGNOSTIC_CODES,
  format,
  formatDiagnostics,
  formatSource,
  parse,
  validateRuleSet,
} from '../src/index.js';

/**
 * Table-driven over test/fixtures/{valid,invalid}/*.rules. `UPDATE_FIXTURES=1 vitest run` rewrites the
 * expected files from the current output; every rewritten expectation must then be read and checked by hand.
 */
const update = process.env['UPDATE_FIXTURES'] === '1';
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

function rulesFiles(dir: string): string[] {
  return readdirSync(join(fixtures, dir))
    .filter((f) => f.endsWith('.rules'))
    .sort();
}

function expectFile(path: string, actual: string | undefined): void {
  if (update) {
    if (actual === undefined) {
      if (existsSync(path)) unlinkSync(path);
    } else {
      writeFileSync(path, actual);
    }
    return;
  }
  if (actual === undefined) {
    expect(existsSync(path), `${path} should not exist`).toBe(false);
  } else {
    expect(existsSync(path), `${path} is missing (run UPDATE_FIXTURES=1 vitest run and review it)`).toBe(
      true,
    );
    expect(actual).toBe(readFileSync(path, 'utf8'));
  }
}

/** The limits a fixture sets in a comment line such as `# limits: maxRules=3, maxBytes=100`. */
function limitsOf(source: string): Partial<ParseLimits> {
  const line = /^# limits: (.*)$/m.exec(source)?.[1];
  if (!line) return {};
  return Object.fromEntries(
    line.split(',').map((pair) => {
      const [key, value] = pair.split('=').map((s) => s.trim());
      return [key, Number(value)];
    }),
  );
}

const codeOfFile = (name: string): DiagnosticCode | undefined => {
  const code = name
    .replace(/\.rules$/, '')
    .toUpperCase()
    .replace(/-/g, '_');
  return Object.hasOwn(DIAGNOSTIC_CODES, code) ? (code as DiagnosticCode) : undefined;
};

describe('valid fixtures', () => {
  const files = rulesFiles('valid');

  it('exist', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files)('%s', (name) => {
    const base = join(fixtures, 'valid', name.replace(/\.rules$/, ''));
    const source = readFileSync(join(fixtures, 'valid', name), 'utf8');
    const result = parse(source, { file: name });
    expect(result.ok).toBe(true);
    expect(result.diagnostics.every((d) => d.severity === 'warning')).toBe(true);

    const formatted = formatSource(source, { file: name });
    if (!formatted.ok) throw new Error(`formatSource failed on ${name}`);
    expectFile(`${base}.formatted`, formatted.text);
    expectFile(`${base}.ruleset.json`, `${JSON.stringify(result.ruleSet, null, 2)}\n`);
    expectFile(
      `${base}.diagnostics`,
      result.diagnostics.length ? `${formatDiagnostics(result.diagnostics)}\n` : undefined,
    );

    // The formatted text means the same, is a fixed point, and the compiled rule set survives JSON.
    const reparsed = parse(formatted.text);
    expect(reparsed.ruleSet).toEqual(result.ruleSet);
    expect(formatSource(formatted.text)).toMatchObject({ ok: true, changed: false, text: formatted.text });
    expect(parse(format(result.ruleSet)).ruleSet).toEqual(result.ruleSet);
    expect(validateRuleSet(JSON.parse(JSON.stringify(result.ruleSet)))).toMatchObject({
      ok: true,
      ruleSet: result.ruleSet,
    });
  });
});

describe('invalid fixtures', () => {
  const files = rulesFiles('invalid');

  it.each(files)('%s', (name) => {
    const base = join(fixtures, 'invalid', name.replace(/\.rules$/, ''));
    const source = readFileSync(join(fixtures, 'invalid', name), 'utf8');
    const result = parse(source, { file: name, ...limitsOf(source) });
    expect(result.diagnostics.length).toBeGreaterThan(0);
    expectFile(`${base}.diagnostics`, `${formatDiagnostics(result.diagnostics)}\n`);

    const code = codeOfFile(name);
    if (code) {
      // A file named after a code holds only diagnostics of that code, and is invalid exactly for errors.
      expect(new Set(result.diagnostics.map((d) => d.code))).toEqual(new Set([code]));
      expect(result.ok).toBe(DIAGNOSTIC_CODES[code].startsWith('warning:'));
    }
    for (const d of result.diagnostics) {
      expect(d.file).toBe(name);
      expect(d.lineText).toBe(source.split('\n')[d.line - 1]?.replace(/\r$/, ''));
      expect(d.column).toBeGreaterThanOrEqual(1);
      expect(d.column).toBeLessThanOrEqual(d.lineText.length + 1);
    }
  });

  it('cover every diagnostic code with a file of its own', () => {
    const covered = files.map(codeOfFile).filter((c) => c !== undefined);
    expect(new Set(covered)).toEqual(new Set(Object.keys(DIAGNOSTIC_CODES)));
  });
});
