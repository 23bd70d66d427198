import type { Command, SignedRuleSet } from '@rhi/contracts';
import { parse } from '@rhi/rules-dsl';
import { describe, expect, it } from 'vitest';
import type { Acceptance } from '../src/core/accept-rule-set.js';
import { APPLIED, NOT_FROM_CONTROLLER, commandAction, ruleSetAnswer } from '../src/core/agent-commands.js';
import { feedSelection } from '../src/core/feed-selection.js';

const envelope = { schema: 'rhi.v1.ruleset' } as unknown as SignedRuleSet;
const command = (c: Record<string, unknown>) => ({ schema: 'rhi.v1.command', id: 'c1', ...c }) as Command;

describe('agent commands', () => {
  it('a rule set is judged only by an agent that takes them from the controller', () => {
    const push = command({ type: 'ruleset', ruleSet: envelope });
    expect(commandAction(push, { fromController: true })).toEqual({ kind: 'ruleset', envelope });
    expect(commandAction(push, { fromController: false })).toEqual({
      kind: 'refuse',
      answer: NOT_FROM_CONTROLLER,
    });
    expect(NOT_FROM_CONTROLLER).toEqual({
      result: 'rejected',
      reason: 'this agent does not take rule sets from the controller (rules.fromController)',
    });
  });

  it('a drain carries only what was given, its timeout in ms', () => {
    expect(commandAction(command({ type: 'drain' }), { fromController: false })).toEqual({
      kind: 'drain',
      request: {},
    });
    expect(
      commandAction(command({ type: 'drain', reason: 'kernel', waitSessions: 3, timeoutSec: 1.5 }), {
        fromController: false,
      }),
    ).toEqual({ kind: 'drain', request: { reason: 'kernel', waitSessions: 3, timeoutMs: 1500 } });
    expect(commandAction(command({ type: 'undrain' }), { fromController: true })).toEqual({
      kind: 'undrain',
    });
  });

  it('answers a verdict: refused with its code, applied with its warnings', () => {
    const ok = (warnings: string[]): Acceptance => ({
      ok: true,
      ruleSet: parse('198.18.200.1 = true\n').ruleSet,
      hash: 'h',
      serial: 2,
      unchanged: false,
      selection: feedSelection(null),
      warnings,
    });
    expect(ruleSetAnswer({ ok: false, code: 'RULESET_REPLAYED', reason: 'serial 1 is not newer' })).toEqual({
      result: 'rejected',
      reason: 'RULESET_REPLAYED: serial 1 is not newer',
    });
    expect(ruleSetAnswer(ok([]))).toEqual(APPLIED);
    expect(ruleSetAnswer(ok(['a', 'b']))).toEqual({ result: 'applied', reason: 'a; b' });
  });
});
