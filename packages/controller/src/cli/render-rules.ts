import type { RuleSetSummary, RuleSetTarget } from '@rhi/contracts';
import type { GuardBlocker } from '../rollout/guard.js';
import type { WhatIfUnknownReason } from '../rollout/what-if.js';
import type { DiagnosticView } from '../rulesets/lint-upload.js';
import type { WhatIfAnswer } from '../rulesets/rule-set-service.js';
import type { RuleSetDiff } from './rule-diff.js';
import { table } from './table.js';

/** Names listed in one cell or line before the rest are only counted. */
const NAMES_SHOWN = 8;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `a, b, c`, or the first {@link NAMES_SHOWN} and how many more. */
function names(list: readonly string[]): string {
  if (list.length <= NAMES_SHOWN) return list.join(', ');
  return `${list.slice(0, NAMES_SHOWN).join(', ')} and ${list.length - NAMES_SHOWN} more`;
}

/** `all`, or the label selector. */
export const targetText = (t: RuleSetTarget): string => (t.kind === 'all' ? 'all' : t.selector);

/** The line `rhi-rules lint` prints for a file without errors. */
export function renderLintOk(file: string, r: { rules: number; routes: number; warnings: number }): string {
  return `${file}: ok, ${plural(r.rules, 'rule')}, ${plural(r.routes, 'route')}, ${plural(r.warnings, 'warning')}`;
}

/** The history, newest first: one stored rule set a line. */
export function renderHistory(rulesets: readonly RuleSetSummary[]): string {
  if (rulesets.length === 0) return 'no rule set stored';
  return table([
    ['SERIAL', 'CREATED', 'AUTHOR', 'TARGET', 'RULES', 'HASH', 'MESSAGE'],
    ...rulesets.map((s) => [
      String(s.serial),
      s.createdAt,
      s.author,
      targetText(s.target),
      String(s.rules),
      s.hash.slice(0, 12),
      s.copyOf === null ? s.message : `${s.message} (copy of ${s.copyOf})`,
    ]),
  ]);
}

/** One stored rule set's summary, as `key: value` lines (`rhictl rules show` writes it to stderr). */
export function renderSummary(s: RuleSetSummary): string {
  const rows: [string, string][] = [
    ['serial', String(s.serial)],
    ['hash', s.hash],
    ['created', `${s.createdAt} by ${s.author}`],
    ['target', targetText(s.target)],
    ['rules', `${plural(s.rules, 'rule')}, ${plural(s.routes, 'route')}, ${plural(s.bytes, 'byte')}`],
    ['signed by', s.keyId],
    ...(s.copyOf === null ? [] : [['copy of', String(s.copyOf)] as [string, string]]),
    ['message', s.message],
  ];
  return table(rows.map(([k, v]) => [`${k}:`, v]));
}

const UNKNOWN_REASONS: Record<WhatIfUnknownReason, string> = {
  noStatus: 'no status received',
  noHealthReport: 'no health report received',
  lost: 'lost (silent for over 3 heartbeat intervals)',
};

function blocker(b: GuardBlocker): string {
  switch (b.kind) {
    case 'belowMinimum':
      return `BLOCKED ${b.vip}: ${b.before} -> ${b.after} advertisers, minimum ${b.minimum}${
        b.withdrawnBy.length ? ` (withdrawn by ${names(b.withdrawnBy)})` : ''
      }`;
    case 'unknownProxies':
      return `BLOCKED ${b.node}: its HAProxy has no ${names(b.proxies)} (the agent would refuse the rule set)`;
    case 'outsideAllowlist':
      return `BLOCKED ${b.node}: outside its prefix allowlist: ${names(b.vips)}`;
  }
}

/** A diagnostic without its source line (as the API lists warnings): `file:line:column: ...`. */
export const renderDiagnosticLine = (d: DiagnosticView): string =>
  `${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`;

/**
 * A what-if for a person deciding on a rollout: the candidate and target, the VIPs that change (advertisers
 * before and after, which nodes withdraw and add it), then each blocker, the nodes not simulated, and last
 * `allowed` or `blocked (N blockers)`. Pure.
 */
export function renderWhatIf(a: WhatIfAnswer, file?: string): string {
  const w = a.whatIf;
  const candidate =
    a.serial === null
      ? `${file ?? 'a text'} (not stored)`
      : `serial ${a.serial}${a.hash ? ` (${a.hash.slice(0, 12)})` : ''}`;
  const c = w.counts;
  const lines = [
    `candidate: ${candidate}, target ${targetText(a.target)}`,
    `nodes: ${c.simulated} simulated, ${c.changed} changed, ${c.drained} drained, ${c.unknown} unknown, ${c.untargeted} outside the target`,
    ...a.warnings.map(renderDiagnosticLine),
    '',
  ];
  const changes = w.vips.filter((v) => v.before !== v.after || v.added.length || v.withdrawn.length);
  if (changes.length === 0) lines.push('no VIP changes');
  else
    lines.push(
      table([
        ['VIP', 'ADVERTISERS', 'WITHDRAWN BY', 'ADDED BY'],
        ...changes.map((v) => [
          v.id,
          `${v.before} -> ${v.after}${v.unknownAdvertisers ? ` (${v.unknownAdvertisers} unknown)` : ''}`,
          names(v.withdrawn) || '-',
          names(v.added) || '-',
        ]),
      ]),
    );
  const notes = [
    ...a.guard.blockers.map(blocker),
    ...w.unknown.map((u) => `UNKNOWN ${u.node}: ${UNKNOWN_REASONS[u.reason]}; not simulated`),
    ...a.guard.warnings.unverifiedProxies.map(
      (u) =>
        `UNVERIFIED ${u.node}: ${names(u.proxies)} not in its health report (it holds the proxies its rules name now, or left some out): taken as down; the agent refuses the rule set if its HAProxy lacks one`,
    ),
    ...(a.guard.forced ? [`FORCED by ${a.guard.forced.by}: ${a.guard.forced.reason}`] : []),
  ];
  if (notes.length) lines.push('', ...notes);
  const n = a.guard.blockers.length;
  lines.push('', a.guard.allowed ? 'allowed' : `blocked (${plural(n, 'blocker')})`);
  return lines.join('\n');
}

/**
 * A route-by-route diff: `- ` a route only `a` controls, `+ ` one only `b` controls, `~ ` one whose rule
 * differs (`a`'s -> `b`'s), after a `--- a` / `+++ b` header; or one line saying they are the same. Pure.
 */
export function renderDiff(d: RuleSetDiff, a: string, b: string, routes: number): string {
  if (d.onlyA.length === 0 && d.onlyB.length === 0 && d.changed.length === 0)
    return `${a} and ${b}: the same rules for the same ${plural(routes, 'route')}`;
  return [
    `--- ${a}`,
    `+++ ${b}`,
    ...d.onlyA.map((r) => `- ${r.route} = ${r.rule}`),
    ...d.changed.map((r) => `~ ${r.route} = ${r.a} -> ${r.b}`),
    ...d.onlyB.map((r) => `+ ${r.route} = ${r.rule}`),
    `${d.onlyA.length} only in ${a}, ${d.onlyB.length} only in ${b}, ${d.changed.length} changed`,
  ].join('\n');
}
