import type { KeyObject } from 'node:crypto';
import type { RuleSetRejection, SignedRuleSet } from '@rhi/contracts';
import { routeId, verifySignedRuleSet } from '@rhi/contracts';
import type {
  Diagnostic,
  DiagnosticCode,
  HealthState,
  ParseLimits,
  RuleLocation,
  RuleSet,
} from '@rhi/rules-dsl';
import {
  DEFAULT_LIMITS,
  countDiagnostics,
  formatDiagnostic,
  parse,
  ruleSetHash,
  ruleSetRoutes,
} from '@rhi/rules-dsl';
import type { Allowlist } from './allowlist.js';
import type { FeedSelection } from './feed-selection.js';
import { feedSelection } from './feed-selection.js';
import { proxyNames, unknownProxies } from './proxy-names.js';

/** The rule set in force, as far as acceptance is concerned. */
export interface CurrentRuleSet {
  readonly hash: string;
  readonly serial: number;
}

/** Why a candidate rule set was refused (codes of signature checks, plus the agent's own). */
export type RejectionCode =
  | RuleSetRejection
  | 'RULESET_REPLAYED'
  | 'RULESET_SYNTAX'
  | 'RULESET_UNKNOWN_PROXIES'
  | 'RULESET_EMPTY'
  | 'RULESET_BAD_TABLE'
  /** Larger than a limit of `rules.limits` (the reason names it and the place). */
  | 'RULESET_OVER_LIMIT'
  /** The worker judging it crashed (or could not start). */
  | 'RULESET_WORKER_FAILED'
  /** The worker took longer than `rules.worker.timeoutMs`, and was ended. */
  | 'RULESET_WORKER_TIMEOUT'
  /** The worker needed more heap than `rules.worker.maxHeapMb`, and was ended. */
  | 'RULESET_WORKER_OUT_OF_MEMORY';

/** How large a rule set may be: `rules.limits` of the agent config. */
export interface RuleSetLimits {
  readonly maxBytes: number;
  readonly maxRules: number;
  readonly maxRoutes: number;
  /** Terms of one rule (rules-dsl's `maxTermsPerRule`). */
  readonly maxTerms: number;
  readonly maxDepth: number;
}

/** rules-dsl's defaults, which are the config's. */
export const DEFAULT_RULE_SET_LIMITS: RuleSetLimits = Object.freeze({
  maxBytes: DEFAULT_LIMITS.maxBytes,
  maxRules: DEFAULT_LIMITS.maxRules,
  maxRoutes: DEFAULT_LIMITS.maxRoutes,
  maxTerms: DEFAULT_LIMITS.maxTermsPerRule,
  maxDepth: DEFAULT_LIMITS.maxDepth,
});

/** The parse options of the limits. */
export function parseLimits(limits: RuleSetLimits): Partial<ParseLimits> {
  const { maxBytes, maxRules, maxRoutes, maxTerms, maxDepth } = limits;
  return { maxBytes, maxRules, maxRoutes, maxTermsPerRule: maxTerms, maxDepth };
}

/** Routes outside the allowlist named one by one in the warnings; the rest are counted. */
const OUTSIDE_LISTED = 20;

/** The diagnostics that say a limit was crossed, and the limit's key in `rules.limits`. */
const LIMIT_KEYS: Partial<Record<DiagnosticCode, keyof RuleSetLimits>> = {
  RULE_SET_TOO_LARGE: 'maxBytes',
  RULE_SET_TOO_MANY_RULES: 'maxRules',
  RULE_SET_TOO_MANY_ROUTES: 'maxRoutes',
  RULE_TOO_MANY_TERMS: 'maxTerms',
  RULE_TOO_DEEP: 'maxDepth',
};

/** The verdict on a candidate rule set. A rejected one changes nothing: the last good one stays. */
export type Acceptance =
  | {
      readonly ok: true;
      readonly ruleSet: RuleSet;
      readonly hash: string;
      readonly serial: number;
      /** The candidate is the rule set already in force. */
      readonly unchanged: boolean;
      /** What the health feed reads for it. */
      readonly selection: FeedSelection;
      /**
       * Worth telling, not worth refusing: routes outside the allowlist (never advertised), tables
       * bird.tables does not list (default next hop).
       */
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly code: RejectionCode; readonly reason: string };

