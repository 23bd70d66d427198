import { describe, expect, it } from 'vitest';
import { matches, parseSelector } from '../src/model/selector.js';

describe('parseSelector', () => {
  it('reads key=value pairs, blanks around them aside', () => {
    expect(parseSelector('site=par1,role=edge')).toEqual([
      ['site', 'par1'],
      ['role', 'edge'],
    ]);
    expect(parseSelector('  site = par1 , rack.zone-a=r_1 ')).toEqual([
      ['site', 'par1'],
      ['rack.zone-a', 'r_1'],
    ]);
  });

  it('takes an empty value', () => {
    expect(parseSelector('role=')).toEqual([['role', '']]);
  });

  it('is no selector (empty) for an empty or blank text', () => {
    expect(parseSelector('')).toEqual([]);
    expect(parseSelector('   ')).toEqual([]);
  });

  it('is null for anything that is not key=value pairs', () => {
    for (const bad of [
      'site',
      'site=par1,',
      '=par1',
      'site==par1',
      'site=par 1',
      'site=par1;role=edge',
      'a=b=c',
    ])
      expect(parseSelector(bad), bad).toBeNull();
  });
});

describe('matches', () => {
  const labels = { site: 'par1', role: 'edge' };

  it('holds when every pair holds', () => {
    expect(matches([], labels)).toBe(true);
    expect(matches([['site', 'par1']], labels)).toBe(true);
    expect(
      matches(
        [
          ['site', 'par1'],
          ['role', 'edge'],
        ],
        labels,
      ),
    ).toBe(true);
  });

  it('fails when any pair fails, or the label is missing', () => {
    expect(
      matches(
        [
          ['site', 'par1'],
          ['role', 'core'],
        ],
        labels,
      ),
    ).toBe(false);
    expect(matches([['rack', 'r1']], labels)).toBe(false);
    expect(matches([['rack', '']], labels)).toBe(false);
    expect(matches([['rack', '']], { rack: '' })).toBe(true);
  });
});
