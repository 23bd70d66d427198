import { parse } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import type { Acceptance } from '../src/core/accept-rule-set.js';
import { feedSelection } from '../src/core/feed-selection.js';
import type { BootSources, BootStep, RuleSetInForce } from '../src/core/rule-set-precedence.js';
import { bootSteps, rulesFileStandsAside, succeed } from '../src/core/rule-set-precedence.js';

const accepted = (hash: string, serial: number, unchanged = false): Acceptance => ({
  ok: true,
  ruleSet: parse('198.18.200.1 = true\n').ruleSet,
  hash,
  serial,
  unchanged,
  selection: feedSelection(null),
  warnings: [],
});
const refused: Acceptance = { ok: false, code: 'RULESET_REPLAYED', reason: 'serial 2 is not newer' };
const file: RuleSetInForce = { hash: 'f1', serial: 0, fromController: false };
const pushed: RuleSetInForce = { hash: 'c3', serial: 3, fromController: true };

describe('rule-set precedence', () => {
  const boot: [string, BootSources, BootStep[]][] = [
    [
      'the controller first, then the file, then its copy',
      { fromController: true, rulesFile: true, persisted: 'controller' },
      ['persistedController', 'rulesFile'],
    ],
    [
      'a persisted push is ignored without rules.fromController',
      { fromController: false, rulesFile: true, persisted: 'controller' },
      ['rulesFile'],
    ],
    [
      "the file's last good copy after the file",
      { fromController: true, rulesFile: true, persisted: 'file' },
      ['rulesFile', 'persistedFile'],
    ],
    [
      "the file's copy even with no file configured any more",
      { fromController: true, rulesFile: false, persisted: 'file' },
      ['persistedFile'],
    ],
    ['nothing to try', { fromController: true, rulesFile: false, persisted: null }, []],
  ];
  it.each(boot)('boot: %s', (_name, sources, steps) => {
    expect(bootSteps(sources)).toEqual(steps);
  });

  it('the rules file stands aside only while a controller rule set is in force', () => {
    expect(rulesFileStandsAside(null)).toBe(false);
    expect(rulesFileStandsAside(file)).toBe(false);
    expect(rulesFileStandsAside(pushed)).toBe(true);
  });

  it('a refused rule set leaves the one in force, whatever its source', () => {
    for (const source of ['file', 'controller', 'persisted'] as const) {
      expect(succeed(pushed, refused, source)).toEqual({ apply: false, inForce: pushed });
      expect(succeed(null, refused, source)).toEqual({ apply: false, inForce: null });
    }
  });

  it('an unchanged rule set is not applied again, except when nothing is in force', () => {
    expect(succeed(file, accepted('f1', 0, true), 'file')).toEqual({ apply: false, inForce: file });
    expect(succeed(null, accepted('f1', 0, true), 'file')).toMatchObject({
      apply: true,
      inForce: { hash: 'f1', serial: 0, fromController: false },
    });
  });

  it('the same rules re-issued at a higher serial are taken, so that the serial in force is the one acked', () => {
    expect(succeed(pushed, accepted(pushed.hash, pushed.serial, true), 'controller')).toEqual({
      apply: false,
      inForce: pushed,
    });
    expect(succeed(pushed, accepted(pushed.hash, pushed.serial + 4, true), 'controller')).toMatchObject({
      apply: true,
      inForce: { hash: pushed.hash, serial: pushed.serial + 4, fromController: true },
    });
  });

  it('a push, or a persisted rule set with a serial, counts as the controller', () => {
    expect(succeed(file, accepted('c4', 4), 'controller').inForce).toEqual({
      hash: 'c4',
      serial: 4,
      fromController: true,
    });
    expect(succeed(null, accepted('c3', 3), 'persisted').inForce).toEqual(pushed);
    expect(succeed(null, accepted('f0', 0), 'persisted').inForce).toEqual({
      hash: 'f0',
      serial: 0,
      fromController: false,
    });
    expect(succeed(pushed, accepted('f2', 0), 'file').inForce).toEqual({
      hash: 'f2',
      serial: 0,
      fromController: false,
    });
  });
});
