import type { SignedRuleSet } from '@rhi/contracts';
import type { HaproxyClient, HealthSnapshot } from '@rhi/haproxy-client';
import type { Logger } from 'pino';
import { snapshotEvent } from '../adapters/haproxy-health.js';
import type { Acceptance, Examination, TableView } from '../core/accept-rule-set.js';
import { judgeCandidate } from '../core/accept-rule-set.js';
import type { FeedSelection } from '../core/feed-selection.js';
import { feedSelection, sameSelection } from '../core/feed-selection.js';
import type { RuleSetInForce, RuleSetSource } from '../core/rule-set-precedence.js';
import { bootSteps, rulesFileStandsAside, succeed } from '../core/rule-set-precedence.js';
import type { PersistedRuleSet } from '../core/state-files.js';
import type { AgentLoop } from '../loop/agent-loop.js';
import type { StateStore } from '../state/state-store.js';
import type { RuleSetExaminer } from './rule-set-examiner.js';
import type { PersistableExamination } from './rule-set-worker.js';
import { readBounded } from './rules-file.js';

/** The `rules` settings the keeper follows. */
export interface RuleSetKeeperSettings {
  readonly file?: string | undefined;
  readonly fromController: boolean;
  readonly allowUnknownProxies: boolean;
  readonly allowEmpty: boolean;
  readonly limits: { readonly maxBytes: number };
}

/** What the rule-set keeper drives and reads. */
export interface RuleSetKeeperPorts {
  readonly rules: RuleSetKeeperSettings;
  readonly examiner: Pick<RuleSetExaminer, 'examineFile' | 'examineSigned'>;
  /** Every proxy, servers included: one unfiltered read per judgment. */
  readonly haproxy: Pick<HaproxyClient, 'readHealth'>;
  /** The injector's tables, with BIRD's symbols read at that moment. */
  readonly birdTables: () => Promise<TableView>;
  readonly loop: Pick<AgentLoop, 'allowlist' | 'notify' | 'onHealth' | 'setRuleSet'>;
  /** Writes `ruleset.json` atomically (the {@link StateStore}'s `saveRuleSet`). */
  readonly store: Pick<StateStore, 'saveRuleSet'>;
  readonly logger: Logger;
  /** Told every proxy HAProxy has, at each full read (for the health reports' inventory). */
  readonly onInventory?: (snapshot: HealthSnapshot) => void;
  /** Told when the rule set now in force names other proxies than the one before. */
  readonly onSelection: (selection: FeedSelection) => void;
  /** Reads the rules file, at most `maxBytes` + 1 bytes. Default: {@link readBounded}. */
  readonly readFile?: (file: string, maxBytes: number) => Promise<Uint8Array>;
}

/**
 * Keeps the rule set in force: judges each candidate (the rules file, a controller push, the persisted last
 * good copy at boot) one at a time, applies the good ones to the loop, persists them, and keeps the
 * precedence (`core/rule-set-precedence.ts`): the controller's rule set, once in force, wins over the
 * file. A refused candidate changes nothing.
 */
export class RuleSetKeeper {
  private current: RuleSetInForce | null = null;
  private chosen: FeedSelection = feedSelection(null);
  /** Rule sets are judged and applied one at a time. */
  private judging: Promise<unknown> = Promise.resolve();

  constructor(private readonly ports: RuleSetKeeperPorts) {}

  /** The rule set in force, or null before the first is accepted. */
  get inForce(): RuleSetInForce | null {
    return this.current;
  }

  /** What the health feed reads: the proxies the rule set in force names. */
  get selection(): FeedSelection {
    return this.chosen;
  }

  /** At boot: the persisted rule set, the rules file and the file's last good copy, in precedence order. */
  async restore(persisted: PersistedRuleSet | null): Promise<void> {
    const { rules } = this.ports;
    const steps = bootSteps({
      fromController: rules.fromController,
      rulesFile: Boolean(rules.file),
      persisted: persisted?.source ?? null,
    });
    for (const step of steps) {
      if (this.current) break;
      if (step === 'rulesFile') await this.reloadRules('boot');
      else if (persisted?.source === 'controller')
        await this.judge(() => this.ports.examiner.examineSigned(persisted.envelope), 'persisted');
      else if (persisted?.source === 'file')
        await this.judge(
          () => this.ports.examiner.examineFile(persisted.text, `${persisted.file} (last good copy)`),
          'persisted',
        );
    }
    if (!this.current)
      this.ports.logger.warn(
        { event: 'noRuleSet' },
        'no rule set yet: nothing is advertised until one arrives',
      );
  }

  /**
   * Re-reads the rules file (SIGHUP or boot; a change the watcher saw settle comes with its `text`); a bad
   * file changes nothing. Null when there is no file, it cannot be read, or the controller's rule set is
   * in force.
   */
  async reloadRules(why: string, given?: Uint8Array): Promise<Acceptance | null> {
    const { rules, logger } = this.ports;
    const file = rules.file;
    if (!file) return null;
    if (this.fileStandsAside(why)) return null;
    // Bytes, not decoded: the worker decodes them (4 MiB cost the main thread 15 ms to decode).
    let text: Uint8Array;
    try {
      text = given ?? (await (this.ports.readFile ?? readBounded)(file, rules.limits.maxBytes));
    } catch (err) {
      logger.error(
        { event: 'ruleSetRejected', op: 'read', file, err },
        `cannot read the rules file (${why})`,
      );
      return null;
    }
    // The state file's text is made where the text is: in the worker.
    let persisted: Uint8Array | undefined;
    const verdict = await this.serialize(() => {
      // A push judged while the file was read has precedence all the same.
      if (this.fileStandsAside(why)) return Promise.resolve(null);
      return this.judgeNow(async () => {
        const examination = await this.ports.examiner.examineFile(text, file, { persist: true });
        persisted = examination.persisted;
        return examination;
      }, 'file');
    });
    if (verdict?.ok && !verdict.unchanged && persisted) void this.save(persisted);
    return verdict;
  }

