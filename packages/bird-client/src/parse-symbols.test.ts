import { describe, expect, it } from 'vitest';
import { fixtureReply } from '../test/support/fixtures.js';
import { parseShowSymbols } from './parse-symbols.js';

describe('parseShowSymbols', () => {
  it("reads every symbol of BIRD 2.0.12's running config with its kind, padded names trimmed", () => {
    const symbols = parseShowSymbols(fixtureReply('show-symbols'));
    expect(symbols).toEqual(
      expect.arrayContaining([
        { name: 'peer1', kind: 'protocol' },
        { name: 'device1', kind: 'protocol' },
        { name: 'vol1', kind: 'protocol' },
        { name: 'vol1_v6', kind: 'protocol' },
        { name: 'master4', kind: 'routing table' },
        { name: 'master6', kind: 'routing table' },
        { name: 'ipp_bgp', kind: 'constant' },
        { name: 'as', kind: 'undefined' },
      ]),
    );
    expect(symbols.every((s) => s.name === s.name.trim() && s.name !== '')).toBe(true);
    expect(new Set(symbols.map((s) => s.name)).size).toBe(symbols.length);
  });
});
