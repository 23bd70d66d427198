import type { RolloutRecord, RolloutStep } from '@rhi/contracts';
import { TERMINAL } from '../rollout/rollout-machine.js';
import { targetText } from './render-rules.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const clock = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
const seconds = (ms: number) => `${Math.max(0, Math.ceil(ms / 1000))} s`;

function names(list: readonly string[], most = 8): string {
  return list.length <= most
    ? list.join(', ')
    : `${list.slice(0, most).join(', ')} and ${list.length - most} more`;
}

function stepLine(r: RolloutRecord, step: RolloutStep, k: number, now: number): string {
  const head = `  step ${k} ${step.kind.padEnd(6)} ${plural(step.nodes.length, 'node').padEnd(10)}`;
  if (step.assignedAt === null) return `${head} waiting`;
  const applied = `applied ${step.applied.length}/${step.nodes.length}`;
  if (step.completedAt !== null) return `${head} ${applied}  done`;
  const current = k === r.step && !TERMINAL.has(r.status) && r.status !== 'rollingBack';
  if (!current) return `${head} ${applied}`;
  if (step.soakUntil !== null)
    return `${head} ${applied}  soaking${now < step.soakUntil ? `, ${seconds(step.soakUntil - now)} left` : ', then the health gate'}`;
  const missing = step.nodes.filter((n) => !step.applied.includes(n));
  const due = step.ackDueAt === null ? '' : `, due in ${seconds(step.ackDueAt - now)}`;
  return `${head} ${applied}  waiting for ${names(missing)}${due}`;
}

/** A rollout as `rhictl rollout status` shows it: where it is, each step, why it stopped. Pure. */
export function renderRollout(r: RolloutRecord, now: number): string {
  const lines = [
    `rollout ${r.id}: serial ${r.ruleSet.serial} to ${targetText(r.target)}: ${r.status.toUpperCase()}${r.status === 'paused' && r.paused ? ` (by ${r.paused.by}${r.paused.reason ? `: ${r.paused.reason}` : ''})` : ''}`,
    `  started by ${r.createdBy} at ${clock(r.createdAt)}${r.message ? `: ${r.message}` : ''}`,
  ];
  r.steps.forEach((s, k) => lines.push(stepLine(r, s, k, now)));
  for (const x of r.rejected)
    lines.push(`  rejected by ${x.node}${x.code ? ` (${x.code})` : ''}: ${x.reason}`);
  if (r.stop)
    lines.push(`  stopped (${r.stop.cause}) by ${r.stop.by} at ${clock(r.stop.at)}: ${r.stop.reason}`);
  if (r.rollback) {
    const rb = r.rollback;
    lines.push(
      `  rollback: serial ${rb.serial} (a copy of ${rb.of}) to ${plural(rb.nodes.length, 'node')}, applied ${rb.applied.length}/${rb.nodes.length}`,
    );
  } else if (!TERMINAL.has(r.status))
    lines.push(
      r.rollbackTo
        ? `  rolls back to: serial ${r.rollbackTo.of} (re-issued as ${r.rollbackTo.serial})`
        : '  rolls back to: nothing (no node ran a stored rule set): a stop fails it',
    );
  if (r.failure)
    lines.push(
      `  FAILED (${r.failure.cause}): ${r.failure.reason}: needs a person (nodes: ${names(r.failure.nodes)})`,
    );
  return lines.join('\n');
}

/** One line per rollout, newest first, for `rhictl rollout list`. Pure. */
export function renderRollouts(list: readonly RolloutRecord[], active: string | null): string {
  if (list.length === 0) return 'no rollout yet';
  return list
    .map(
      (r) =>
        `${r.id === active ? '*' : ' '} ${r.id.padEnd(20)} serial ${String(r.ruleSet.serial).padEnd(6)} ${r.status.padEnd(11)} ${clock(r.createdAt)} by ${r.createdBy}`,
    )
    .join('\n');
}
