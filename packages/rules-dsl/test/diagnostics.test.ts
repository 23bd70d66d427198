import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../src/index.js';
import { DIAGNOSTIC_CODES, formatDiagnostic, formatDiagnostics, parse } from '../src/index.js';

const diagnostic = (over: Partial<Diagnostic>): Diagnostic => ({
  severity: 'error',
  code: 'RULE_SYNTAX',
  message: 'm',
  file: 'f.rules',
  line: 1,
  column: 1,
  length: 1,
  lineText: 'abc',
  ...over,
});

describe('formatDiagnostic', () => {
  it('puts the caret under the column and underlines the length', () => {
    expect(formatDiagnostic(diagnostic({ column: 5, length: 3, lineText: '198.18.0.1/24 = x' }))).toBe(
      ['f.rules:1:5: error RULE_SYNTAX: m', ' 1 | 198.18.0.1/24 = x', '   |     ^~~'].join('\n'),
    );
  });

  it('widens the gutter with the line number', () => {
    expect(formatDiagnostic(diagnostic({ line: 1234, column: 2, length: 2, lineText: 'xyz' }))).toBe(
      ['f.rules:1234:2: error RULE_SYNTAX: m', ' 1234 | xyz', '      |  ^~'].join('\n'),
    );
  });

  it('points one past the end of the line for a missing token', () => {
    expect(formatDiagnostic(diagnostic({ column: 4, length: 1, lineText: 'a =' }))).toBe(
      ['f.rules:1:4: error RULE_SYNTAX: m', ' 1 | a =', '   |    ^'].join('\n'),
    );
  });

  it('never underlines past the end of the line', () => {
    expect(formatDiagnostic(diagnostic({ column: 2, length: 50, lineText: 'abc' })).split('\n')[2]).toBe(
      '   |  ^~',
    );
  });

  it('prints tabs as single spaces so that the caret stays aligned', () => {
    const out = formatDiagnostic(diagnostic({ column: 3, length: 2, lineText: '\t\tal(b:x)' }));
    expect(out.split('\n').slice(1)).toEqual([' 1 |   al(b:x)', '   |   ^~']);
  });

  it('says warning for warnings', () => {
    expect(formatDiagnostic(diagnostic({ severity: 'warning', code: 'RULE_CONSTANT' })).split('\n')[0]).toBe(
      'f.rules:1:1: warning RULE_CONSTANT: m',
    );
  });

  it('places the caret under the offending text of a real parse', () => {
    const text = 'vol2%198.18.200.1 = all(b:a)\n\t198.18.0.1/24 = al(b:be_app, b:be_x>=101%)\n';
    for (const d of parse(text).diagnostics) {
      const [, source, caret] = formatDiagnostic(d).split('\n');
      const at = (caret ?? '').indexOf('^') - (caret ?? '').indexOf('|') - 2;
      expect(at).toBe(d.column - 1);
      expect(source?.slice(source.indexOf('|') + 2).slice(at, at + d.length)).toBe(
        d.lineText.replace(/\t/g, ' ').slice(d.column - 1, d.column - 1 + d.length),
      );
    }
  });
});

describe('formatDiagnostics', () => {
  it('ends with counts of errors and warnings', () => {
    expect(formatDiagnostics([])).toBe('0 errors, 0 warnings');
    expect(
      formatDiagnostics([diagnostic({}), diagnostic({ severity: 'warning' })])
        .split('\n')
        .at(-1),
    ).toBe('1 error, 1 warning');
    expect(
      formatDiagnostics([diagnostic({}), diagnostic({})])
        .split('\n')
        .at(-1),
    ).toBe('2 errors, 0 warnings');
  });
});

describe('DIAGNOSTIC_CODES', () => {
  it('are stable RULE_ codes with a description; warnings say so', () => {
    for (const [code, description] of Object.entries(DIAGNOSTIC_CODES)) {
      expect(code).toMatch(/^RULE_[A-Z_]+$/);
      expect(description.length).toBeGreaterThan(10);
    }
    expect(
      Object.keys(DIAGNOSTIC_CODES).filter((c) =>
        DIAGNOSTIC_CODES[c as keyof typeof DIAGNOSTIC_CODES].startsWith('warning:'),
      ),
    ).toEqual(['RULE_DEFAULT_ROUTE', 'RULE_CONSTANT', 'RULE_REPEATED_TERM', 'RULE_TOO_MANY_DIAGNOSTICS']);
  });
});
