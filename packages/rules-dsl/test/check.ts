import { expect } from 'vitest';
import type { Diagnostic } from '../src/index.js';
import { DIAGNOSTIC_CODES, formatSource, parse } from '../src/index.js';

/** Every diagnostic points inside the text, quotes its line, and has a known code. */
export function expectDiagnosticsInRange(text: string, diagnostics: readonly Diagnostic[]): void {
  const lines = text.split('\n');
  // Plain checks collected into one assertion: thousands of expect() calls would dominate the run time.
  const problems = diagnostics.flatMap((d) => {
    const found: string[] = [];
    if (!Object.hasOwn(DIAGNOSTIC_CODES, d.code)) found.push('unknown code');
    else if ((d.severity === 'warning') !== DIAGNOSTIC_CODES[d.code].startsWith('warning:'))
      found.push('severity');
    if (d.line < 1 || d.line > lines.length) found.push('line out of range');
    if (d.lineText !== lines[d.line - 1]?.replace(/\r$/, '')) found.push('lineText');
    if (d.column < 1 || d.column > d.lineText.length + 1) found.push('column out of range');
    if (!(d.length >= 1)) found.push('length');
    if (d.message === '') found.push('empty message');
    return found.length ? [{ ...d, found }] : [];
  });
  if (problems.length) expect(problems).toEqual([]);
}

/** Parses arbitrary text: never throws, diagnostics in range, and a valid file formats to a fixed point. */
export function checkAnyText(text: string): void {
  const result = parse(text, { file: 'fuzz.rules' });
  expectDiagnosticsInRange(text, result.diagnostics);
  const formatted = formatSource(text);
  // Plain comparisons first; expect() only when something is off, since it is costly in a loop of thousands.
  const consistent =
    result.ok === !result.diagnostics.some((d) => d.severity === 'error') &&
    result.locations.length === result.ruleSet.rules.length &&
    formatted.ok === result.ok;
  if (!consistent) {
    expect(result.ok).toBe(!result.diagnostics.some((d) => d.severity === 'error'));
    expect(result.locations).toHaveLength(result.ruleSet.rules.length);
    expect(formatted.ok).toBe(result.ok);
  }
  if (!formatted.ok) return;
  const again = parse(formatted.text);
  expect(again.ok).toBe(true);
  expect(again.ruleSet).toEqual(result.ruleSet);
  expect(formatSource(formatted.text)).toMatchObject({ ok: true, changed: false, text: formatted.text });
}
