import { describe, expect, it } from 'vitest';
import { matches, parseSelector } from '../src/model/selector.js';

describe('parseSelector', () => {
  it('reads key=value pairs as the API does: blanks around them aside, sorted by key', () => {
    expect(parseSelector('site=par1,role=edge')).toEqual([
      ['role', 'edge'],
      ['site', 'par1'],
    ]);
    expect(parseSelector('  site = par1 , rack-zone_a=r_1 ')).toEqual([
      ['rack-zone_a', 'r_1'],
      ['site', 'par1'],
    ]);
  });

  it('refuses what the API refuses: an empty value, a dot, a key given twice', () => {
    for (const bad of ['role=', 'rack.zone=a', 'site=par1,site=ams1'])
      expect(parseSelector(bad), bad).toBeNull();
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
