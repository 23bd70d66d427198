import type { Ack, Command, SignedRuleSet } from '@rhi/contracts';
import type { Acceptance } from './accept-rule-set.js';
import type { DrainRequest } from './drain-state.js';

/** What the agent answers a command with; the link adds the envelope (id, node). */
export type CommandAnswer = Pick<Ack, 'result' | 'reason'>;

/** What a command asks of the agent, or why it is refused before anything is done. */
export type CommandAction =
  | { readonly kind: 'ruleset'; readonly envelope: SignedRuleSet }
  | { readonly kind: 'drain'; readonly request: DrainRequest }
  | { readonly kind: 'undrain' }
  | { readonly kind: 'refuse'; readonly answer: CommandAnswer };

/** The refusal of a rule set pushed to an agent that takes none from the controller. */
export const NOT_FROM_CONTROLLER: CommandAnswer = Object.freeze({
  result: 'rejected',
  reason: 'this agent does not take rule sets from the controller (rules.fromController)',
});

/** The answer to a drain, an undrain, or a rule set applied without warnings. */
export const APPLIED: CommandAnswer = Object.freeze({ result: 'applied' });

/** What to do for a command, given `rules.fromController`. */
export function commandAction(
  command: Command,
  options: { readonly fromController: boolean },
): CommandAction {
  switch (command.type) {
    case 'ruleset':
      return options.fromController
        ? { kind: 'ruleset', envelope: command.ruleSet }
        : { kind: 'refuse', answer: NOT_FROM_CONTROLLER };
    case 'drain':
      return {
        kind: 'drain',
        request: {
          ...(command.reason === undefined ? {} : { reason: command.reason }),
          ...(command.waitSessions === undefined ? {} : { waitSessions: command.waitSessions }),
          ...(command.timeoutSec === undefined ? {} : { timeoutMs: command.timeoutSec * 1000 }),
        },
      };
    case 'undrain':
      return { kind: 'undrain' };
  }
}

/**
 * The answer to a pushed rule set: refused with the verdict's code (`RULESET_REPLAYED: serial 3 is not
 * newer ...`), or applied with its warnings joined.
 */
export function ruleSetAnswer(verdict: Acceptance): CommandAnswer {
  if (!verdict.ok) return { result: 'rejected', reason: `${verdict.code}: ${verdict.reason}` };
  return verdict.warnings.length ? { result: 'applied', reason: verdict.warnings.join('; ') } : APPLIED;
}
