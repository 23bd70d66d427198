import { setTimeout as sleep } from 'node:timers/promises';
import type { RolloutRecord, RuleSetSummary } from '@rhi/contracts';
import { ApiCallError, type ApiClient } from './api-client.js';
import { RhictlUsageError, type Output } from './command.js';
import { readRules } from './read-rules.js';
import { TERMINAL } from '../rollout/rollout-machine.js';
import { renderRollout, renderRollouts } from './render-rollout.js';

/** The options the rollout commands read. */
export interface RolloutOptions {
  readonly json?: boolean | undefined;
  readonly target?: string | undefined;
  readonly serial?: string | undefined;
  readonly message?: string | undefined;
  readonly canary?: string | undefined;
  readonly batch?: string | undefined;
  readonly soak?: string | undefined;
  readonly 'ack-timeout'?: string | undefined;
  readonly force?: string | undefined;
  readonly wait?: boolean | undefined;
  readonly watch?: boolean | undefined;
  readonly to?: string | undefined;
  readonly reason?: string | undefined;
  readonly limit?: string | undefined;
}

/** What the rollout commands work with. */
export interface RolloutContext {
  readonly options: RolloutOptions;
  readonly api: () => Promise<ApiClient>;
  readonly out: Output;
  readonly err: Output;
  /** How often `--wait` and `--watch` read the rollout again. Default 1 s. */
  readonly pollMs?: number;
  readonly now?: () => number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration as an operator writes it (`500ms`, `30s`, `2m`, `1h`, or milliseconds alone), in ms. */
export function durationMs(text: string, option: string): number {
  const m = /^(\d{1,9})(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new RhictlUsageError(`--${option} takes a duration such as 30s, 2m or 500ms, not '${text}'`);
  return Number(m[1]) * UNITS[m[2] ?? 'ms']!;
}

/** `--canary`: a count (`2`), a percentage (`10%`), a label selector (`site=par1`) or `none`. */
export function canaryOf(text: string): Record<string, unknown> | null {
  const t = text.trim();
  if (t === 'none') return null;
  if (/^\d{1,9}$/.test(t)) return { count: Number(t) };
  const pct = /^(\d{1,3}(?:\.\d+)?)%$/.exec(t);
  if (pct) return { percent: Number(pct[1]) };
  if (t.includes('=')) return { selector: t };
  throw new RhictlUsageError(
    `--canary takes a count (2), a percentage (10%), a selector (site=par1) or none, not '${text}'`,
  );
}

/** `--batch`: a size (`5`) or a percentage (`25%`). */
export function batchOf(text: string): Record<string, unknown> {
  const t = text.trim();
  if (/^\d{1,9}$/.test(t)) return { size: Number(t) };
  const pct = /^(\d{1,3}(?:\.\d+)?)%$/.exec(t);
  if (pct) return { percent: Number(pct[1]) };
  throw new RhictlUsageError(`--batch takes a size (5) or a percentage (25%), not '${text}'`);
}

function strategyOf(o: RolloutOptions): Record<string, unknown> {
  return {
    ...(o.canary === undefined ? {} : { canary: canaryOf(o.canary) }),
    ...(o.batch === undefined ? {} : { batch: batchOf(o.batch) }),
    ...(o.soak === undefined ? {} : { soakMs: durationMs(o.soak, 'soak') }),
    ...(o['ack-timeout'] === undefined ? {} : { ackTimeoutMs: durationMs(o['ack-timeout'], 'ack-timeout') }),
  };
}

/** 0 completed (or, without waiting, started), 1 stopped: rolled back, aborted or failed. */
const exitOf = (r: RolloutRecord) => (TERMINAL.has(r.status) && r.status !== 'completed' ? 1 : 0);

/** Starts a rollout of `body.serial`; with `--wait`, follows it to its end. */
async function startRollout(
  api: ApiClient,
  body: Record<string, unknown>,
  ctx: RolloutContext,
): Promise<number> {
  const o = ctx.options;
  let started: { rollout: RolloutRecord; skipped: string[] };
  try {
    started = (
      await api.post<{ rollout: RolloutRecord; skipped: string[] }>('/api/v1/rollouts', {
        ...body,
        ...(o.target === undefined ? {} : { target: o.target }),
        ...(o.force === undefined ? {} : { force: o.force }),
        strategy: strategyOf(o),
      })
    ).body;
  } catch (e) {
    if (e instanceof ApiCallError && e.code === 'ROLLOUT_BLOCKED') {
      const blockers = ((e.error['whatIf'] as { guard?: { blockers?: unknown[] } } | undefined)?.guard
        ?.blockers ?? []) as {
        kind: string;
        vip?: string;
        node?: string;
        after?: number;
        minimum?: number;
        proxies?: string[];
        vips?: string[];
      }[];
      if (o.json) ctx.out.write(`${JSON.stringify({ error: e.error }, null, 2)}\n`);
      else {
        ctx.err.write(`rhictl: ${e.message} (${e.code}); nothing was changed\n`);
        for (const b of blockers)
          ctx.err.write(
            `  ${b.kind}: ${b.vip ?? b.node ?? ''}${b.kind === 'belowMinimum' ? ` would keep ${b.after} advertiser(s), its minimum is ${b.minimum}` : ''}${b.proxies ? ` lacks ${b.proxies.join(', ')}` : ''}${b.vips ? ` forbids ${b.vips.join(', ')}` : ''}\n`,
          );
        ctx.err.write(
          '  see rhictl rules whatif; --force "reason" goes ahead anyway (the reason is recorded)\n',
        );
      }
      return 1;
    }
    throw e;
  }
  const r = started.rollout;
  if (!o.wait) {
    ctx.out.write(`${o.json ? JSON.stringify(started, null, 2) : renderStarted(r, started.skipped)}\n`);
    return 0;
  }
  if (!o.json) ctx.err.write(`${renderStarted(r, started.skipped)}\n`);
  return follow(api, r.id, ctx);
}

function renderStarted(r: RolloutRecord, skipped: readonly string[]): string {
  const steps = r.steps.map((s) => `${s.kind} ${s.nodes.length}`).join(', ');
  const lost = skipped.length ? `\n  left out (lost): ${skipped.join(', ')}` : '';
  return `rollout ${r.id} started: serial ${r.ruleSet.serial}, ${r.steps.length} step(s) (${steps})${lost}\n  follow it: rhictl rollout status ${r.id} --watch`;
}

/** Reads the rollout every poll, printing it when it changed, until it ends. */
async function follow(api: ApiClient, id: string, ctx: RolloutContext): Promise<number> {
  let last = -1;
  for (;;) {
    const r = (await api.get<{ rollout: RolloutRecord }>(`/api/v1/rollouts/${encodeURIComponent(id)}`)).body
      .rollout;
    const done = TERMINAL.has(r.status) && r.outbox.length === 0;
    if (r.revision !== last || done) {
      last = r.revision;
      if (ctx.options.json) {
        if (done) ctx.out.write(`${JSON.stringify({ rollout: r }, null, 2)}\n`);
      } else ctx.out.write(`${renderRollout(r, (ctx.now ?? Date.now)())}\n\n`);
    }
    if (done) return exitOf(r);
    await sleep(ctx.pollMs ?? 1000);
  }
}

const SERIAL = /^[1-9]\d{0,14}$/;

/**
 * `rhictl rules push <file> -m MSG` (or `--serial N`): stores the file (linted, signed) and rolls it out
 * staged; 0 started (with `--wait`: completed), 1 blocked by the guard or stopped.
 */
export async function push(args: readonly string[], ctx: RolloutContext): Promise<number> {
  const o = ctx.options;
  const [file, ...more] = args;
  if (more.length || (file === undefined) === (o.serial === undefined))
    throw new RhictlUsageError('usage: rhictl rules push <file> -m MESSAGE [options] | --serial N [options]');
  const api = await ctx.api();
  let serial: number;
  if (file !== undefined) {
    if (!o.message?.trim())
      throw new RhictlUsageError('rules push needs -m MESSAGE: it is kept in the history');
    const source = await readRules(file);
    const stored = await api.post<{ ruleset: RuleSetSummary }>('/api/v1/rulesets', {
      source,
      message: o.message,
      ...(o.target === undefined ? {} : { target: o.target }),
    });
    serial = stored.body.ruleset.serial;
    if (!o.json) ctx.err.write(`stored ${file} as serial ${serial}\n`);
  } else {
    if (!SERIAL.test(o.serial!)) throw new RhictlUsageError(`--serial takes a serial, not '${o.serial}'`);
    serial = Number(o.serial);
  }
  return startRollout(api, { serial, ...(o.message ? { message: o.message } : {}) }, ctx);
}

/** `rhictl rules rollback --to N`: rolls the fleet back to serial N (a fresh copy, no canary, no soak). */
export async function rollbackTo(args: readonly string[], ctx: RolloutContext): Promise<number> {
  const o = ctx.options;
  if (args.length || o.to === undefined || !SERIAL.test(o.to))
    throw new RhictlUsageError('usage: rhictl rules rollback --to SERIAL [-m MESSAGE] [--wait]');
  const api = await ctx.api();
  return startRollout(
    api,
    { serial: Number(o.to), rollback: true, message: o.message ?? `rollback to serial ${o.to}` },
    ctx,
  );
}

/** The rollout a command is about: the one given, else the one under way (else, for status, the newest). */
async function which(api: ApiClient, id: string | undefined, newest: boolean): Promise<string> {
  if (id !== undefined) return id;
  const list = (
    await api.get<{ active: string | null; rollouts: RolloutRecord[] }>('/api/v1/rollouts?limit=1')
  ).body;
  const found = list.active ?? (newest ? list.rollouts[0]?.id : undefined);
  if (!found)
    throw new ApiCallError(404, 'ROLLOUT_NOT_FOUND', newest ? 'no rollout yet' : 'no rollout is under way');
  return found;
}

/** Runs `rhictl rollout <subcommand>`; resolves with the exit status. */
export async function rollout(args: readonly string[], ctx: RolloutContext): Promise<number> {
  const [sub, id, ...more] = args;
  const o = ctx.options;
  if (more.length || id === '')
    throw new RhictlUsageError(`usage: rhictl rollout ${sub ?? '<subcommand>'} [ID]`);
  const api = await ctx.api();
  switch (sub) {
    case 'status': {
      const target = await which(api, id, true);
      if (o.watch) return follow(api, target, ctx);
      const r = (await api.get<{ rollout: RolloutRecord }>(`/api/v1/rollouts/${encodeURIComponent(target)}`))
        .body.rollout;
      ctx.out.write(
        `${o.json ? JSON.stringify({ rollout: r }, null, 2) : renderRollout(r, (ctx.now ?? Date.now)())}\n`,
      );
      return exitOf(r);
    }
    case 'list': {
      const q = o.limit === undefined ? '' : `?limit=${encodeURIComponent(o.limit)}`;
      const list = (
        await api.get<{ active: string | null; rollouts: RolloutRecord[] }>(`/api/v1/rollouts${q}`)
      ).body;
      ctx.out.write(
        `${o.json ? JSON.stringify(list, null, 2) : renderRollouts(list.rollouts, list.active)}\n`,
      );
      return 0;
    }
    case 'pause':
    case 'resume':
    case 'abort': {
      if (sub === 'abort' && !o.reason?.trim())
        throw new RhictlUsageError('rollout abort needs --reason: it is kept in the timeline');
      const target = await which(api, id, false);
      const body = sub === 'resume' ? {} : o.reason === undefined ? {} : { reason: o.reason };
      const r = (
        await api.post<{ rollout: RolloutRecord }>(
          `/api/v1/rollouts/${encodeURIComponent(target)}/${sub}`,
          body,
        )
      ).body.rollout;
      ctx.out.write(
        `${o.json ? JSON.stringify({ rollout: r }, null, 2) : renderRollout(r, (ctx.now ?? Date.now)())}\n`,
      );
      return 0;
    }
    case 'rollback': {
      if (o.to === undefined || !SERIAL.test(o.to) || !o.reason?.trim())
        throw new RhictlUsageError('usage: rhictl rollout rollback [ID] --to SERIAL --reason R');
      const target = await which(api, id, true);
      const r = (
        await api.post<{ rollout: RolloutRecord }>(
          `/api/v1/rollouts/${encodeURIComponent(target)}/rollback`,
          {
            to: Number(o.to),
            reason: o.reason,
          },
        )
      ).body.rollout;
      ctx.out.write(
        `${o.json ? JSON.stringify({ rollout: r }, null, 2) : renderRollout(r, (ctx.now ?? Date.now)())}\n`,
      );
      return 0;
    }
    case undefined:
      throw new RhictlUsageError(
        'rollout needs a subcommand: status, list, pause, resume, abort or rollback',
      );
    default:
      throw new RhictlUsageError(
        `unknown rollout subcommand '${sub}' (status, list, pause, resume, abort, rollback)`,
      );
  }
}
