import type { Command, SignedRuleSet } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import { handleCommand, handleExaminedCommand } from '../src/app/command-handler.js';
import type { Acceptance } from '../src/core/accept-rule-set.js';
import type { PersistableExamination } from '../src/app/rule-set-worker.js';
import type { DrainRequest } from '../src/core/drain-state.js';

const envelope = { schema: 'rhi.v1.ruleset', serial: 4 } as unknown as SignedRuleSet;
const command = (c: Record<string, unknown>) => ({ schema: 'rhi.v1.command', id: 'c1', ...c }) as Command;

/** Records what commands asked for; a push to an agent that takes none from the controller fails loudly. */
function ports(fromController: boolean, verdict: Acceptance) {
  const done: string[] = [];
  return {
    done,
    ports: {
      fromController,
      ruleSets: {
        push: (e: SignedRuleSet) => {
          if (!fromController) throw new Error('rule set judged without rules.fromController');
          done.push(`push ${JSON.stringify(e)}`);
          return Promise.resolve(verdict);
        },
        pushExamined: (e: PersistableExamination) => {
          if (!fromController) throw new Error('rule set judged without rules.fromController');
          done.push(`pushExamined ${e.ok ? 'ok' : e.code}`);
          return Promise.resolve(verdict);
        },
      },
      drains: {
        drain: (r: DrainRequest) => {
          done.push(`drain ${JSON.stringify(r)}`);
          return Promise.resolve();
        },
        undrain: () => {
          done.push('undrain');
          return Promise.resolve();
        },
      },
    },
  };
}

const refused: Acceptance = { ok: false, code: 'RULESET_BAD_SIGNATURE', reason: 'bad signature' };

describe('command handler', () => {
  it('pushes a rule set and answers the verdict with its code', async () => {
    const { done, ports: p } = ports(true, refused);
    expect(await handleCommand(command({ type: 'ruleset', ruleSet: envelope }), p)).toEqual({
      result: 'rejected',
      reason: 'RULESET_BAD_SIGNATURE: bad signature',
    });
    expect(done).toEqual([`push ${JSON.stringify(envelope)}`]);
  });

  it('refuses a rule set unjudged without rules.fromController, and still drains', async () => {
    const { done, ports: p } = ports(false, refused);
    expect(await handleCommand(command({ type: 'ruleset', ruleSet: envelope }), p)).toMatchObject({
      result: 'rejected',
      reason: expect.stringContaining('rules.fromController'),
    });
    expect(await handleCommand(command({ type: 'drain', reason: 'kernel', timeoutSec: 2 }), p)).toEqual({
      result: 'applied',
    });
    expect(await handleCommand(command({ type: 'undrain' }), p)).toEqual({ result: 'applied' });
    expect(done).toEqual(['drain {"reason":"kernel","timeoutMs":2000}', 'undrain']);
  });
});

describe('command handler, for a command read where rule sets are examined', () => {
  const examined: PersistableExamination = {
    ok: false,
    code: 'RULESET_BAD_SIGNATURE',
    reason: 'bad signature',
  };

  it('judges an examined rule set and answers the verdict with its code', async () => {
    const { done, ports: p } = ports(true, refused);
    expect(await handleExaminedCommand({ kind: 'ruleset', id: 'c1', examined }, p)).toEqual({
      result: 'rejected',
      reason: 'RULESET_BAD_SIGNATURE: bad signature',
    });
    expect(done).toEqual(['pushExamined RULESET_BAD_SIGNATURE']);
  });

  it('refuses an examined rule set unjudged without rules.fromController, and still drains', async () => {
    const { done, ports: p } = ports(false, refused);
    expect(await handleExaminedCommand({ kind: 'ruleset', id: 'c1', examined }, p)).toMatchObject({
      result: 'rejected',
      reason: expect.stringContaining('rules.fromController'),
    });
    const drain = command({ type: 'drain', waitSessions: 3 }) as Extract<Command, { type: 'drain' }>;
    expect(await handleExaminedCommand({ kind: 'command', command: drain }, p)).toEqual({
      result: 'applied',
    });
    const undrain = command({ type: 'undrain' }) as Extract<Command, { type: 'undrain' }>;
    expect(await handleExaminedCommand({ kind: 'command', command: undrain }, p)).toEqual({
      result: 'applied',
    });
    expect(done).toEqual(['drain {"waitSessions":3}', 'undrain']);
  });
});