/** The route tables as the injector sees them, for a candidate's tables to be judged. */
export interface TableView {
  /** The tables bird.tables lists (with their next hops); the others get the default next hop. */
  readonly configured: ReadonlySet<string>;
  /** Per table: the protocols it would be rendered as, and why it cannot be (absent when it can). */
  judge(
    tables: readonly string[],
  ): ReadonlyMap<string, { readonly protocols: readonly string[]; readonly problem?: string }>;
  /** False when BIRD's own symbols could not be read: a clash with them is then found at apply. */
  readonly symbolsChecked: boolean;
}

/** What acceptance checks a candidate against. */
export interface AcceptContext {
  readonly current: CurrentRuleSet | null;
  readonly allowlist: Allowlist;
  /** The last HAProxy reading: proxies a rule names must exist there. Null when HAProxy was never read. */
  readonly health: HealthState | null;
  /** Accept rule sets naming proxies the live HAProxy does not know (they count as down). */
  readonly allowUnknownProxies: boolean;
  /** Accept a rule set with no rule (it withdraws every route; `drain` is the tool for that). */
  readonly allowEmpty?: boolean;
  /** The injector's tables: a table that cannot be rendered is refused. Absent: tables are not judged. */
  readonly tables?: TableView;
  /** Absent: {@link DEFAULT_RULE_SET_LIMITS}. */
  readonly limits?: RuleSetLimits;
}

/** A refusal of the examination (syntax, limits, signature), before any live check. */
export interface Refusal {
  readonly ok: false;
  readonly code: RejectionCode;
  readonly reason: string;
}

/**
 * A rule set that passed examination, with what the live checks need to know of it, worked out where it
 * was parsed: reading these from the rule set itself would build its rules as objects (tens of ms for
 * 10,000 rules), which the agent does off the failover path, in a worker.
 */
export interface Candidate {
  readonly ruleSet: RuleSet;
  readonly hash: string;
  /** 0 for a rules file. */
  readonly serial: number;
  /** Signed by the controller: the replay check applies. */
  readonly signed: boolean;
  /** What messages call it: the file, or `controller rule set (serial N)`. */
  readonly label: string;
  readonly ruleCount: number;
  /** Every proxy it names, as `b:<backend>` / `f:<frontend>`, in first-seen order. */
  readonly proxies: readonly string[];
  readonly selection: FeedSelection;
  /** Each route table it uses, in order of first use, with that rule's `file:line:column`. */
  readonly tables: readonly { readonly table: string; readonly place: string }[];
  /**
   * Its routes outside the allowlist, as `table%prefix`: the first few of them (enough for the warnings),
   * and how many there are.
   */
  readonly outside: { readonly first: readonly string[]; readonly count: number };
}

/** The verdict of the examination: the heavy half of judging, which needs nothing live. */
export type Examination = { readonly ok: true; readonly candidate: Candidate } | Refusal;

/** What the examination checks a candidate against. */
export interface ExamineOptions {
  readonly allowlist: Allowlist;
  /** Absent: {@link DEFAULT_RULE_SET_LIMITS}. */
  readonly limits?: RuleSetLimits;
}

/** Where each rule of a candidate comes from, for messages: `file:line:column`. */
interface Places {
  readonly label: string;
  readonly locations?: readonly RuleLocation[];
}

const placeOf = (places: Places, rule: number) => {
  const at = places.locations?.[rule];
  // A rule set from the controller has no file: its rules are the lines of its canonical text.
  return at ? `${places.label}:${at.line}:${at.column}` : `${places.label}:${rule + 1}:1`;
};

/** Refusals and warnings about the candidate's route tables, each naming the first rule that uses the table. */
function judgeTables(candidate: Candidate, view: TableView): { refusal?: string; warnings: string[] } {
  const verdicts = view.judge(candidate.tables.map((t) => t.table));
  const refusals: string[] = [];
  const warnings: string[] = [];
  for (const { table, place } of candidate.tables) {
    const verdict = verdicts.get(table);
    if (verdict?.problem) refusals.push(`${place}: ${verdict.problem}`);
    else if (!view.configured.has(table)) {
      warnings.push(
        `${place}: table '${table}' is not in bird.tables: its routes get the default next hop, in protocol${
          verdict && verdict.protocols.length > 1 ? 's' : ''
        } ${verdict?.protocols.join(', ') ?? table} (the BIRD config must export ${
          verdict && verdict.protocols.length > 1 ? 'them' : 'it'
        })`,
      );
    }
  }
  if (!view.symbolsChecked && candidate.tables.length > 0) {
    warnings.push(
      "BIRD's symbols could not be read: a table whose protocol name BIRD's config already uses is found only when the routes are applied (its routes are then left out)",
    );
  }
  return refusals.length ? { refusal: refusals.join('\n'), warnings } : { warnings };
}

