import { LABEL_SELECTOR } from '../src/index.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SelectorProblem } from '../src/label-selector.js';
import {
  formatSelector,
  matchesSelector,
  parseSelector,
  SelectorSyntaxError,
} from '../src/label-selector.js';

function syntaxError(text: string): SelectorSyntaxError {
  try {
    parseSelector(text);
  } catch (err) {
    if (err instanceof SelectorSyntaxError) return err;
    throw err;
  }
  throw new Error(`${JSON.stringify(text)} parsed`);
}

describe('parseSelector', () => {
  it('reads key=value pairs, sorted by key', () => {
    expect(parseSelector('site=par1,role=edge')).toEqual({
      pairs: [
        ['role', 'edge'],
        ['site', 'par1'],
      ],
    });
    expect(parseSelector('  site = par1 , role=edge ').pairs).toHaveLength(2);
    expect(parseSelector('a_b-c=X_9').pairs).toEqual([['a_b-c', 'X_9']]);
  });

  it.each<[string, SelectorProblem, number]>([
    ['', 'empty', 1],
    ['   ', 'empty', 4],
    ['site', 'expectedEquals', 5],
    ['site par1', 'expectedEquals', 6],
    ['site=', 'expectedValue', 6],
    ['site=,role=edge', 'expectedValue', 6],
    ['=par1', 'expectedKey', 1],
    ['site=par1,', 'expectedKey', 11],
    ['site=par1,,role=edge', 'expectedKey', 11],
    ['si.te=par1', 'badCharacter', 3],
    ['site=par.1', 'badCharacter', 9],
    ['site=par1 role=edge', 'badCharacter', 11],
    ['site=par1;role=edge', 'badCharacter', 10],
    ['site!=par1', 'badCharacter', 5],
    [`site=${'x'.repeat(65)}`, 'tooLong', 6],
    ['site=par1,role=edge,site=ams1', 'duplicateKey', 21],
  ])('refuses %j: %s at column %i', (text, problem, column) => {
    const err = syntaxError(text);
    expect(err).toMatchObject({ code: 'SELECTOR_SYNTAX', problem, column, selector: text });
    expect(err.message).toContain(`column ${column}`);
  });

  it('formats the canonical form the contracts accept, which parses back to the same selector', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(token, token), { minLength: 1, maxLength: 6, selector: ([k]) => k }),
        (pairs) => {
          const text = pairs.map(([k, v]) => `${k}=${v}`).join(',');
          const parsed = parseSelector(text);
          const canonical = formatSelector(parsed);
          expect(LABEL_SELECTOR.test(canonical)).toBe(true);
          expect(parseSelector(canonical)).toEqual(parsed);
          expect(formatSelector(parseSelector(canonical))).toBe(canonical);
        },
      ),
    );
  });
});

describe('matchesSelector', () => {
  const s = parseSelector('site=par1,role=edge');
  it.each([
    [{ site: 'par1', role: 'edge' }, true],
    [{ site: 'par1', role: 'edge', rack: 'r1' }, true],
    [{ site: 'par1' }, false],
    [{ site: 'ams1', role: 'edge' }, false],
    [{}, false],
  ])('%j -> %s', (labels, want) => {
    expect(matchesSelector(s, labels)).toBe(want);
  });

  it('does not take inherited properties for labels', () => {
    expect(matchesSelector(parseSelector('constructor=x'), {})).toBe(false);
  });
});
