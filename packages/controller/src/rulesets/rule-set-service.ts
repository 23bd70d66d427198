import type {
  HealthReport,
  RuleSetRecord,
  RuleSetSummary,
  RuleSetTarget,
  WhatIfAnswer,
} from '@rhi/contracts';
import type { ParseLimits, RuleSet } from '@rhi/rules-dsl';
import type { SigningKey } from '../config/signing-key.js';
import type { RuleSetStore } from '../ports.js';
import { guard, type GuardForce } from '../rollout/guard.js';
import { whatIf } from '../rollout/what-if.js';
import type { FleetView } from '../view/fleet-view.js';
import { buildRecord, lintUpload, type DiagnosticView, type LintOutcome } from './lint-upload.js';
import { serialFloor, whatIfNodes } from './what-if-input.js';

/** A rule-set operation that cannot be done: the code says why, for the API to answer with. */
export class RuleSetServiceError extends Error {
  constructor(
    readonly code:
      | 'RULESETS_NOT_CONFIGURED'
      | 'NATS_UNAVAILABLE'
      | 'RULESET_NOT_FOUND'
      | 'RULESET_INVALID'
      | 'RULESET_EMPTY',
    message: string,
    readonly lint?: Extract<LintOutcome, { ok: false }>,
  ) {
    super(message);
    this.name = 'RuleSetServiceError';
  }
}

/** What the service works over. */
export interface RuleSetServiceDeps {
  /** The store while NATS is connected, else null. */
  readonly store: () => RuleSetStore | null;
  /** The signing key; null when the config has no `rules` section. */
  readonly key: SigningKey | null;
  readonly view: FleetView;
  readonly health: (node: string) => HealthReport | undefined;
  /** The fewest advertisers of each VIP (the config's `fleet.minimumAdvertisers`). */
  readonly minimum: (id: string) => number;
  readonly limits?: Partial<ParseLimits>;
  readonly now?: () => Date;
}

/** A new rule set to store. */
export interface Upload {
  readonly source: string;
  /** The name its diagnostics give (default `rules`). */
  readonly file?: string;
  readonly message: string;
  readonly target: RuleSetTarget;
  /** The API caller's name. */
  readonly author: string;
}

export type { WhatIfAnswer } from '@rhi/contracts';

/**
 * Rule sets for the API: lint and store (signed, at the next serial), read the history, simulate a
 * candidate against the fleet's last reports. The policy of these operations; the HTTP layer only maps.
 */
export class RuleSetService {
  constructor(private readonly deps: RuleSetServiceDeps) {}

  /** Whether rule sets can be stored: the config names a signing key. */
  get configured(): boolean {
    return this.deps.key !== null;
  }

  /** Lints `upload.source`; stores it signed at the next serial. Throws {@link RuleSetServiceError}. */
  async upload(upload: Upload): Promise<{ record: RuleSetRecord; warnings: readonly DiagnosticView[] }> {
    const key = this.deps.key;
    if (!key)
      throw new RuleSetServiceError(
        'RULESETS_NOT_CONFIGURED',
        'this controller stores no rule set: its configuration has no rules.signingKey',
      );
    const lint = this.lint(upload.source, upload.file);
    const store = this.store();
    const now = this.deps.now ?? (() => new Date());
    const record = await store.add(
      (serial) => buildRecord(lint, upload, serial, key, now()),
      serialFloor(this.deps.view.nodeStatuses()),
    );
    return { record, warnings: lint.warnings };
  }

  async get(serial: number): Promise<RuleSetRecord> {
    const record = await this.store().get(serial);
    if (!record) throw new RuleSetServiceError('RULESET_NOT_FOUND', `no rule set has serial ${serial}`);
    return record;
  }

  async history(q: { limit: number; before?: number }): Promise<RuleSetSummary[]> {
    return this.store().summaries(q);
  }

  /**
   * Stores a copy of `serial`'s rules at the next serial (`copyOf` names it), signed again: what a rollback
   * assigns, since agents refuse a serial below the one they run.
   */
  async reissue(serial: number, author: string, message: string): Promise<RuleSetRecord> {
    const key = this.deps.key;
    if (!key)
      throw new RuleSetServiceError(
        'RULESETS_NOT_CONFIGURED',
        'this controller signs no rule set: its configuration has no rules.signingKey',
      );
    const original = await this.get(serial);
    const lint = this.lint(original.source, `serial ${serial}`);
    const now = this.deps.now ?? (() => new Date());
    const meta = { source: original.source, message, target: original.target, author, copyOf: serial };
    return this.store().add(
      (next) => buildRecord(lint, meta, next, key, now()),
      serialFloor(this.deps.view.nodeStatuses()),
    );
  }

  /**
   * Simulates a text, or a stored serial (with its own target unless one is given); `force` overrides the
   * guard (its reason is kept in the answer).
   */
  async whatIf(
    candidate: { readonly source: string; readonly file?: string } | { readonly serial: number },
    target?: RuleSetTarget,
    force?: GuardForce,
  ): Promise<WhatIfAnswer> {
    let ruleSet: RuleSet;
    let stored: RuleSetRecord | null = null;
    let warnings: readonly DiagnosticView[] = [];
    if ('serial' in candidate) {
      stored = await this.get(candidate.serial);
      const lint = this.lint(stored.source, `serial ${stored.serial}`);
      ruleSet = lint.ruleSet;
    } else {
      const lint = this.lint(candidate.source, candidate.file);
      ruleSet = lint.ruleSet;
      warnings = lint.warnings;
    }
    const to = target ?? stored?.target ?? { kind: 'all' };
    const result = whatIf(ruleSet, whatIfNodes(this.deps.view.nodeStatuses(), this.deps.health, to));
    return {
      serial: stored?.serial ?? null,
      hash: stored?.hash ?? null,
      target: to,
      whatIf: result,
      guard: guard(result, { minimum: this.deps.minimum, ...(force ? { force } : {}) }),
      warnings,
    };
  }

  private lint(source: string, file = 'rules'): Extract<LintOutcome, { ok: true }> {
    const lint = lintUpload(source, file, this.deps.limits);
    if (!lint.ok) throw new RuleSetServiceError(lint.code, lint.message, lint);
    return lint;
  }

  private store(): RuleSetStore {
    const store = this.deps.store();
    if (!store)
      throw new RuleSetServiceError('NATS_UNAVAILABLE', 'NATS is unreachable: rule sets live in JetStream');
    return store;
  }
}