/** What the live checks need of a parsed rule set, worked out from it once. */
function candidateOf(ruleSet: RuleSet, serial: number, places: Places, allowlist: Allowlist): Candidate {
  const tables = new Map<string, string>();
  ruleSet.rules.forEach((rule, i) => {
    for (const route of rule.routes)
      if (!tables.has(route.table)) tables.set(route.table, placeOf(places, i));
  });
  return {
    ruleSet,
    hash: ruleSetHash(ruleSet),
    serial,
    signed: serial > 0,
    label: places.label,
    ruleCount: ruleSet.rules.length,
    proxies: proxyNames(ruleSet),
    selection: feedSelection(ruleSet),
    tables: [...tables].map(([table, place]) => ({ table, place })),
    outside: outsideOf(ruleSet, allowlist),
  };
}

/** The routes outside the allowlist: the first {@link OUTSIDE_LISTED} + 1, and how many. */
function outsideOf(ruleSet: RuleSet, allowlist: Allowlist): Candidate['outside'] {
  const first: string[] = [];
  let count = 0;
  for (const r of ruleSetRoutes(ruleSet)) {
    if (allowlist.allows(r.prefix)) continue;
    if (count++ <= OUTSIDE_LISTED) first.push(routeId(r));
  }
  return { first, count };
}

/** The errors of a parse as a refusal: over a limit when one of them says so, else a syntax error. */
function parseRefusal(diagnostics: readonly Diagnostic[], limits: RuleSetLimits): Refusal {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  // The true count: past rules-dsl's cap of 100 listed, the rest are only counted.
  const { errors: count } = countDiagnostics(diagnostics);
  const crossed = [
    ...new Set(
      errors.flatMap((d) => (LIMIT_KEYS[d.code] ? [LIMIT_KEYS[d.code] as keyof RuleSetLimits] : [])),
    ),
  ];
  const more = count > errors.length ? `\n(and ${count - errors.length} more not listed)` : '';
  const head = `${count} error${count === 1 ? '' : 's'}`;
  // The limit first: it is why the rest of the file was not read, or why a rule was cut short.
  const first = [...errors.filter((d) => LIMIT_KEYS[d.code]), ...errors.filter((d) => !LIMIT_KEYS[d.code])];
  const listed = `${first.map(formatDiagnostic).join('\n')}${more}`;
  if (crossed.length) {
    const over = crossed.map((key) => `rules.limits.${key} (${limits[key]})`).join(', ');
    return { ok: false, code: 'RULESET_OVER_LIMIT', reason: `over ${over}; ${head}:\n${listed}` };
  }
  return { ok: false, code: 'RULESET_SYNTAX', reason: `${head}:\n${listed}` };
}

/**
 * Examines the text of a local rules file (serial 0): parses it within the limits and works out what the
 * live checks need. Pure; the agent runs it in its worker.
 */
export function examineRulesFile(text: string, file: string, options: ExamineOptions): Examination {
  const limits = options.limits ?? DEFAULT_RULE_SET_LIMITS;
  const parsed = parse(text, { file, ...parseLimits(limits) });
  if (!parsed.ok) return parseRefusal(parsed.diagnostics, limits);
  const candidate = candidateOf(
    parsed.ruleSet,
    0,
    { label: file, locations: parsed.locations },
    options.allowlist,
  );
  return { ok: true, candidate };
}

/** An examination of a signed rule set, with the envelope as verified (its state file is made of it). */
export interface SignedExamination {
  readonly examination: Examination;
  /** The envelope `verifySignedRuleSet` checked, when the examination accepted it. */
  readonly envelope?: SignedRuleSet;
}

/**
 * Examines a signed rule set from the controller: shape, meaning within the limits (of its canonical
 * text), hash and signature, keeping the envelope verified. Pure; the agent runs it in its worker.
 */
