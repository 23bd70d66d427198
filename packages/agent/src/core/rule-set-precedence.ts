import type { Acceptance, CurrentRuleSet } from './accept-rule-set.js';

/** Where a rule set being judged comes from: the rules file, a controller push, or the state dir at boot. */
export type RuleSetSource = 'file' | 'controller' | 'persisted';

/** The rule set in force, as precedence sees it. */
export interface RuleSetInForce extends CurrentRuleSet {
  /** Pushed by the controller (now or before a restart): the rules file then stands aside. */
  readonly fromController: boolean;
}

/** The rule sets tried at boot, in this order, each only while none of the earlier ones was accepted. */
export type BootStep = 'persistedController' | 'rulesFile' | 'persistedFile';

/** What boot has to choose from. */
export interface BootSources {
  /** `rules.fromController`. */
  readonly fromController: boolean;
  /** `rules.file` is set. */
  readonly rulesFile: boolean;
  /** The source of the persisted last good rule set, or null when there is none (or it is unreadable). */
  readonly persisted: 'controller' | 'file' | null;
}

/**
 * The order of the rule sets tried at boot: the controller's persisted one (only with `rules.fromController`),
 * then the rules file, then the file's persisted last good copy (for a file that is now missing or bad).
 */
export function bootSteps(sources: BootSources): BootStep[] {
  const steps: BootStep[] = [];
  if (sources.fromController && sources.persisted === 'controller') steps.push('persistedController');
  if (sources.rulesFile) steps.push('rulesFile');
  if (sources.persisted === 'file') steps.push('persistedFile');
  return steps;
}

/** Whether the rules file may replace the rule set in force: not while the controller's is in force. */
export function rulesFileStandsAside(inForce: RuleSetInForce | null): boolean {
  return inForce?.fromController === true;
}

/** What a verdict does to the rule set in force. */
export type Succession =
  | { readonly apply: false; readonly inForce: RuleSetInForce | null }
  | {
      readonly apply: true;
      readonly inForce: RuleSetInForce;
      readonly verdict: Extract<Acceptance, { ok: true }>;
    };

/**
 * The rule set in force after a verdict. A refused one leaves the one in force; an accepted one that is
 * the rule set in force already changes nothing, but at a higher serial, which it takes; any other
 * replaces it. A persisted rule set with a
 * serial (a signed one) counts as the controller's.
 */
export function succeed(
  inForce: RuleSetInForce | null,
  verdict: Acceptance,
  source: RuleSetSource,
): Succession {
  // The same rules again change nothing, unless re-issued at a higher serial (a controller's rollback
  // copy): then they are taken, so that the serial in force (and reported) is the one acked.
  if (!verdict.ok || (verdict.unchanged && inForce && verdict.serial <= inForce.serial))
    return { apply: false, inForce };
  const fromController = source === 'controller' || (source === 'persisted' && verdict.serial > 0);
  return { apply: true, inForce: { hash: verdict.hash, serial: verdict.serial, fromController }, verdict };
}