  private fileStandsAside(why: string): boolean {
    if (!rulesFileStandsAside(this.current)) return false;
    this.ports.logger.info(
      { event: 'rulesFileIgnored', file: this.ports.rules.file, reason: why },
      'a controller rule set is in force; the rules file is not used',
    );
    return true;
  }

  /** A rule set pushed by the controller: judged, applied when good, and persisted before this resolves. */
  async push(envelope: SignedRuleSet): Promise<Acceptance> {
    const verdict = await this.judge(() => this.ports.examiner.examineSigned(envelope), 'controller');
    if (verdict.ok) await this.save({ schema: 'rhi.v1.persisted-ruleset', source: 'controller', envelope });
    return verdict;
  }

  /**
   * A rule set pushed by the controller and examined already where its bytes were read (the worker, for
   * a command or a stored record: see `RuleSetExaminer.examineCommand`): judged, applied when good, and
   * its state file (`persisted`, made there too) written before this resolves.
   */
  async pushExamined(examined: PersistableExamination): Promise<Acceptance> {
    const { persisted, ...examination } = examined;
    const verdict = await this.judge(() => Promise.resolve(examination as Examination), 'controller');
    if (verdict.ok && persisted) await this.save(persisted);
    return verdict;
  }

  /**
   * Judges a rule set and applies it when good, one rule set at a time: examined by the examiner (in the
   * worker: parse or verify, hash) while HAProxy is read, then checked against every proxy HAProxy has
   * (one unfiltered read: the feed reads only the rule set in force's proxies) and BIRD's tables. The same
   * read seeds the loop, so the new rules never meet a snapshot that lacks their proxies.
   */
  private judge(examine: () => Promise<Examination>, source: RuleSetSource): Promise<Acceptance> {
    return this.serialize(() => this.judgeNow(examine, source));
  }

  /** Runs `step` once every judgment before it has ended: rule sets are judged and applied one at a time. */
  private serialize<T>(step: () => Promise<T>): Promise<T> {
    const run = this.judging.then(step);
    this.judging = run.catch(() => undefined);
    return run;
  }

  private async judgeNow(examine: () => Promise<Examination>, source: RuleSetSource): Promise<Acceptance> {
    const [examination, health, tables] = await Promise.all([
      examine(),
      this.readEverything(),
      this.ports.birdTables(),
    ]);
    const verdict = judgeCandidate(examination, {
      current: this.current,
      allowlist: this.ports.loop.allowlist,
      health: health && { frontends: health.frontends, backends: health.backends },
      allowUnknownProxies: this.ports.rules.allowUnknownProxies,
      allowEmpty: this.ports.rules.allowEmpty,
      tables,
    });
    this.tell(verdict);
    const next = succeed(this.current, verdict, source);
    if (next.apply) this.apply(next.inForce, next.verdict, source, health);
    return verdict;
  }

  /** Every proxy, servers included; null when HAProxy cannot be read (the unknown-proxy check is then skipped). */
  private async readEverything(): Promise<HealthSnapshot | null> {
    try {
      const snapshot = await this.ports.haproxy.readHealth();
      this.ports.onInventory?.(snapshot);
      return snapshot;
    } catch (err) {
      this.ports.logger.warn(
        { event: 'haproxyReadFailed', op: 'judgeRuleSet', err },
        'cannot read HAProxy to check the rule set; proxies are not checked',
      );
      return null;
    }
  }

  private tell(verdict: Acceptance): void {
    const { logger, loop } = this.ports;
    if (!verdict.ok) {
      logger.error(
        { event: 'ruleSetRejected', code: verdict.code, reason: verdict.reason },
        'rule set rejected; the last good one stays',
      );
      loop.notify({ event: 'ruleSetRejected', reason: `${verdict.code}: ${verdict.reason}` });
    } else {
      for (const w of verdict.warnings) logger.warn({ event: 'ruleSetWarning', reason: w }, w);
    }
  }

  private apply(
    inForce: RuleSetInForce,
    verdict: Extract<Acceptance, { ok: true }>,
    source: RuleSetSource,
    health: HealthSnapshot | null,
  ): void {
    this.current = inForce;
    if (health) this.ports.loop.onHealth(snapshotEvent(health));
    this.ports.loop.setRuleSet(verdict.ruleSet, { source, serial: verdict.serial });
    // Worked out in the worker: reading the rules here would build them as objects.
    if (!sameSelection(verdict.selection, this.chosen)) {
      this.chosen = verdict.selection;
      this.ports.onSelection(verdict.selection);
    }
  }

  private async save(value: PersistedRuleSet | Uint8Array): Promise<void> {
    await this.ports.store
      .saveRuleSet(value)
      .catch((err: unknown) =>
        this.ports.logger.warn(
          { event: 'stateWriteFailed', op: 'saveRuleSet', err },
          'cannot persist the rule set',
        ),
      );
  }
}
