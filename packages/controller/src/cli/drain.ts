import type { NodeAnswer, OperatorAction } from '@rhi/contracts';
import { ApiCallError, type ApiClient } from './api-client.js';
import { RhictlUsageError, type Output } from './command.js';

/** The options `rhictl drain|undrain` read. */
export interface DrainOptions {
  readonly json?: boolean | undefined;
  readonly selector?: string | undefined;
  readonly reason?: string | undefined;
  readonly force?: string | undefined;
  readonly 'wait-sessions'?: string | undefined;
  readonly timeout?: string | undefined;
}

/** What `rhictl drain|undrain` work with. */
export interface DrainContext {
  readonly options: DrainOptions;
  readonly api: () => Promise<ApiClient>;
  readonly out: Output;
  readonly err: Output;
}

const answerLine = (a: NodeAnswer) =>
  `  ${a.node.padEnd(24)} ${a.result}${a.reason === undefined ? '' : `: ${a.reason}`}`;

/** What an action did, node by node. Pure. */
export function renderAction(a: OperatorAction): string {
  const done = a.answers.filter((x) => x.result === 'applied').length;
  return [
    `${a.action} of ${a.target} by ${a.by}: ${done}/${a.answers.length} node(s) applied${a.forced ? ` (guard forced: ${a.forced.reason})` : ''}`,
    ...a.answers.map(answerLine),
  ].join('\n');
}

/** A number option's value, or undefined when not given; anything but the pattern is a usage error. */
function count(flag: string, value: string | undefined, pattern: RegExp): number | undefined {
  if (value === undefined) return undefined;
  if (!pattern.test(value)) throw new RhictlUsageError(`${flag} takes a number, not '${value}'`);
  return Number(value);
}

/**
 * `rhictl drain|undrain <node> | --selector SEL`: 0 every node applied it, 1 a drain the guard refused
 * (nothing sent) or a node that rejected it or did not answer.
 */
export async function drain(
  action: 'drain' | 'undrain',
  args: readonly string[],
  ctx: DrainContext,
): Promise<number> {
  const o = ctx.options;
  const [node, ...more] = args;
  if (more.length || node === '' || (node === undefined) === (o.selector === undefined))
    throw new RhictlUsageError(
      `usage: rhictl ${action} <node> | --selector SEL${action === 'drain' ? ' [--reason R] [--force R] [--wait-sessions N [--timeout S]]' : ''}`,
    );
  const waiting = o['wait-sessions'] !== undefined || o.timeout !== undefined;
  if (action === 'undrain' && (o.reason !== undefined || o.force !== undefined || waiting))
    throw new RhictlUsageError('undrain takes no --reason, --force, --wait-sessions or --timeout');
  if (o.timeout !== undefined && o['wait-sessions'] === undefined)
    throw new RhictlUsageError('--timeout bounds the wait for sessions: give it with --wait-sessions N');
  const waitSessions = count('--wait-sessions', o['wait-sessions'], /^\d+$/);
  const timeoutSec = count('--timeout', o.timeout, /^\d+(\.\d+)?$/);
  if (timeoutSec === 0) throw new RhictlUsageError('--timeout must be more than 0 seconds');
  const path =
    node === undefined ? `/api/v1/${action}` : `/api/v1/nodes/${encodeURIComponent(node)}/${action}`;
  const body = {
    ...(node === undefined ? { selector: o.selector } : {}),
    ...(o.reason === undefined ? {} : { reason: o.reason }),
    ...(o.force === undefined ? {} : { force: o.force }),
    ...(waitSessions === undefined ? {} : { waitSessions }),
    ...(timeoutSec === undefined ? {} : { timeoutSec }),
  };
  const api = await ctx.api();
  let answer: { action: OperatorAction };
  try {
    answer = (await api.post<{ action: OperatorAction }>(path, body)).body;
  } catch (e) {
    if (!(e instanceof ApiCallError) || e.code !== 'DRAIN_BLOCKED') throw e;
    if (o.json) ctx.out.write(`${JSON.stringify({ error: e.error }, null, 2)}\n`);
    else {
      ctx.err.write(`rhictl: ${e.message} (${e.code})\n`);
      const blockers = ((e.error['guard'] as { blockers?: unknown[] } | undefined)?.blockers ?? []) as {
        vip: string;
        before: number;
        after: number;
        minimum: number;
        withdrawnBy: string[];
      }[];
      for (const b of blockers)
        ctx.err.write(
          `  ${b.vip}: ${b.before} -> ${b.after} advertiser(s), minimum ${b.minimum} (withdrawn by ${b.withdrawnBy.join(', ')})\n`,
        );
    }
    return 1;
  }
  ctx.out.write(`${o.json ? JSON.stringify(answer, null, 2) : renderAction(answer.action)}\n`);
  return answer.action.answers.every((a) => a.result === 'applied') ? 0 : 1;
}
