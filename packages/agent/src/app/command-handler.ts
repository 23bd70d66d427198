import type { Command } from '@rhi/contracts';
import type { CommandAnswer } from '../core/agent-commands.js';
import { APPLIED, NOT_FROM_CONTROLLER, commandAction, ruleSetAnswer } from '../core/agent-commands.js';
import type { ControlCommand } from '../core/command-bytes.js';
import type { DrainKeeper } from './drain-keeper.js';
import type { RuleSetKeeper } from './rule-set-keeper.js';
import type { ExaminedCommand } from './rule-set-worker.js';

/** What commands act on. */
export interface CommandPorts {
  /** `rules.fromController`: without it a pushed rule set is refused unjudged. */
  readonly fromController: boolean;
  readonly ruleSets: Pick<RuleSetKeeper, 'push'>;
  readonly drains: Pick<DrainKeeper, 'drain' | 'undrain'>;
}

/** Carries out a command from the controller and says how it went (the ack's `result` and `reason`). */
export async function handleCommand(command: Command, ports: CommandPorts): Promise<CommandAnswer> {
  if (command.type !== 'ruleset') return handleControl(command, ports.drains);
  const action = commandAction(command, { fromController: ports.fromController });
  return action.kind === 'ruleset'
    ? ruleSetAnswer(await ports.ruleSets.push(action.envelope))
    : NOT_FROM_CONTROLLER;
}

/** What a command read from its bytes acts on: a pushed rule set comes examined already. */
export interface ExaminedCommandPorts extends Omit<CommandPorts, 'ruleSets'> {
  readonly ruleSets: Pick<RuleSetKeeper, 'pushExamined'>;
}

/**
 * Carries out a command read from its bytes where rule sets are examined
 * (`RuleSetExaminer.examineCommand`): a control command as {@link handleCommand} does, a rule set judged
 * from its examination (refused unjudged without `rules.fromController`).
 */
export async function handleExaminedCommand(
  read: Exclude<ExaminedCommand, { kind: 'refused' }>,
  ports: ExaminedCommandPorts,
): Promise<CommandAnswer> {
  if (read.kind === 'command') return handleControl(read.command, ports.drains);
  if (!ports.fromController) return NOT_FROM_CONTROLLER;
  return ruleSetAnswer(await ports.ruleSets.pushExamined(read.examined));
}

/** A drain or an undrain: what `rules.fromController` says plays no part. */
async function handleControl(
  command: ControlCommand,
  drains: CommandPorts['drains'],
): Promise<CommandAnswer> {
  const action = commandAction(command, { fromController: true });
  if (action.kind === 'drain') await drains.drain(action.request);
  else if (action.kind === 'undrain') await drains.undrain();
  return APPLIED;
}