export function examineSignedEnvelope(
  value: unknown,
  trustedKeys: ReadonlyMap<string, KeyObject>,
  options: ExamineOptions,
): SignedExamination {
  const limits = options.limits ?? DEFAULT_RULE_SET_LIMITS;
  const verified = verifySignedRuleSet(value, trustedKeys, parseLimits(limits));
  if (!verified.ok) {
    if (verified.code !== 'RULESET_OVER_LIMIT') return { examination: verified };
    const crossed = [
      ...new Set(verified.limits.map((code) => LIMIT_KEYS[code]).filter((k) => k !== undefined)),
    ];
    const over = crossed.map((key) => `rules.limits.${key} (${limits[key]})`).join(', ');
    return { examination: { ...verified, reason: `over ${over}; ${verified.reason}` } };
  }
  const { serial } = verified.envelope;
  const places = { label: `controller rule set (serial ${serial})` };
  return {
    examination: { ok: true, candidate: candidateOf(verified.ruleSet, serial, places, options.allowlist) },
    envelope: verified.envelope,
  };
}

/**
 * Examines a signed rule set from the controller: shape, meaning within the limits (of its canonical
 * text), hash and signature. Pure; the agent runs it in its worker.
 */
export function examineSignedRuleSet(
  value: unknown,
  trustedKeys: ReadonlyMap<string, KeyObject>,
  options: ExamineOptions,
): Examination {
  return examineSignedEnvelope(value, trustedKeys, options).examination;
}

/**
 * The verdict on an examined rule set, against what is live: the rule set in force (replay, unchanged),
 * HAProxy's proxies, BIRD's tables. Pure and cheap (no rule is read): the agent runs it on its main thread.
 */
export function judgeCandidate(examination: Examination, ctx: AcceptContext): Acceptance {
  if (!examination.ok) return examination;
  const c = examination.candidate;
  const current = ctx.current;
  if (c.signed && current && current.hash !== c.hash && c.serial <= current.serial) {
    return {
      ok: false,
      code: 'RULESET_REPLAYED',
      reason: `serial ${c.serial} is not newer than the rule set in force (serial ${current.serial})`,
    };
  }
  if (c.ruleCount === 0 && !ctx.allowEmpty) {
    return {
      ok: false,
      code: 'RULESET_EMPTY',
      reason: `${c.label} has no rule: it would withdraw every route of this node. Use \`rhi-agent drain\` for that, or set rules.allowEmpty: true`,
    };
  }
  const accepted = { ok: true as const, ruleSet: c.ruleSet, hash: c.hash, selection: c.selection };
  if (current && current.hash === c.hash) {
    return { ...accepted, serial: Math.max(c.serial, current.serial), unchanged: true, warnings: [] };
  }
  if (ctx.health && !ctx.allowUnknownProxies) {
    const unknown = unknownProxies(c.proxies, ctx.health);
    if (unknown.length) {
      return {
        ok: false,
        code: 'RULESET_UNKNOWN_PROXIES',
        reason: `the live HAProxy has no ${unknown.join(', ')}; refusing a rule set that would count them as down`,
      };
    }
  }
  const tables = ctx.tables ? judgeTables(c, ctx.tables) : { warnings: [] };
  if (tables.refusal) return { ok: false, code: 'RULESET_BAD_TABLE', reason: tables.refusal };
  // Each warning is logged on the main thread: a rule set of 20,000 routes outside gets one for the rest.
  const { first, count } = c.outside;
  const listed = count > first.length ? first.slice(0, OUTSIDE_LISTED) : first;
  const warnings = [
    ...tables.warnings,
    ...listed.map((route) => `${route} is outside this node's allowlist and will not be advertised`),
    ...(listed.length < count
      ? [`${count - listed.length} more routes are outside this node's allowlist and will not be advertised`]
      : []),
  ];
  return { ...accepted, serial: c.serial, unchanged: false, warnings };
}

/** Judges the text of a local rules file (serial 0) at once: examination, then the live checks. */
export function acceptRulesFile(text: string, file: string, ctx: AcceptContext): Acceptance {
  return judgeCandidate(examineRulesFile(text, file, ctx), ctx);
}

/** Judges a signed rule set from the controller at once: signature, meaning, replay, then the live checks. */
export function acceptSignedRuleSet(
  value: unknown,
  trustedKeys: ReadonlyMap<string, KeyObject>,
  ctx: AcceptContext,
): Acceptance {
  return judgeCandidate(examineSignedRuleSet(value, trustedKeys, ctx), ctx);
}
