import type { Command } from '@rhi/contracts';
import type { CommandAnswer } from '../core/agent-commands.js';
import { APPLIED, commandAction, ruleSetAnswer } from '../core/agent-commands.js';
import type { DrainKeeper } from './drain-keeper.js';
import type { RuleSetKeeper } from './rule-set-keeper.js';

/** What commands act on. */
export interface CommandPorts {
  /** `rules.fromController`: without it a pushed rule set is refused unjudged. */
  readonly fromController: boolean;
  readonly ruleSets: Pick<RuleSetKeeper, 'push'>;
  readonly drains: Pick<DrainKeeper, 'drain' | 'undrain'>;
}

/** Carries out a command from the controller and says how it went (the ack's `result` and `reason`). */
export async function handleCommand(command: Command, ports: CommandPorts): Promise<CommandAnswer> {
  const action = commandAction(command, { fromController: ports.fromController });
  switch (action.kind) {
    case 'refuse':
      return action.answer;
    case 'ruleset':
      return ruleSetAnswer(await ports.ruleSets.push(action.envelope));
    case 'drain':
      await ports.drains.drain(action.request);
      return APPLIED;
    case 'undrain':
      await ports.drains.undrain();
      return APPLIED;
  }
}
