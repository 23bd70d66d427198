import { parse } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import { feedSelection, sameSelection } from '../src/core/feed-selection.js';

const selectionOf = (text: string) => {
  const result = parse(text, { file: 'rules.cfg' });
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return feedSelection(result.ruleSet);
};

describe('feedSelection', () => {
  it('reads nothing without a rule set', () => {
    expect(feedSelection(null)).toEqual({ proxies: { frontends: [], backends: [] }, withServers: false });
  });

  it('names every proxy the rules name once, nested ones included, without server rows', () => {
    expect(
      selectionOf(
        '198.18.200.1 = all(f:fe_web, any(b:be_a, not(b:be_b)))\n198.18.200.2 = atleast(1, b:be_a, f:fe_api)\n198.18.200.3 = true\n',
      ),
    ).toEqual({
      proxies: { frontends: ['fe_web', 'fe_api'], backends: ['be_a', 'be_b'] },
      withServers: false,
    });
  });

  it.each([
    ['198.18.200.1 = all(b:be_a>=2)\n'],
    ['198.18.200.1 = any(f:fe, not(b:be_a>=50%))\n'],
    ['198.18.200.1 = all(b:be_b)\n198.18.200.2 = atleast(1, b:be_b, b:be_a>=1)\n'],
  ])('reads server rows when a rule has a capacity threshold: %s', (text) => {
    expect(selectionOf(text).withServers).toBe(true);
  });

  it('tells when a new rule set needs another selection', () => {
    const a = selectionOf('198.18.200.1 = all(b:be_a)\n');
    expect(sameSelection(a, selectionOf('198.18.200.9 = any(b:be_a)\n'))).toBe(true);
    expect(sameSelection(a, selectionOf('198.18.200.1 = all(b:be_a, b:be_b)\n'))).toBe(false);
    expect(sameSelection(a, selectionOf('198.18.200.1 = all(b:be_a>=1)\n'))).toBe(false);
    expect(sameSelection(a, selectionOf('198.18.200.1 = all(f:be_a)\n'))).toBe(false);
  });
});
