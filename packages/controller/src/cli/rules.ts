import { basename } from 'node:path';
import type { RuleSetSummary } from '@rhi/contracts';
import { countDiagnostics, formatDiagnostics, parse, ruleSetRoutes, type ParseResult } from '@rhi/rules-dsl';
import { diagnosticView } from '../rulesets/lint-upload.js';
import type { WhatIfAnswer } from '../rulesets/rule-set-service.js';
import { ApiCallError, type ApiClient } from './api-client.js';
import { RhictlUsageError, type Output } from './command.js';
import { renderDiff, renderHistory, renderLintOk, renderSummary, renderWhatIf } from './render-rules.js';
import { readRules } from './read-rules.js';
import { diffRuleSets, sameRules } from './rule-diff.js';
import { push, rollbackTo, type RolloutOptions } from './rollout.js';

/** The options `rhictl rules` reads (push and rollback: those of a rollout too). */
export interface RulesOptions extends RolloutOptions {
  readonly before?: string | undefined;
}

/** What `rhictl rules` works with. */
export interface RulesContext {
  readonly options: RulesOptions;
  /** The API client (reads the token): not called by `lint`, which needs no controller. */
  readonly api: () => Promise<ApiClient>;
  readonly out: Output;
  readonly err: Output;
  /** How often `push --wait` reads the rollout again. Default 1 s. */
  readonly pollMs?: number;
}

/** The file name the controller may put in diagnostics (its pattern), or none. */
const FILE_NAME = /^[A-Za-z0-9_.@/-]{1,128}$/;
const SERIAL = /^[1-9]\d{0,14}$/;

function serialOf(text: string | undefined, what: string): number {
  if (text === undefined || !SERIAL.test(text))
    throw new RhictlUsageError(`${what} is a rule set's serial (a whole number from 1), not '${text ?? ''}'`);
  return Number(text);
}

function wholeNumber(text: string | undefined, option: string): string | undefined {
  if (text !== undefined && !/^\d{1,15}$/.test(text))
    throw new RhictlUsageError(`--${option} takes a whole number, not '${text}'`);
  return text;
}

function arity(args: readonly string[], least: number, most: number, usage: string): void {
  if (args.length < least || args.length > most || args.some((a) => a === ''))
    throw new RhictlUsageError(`usage: rhictl rules ${usage}`);
}

/** `rhictl rules lint`: each file as `rhi-rules lint` judges it: 1 when one has errors. */
async function lint(files: readonly string[], ctx: RulesContext): Promise<number> {
  if (files.length === 0 || files.includes(''))
    throw new RhictlUsageError('rules lint needs at least one file');
  const texts: [string, string][] = [];
  for (const file of files) texts.push([file, await readRules(file)]);
  let invalid = false;
  const reports = [];
  for (const [file, text] of texts) {
    const result = parse(text, { file });
    const { errors, warnings } = countDiagnostics(result.diagnostics);
    const counts = {
      rules: result.ruleSet.rules.length,
      routes: ruleSetRoutes(result.ruleSet).length,
      warnings,
    };
    // As the controller and the agents judge it: a rule set without rules withdraws every route.
    const empty = result.ok && counts.rules === 0;
    invalid ||= !result.ok || empty;
    if (ctx.options.json) {
      reports.push({
        file,
        ok: result.ok && !empty,
        ...(empty ? { code: 'RULESET_EMPTY' } : {}),
        ...counts,
        errors,
        diagnostics: result.diagnostics.map(diagnosticView),
      });
      continue;
    }
    if (result.diagnostics.length) ctx.err.write(`${formatDiagnostics(result.diagnostics)}\n`);
    if (empty)
      ctx.err.write(
        `${file}: RULESET_EMPTY: no rule: the controller refuses it (it would withdraw every route)\n`,
      );
    else if (result.ok) ctx.out.write(`${renderLintOk(file, counts)}\n`);
  }
  if (ctx.options.json) ctx.out.write(`${JSON.stringify({ files: reports }, null, 2)}\n`);
  return invalid ? 1 : 0;
}

/** `rhictl rules whatif`: 0 when the guard allows the candidate, 1 when it blocks it or it is invalid. */
async function whatIf(args: readonly string[], ctx: RulesContext): Promise<number> {
  arity(args, 0, 1, 'whatif <file> [--target SEL] | --serial N [--target SEL]');
  const [file] = args;
  const { serial, target, json } = ctx.options;
  if ((file === undefined) === (serial === undefined))
    throw new RhictlUsageError('rules whatif takes a rules file or --serial N (one of them)');
  const to = target === undefined ? {} : { target };
  const shown = file === undefined ? undefined : FILE_NAME.test(file) ? file : basename(file);
  const body =
    file === undefined
      ? { serial: serialOf(serial, '--serial'), ...to }
      : {
          source: await readRules(file),
          ...(shown !== undefined && FILE_NAME.test(shown) ? { file: shown } : {}),
          ...to,
        };
  const api = await ctx.api();
  let answer: WhatIfAnswer;
  try {
    answer = (await api.post<WhatIfAnswer>('/api/v1/whatif', body)).body;
  } catch (e) {
    if (!(e instanceof ApiCallError) || e.status !== 422) throw e;
    if (json) ctx.out.write(`${JSON.stringify({ error: e.error }, null, 2)}\n`);
    else {
      const text = typeof e.error['text'] === 'string' ? e.error['text'] : '';
      ctx.err.write(`${text ? `${text}\n` : ''}rhictl: ${e.message} (${e.code})\n`);
    }
    return 1;
  }
  ctx.out.write(`${json ? JSON.stringify(answer, null, 2) : renderWhatIf(answer, shown)}\n`);
  return answer.guard.allowed ? 0 : 1;
}

async function history(args: readonly string[], ctx: RulesContext): Promise<number> {
  arity(args, 0, 0, 'history [--limit N] [--before SERIAL]');
  const q = new URLSearchParams();
  const limit = wholeNumber(ctx.options.limit, 'limit');
  const before = wholeNumber(ctx.options.before, 'before');
  if (limit !== undefined) q.set('limit', limit);
  if (before !== undefined) q.set('before', before);
  const query = q.size ? `?${q.toString()}` : '';
  const r = await (await ctx.api()).get<{ rulesets: RuleSetSummary[] }>(`/api/v1/rulesets${query}`);
  ctx.out.write(`${ctx.options.json ? JSON.stringify(r.body, null, 2) : renderHistory(r.body.rulesets)}\n`);
  return 0;
}

type Stored = { ruleset: RuleSetSummary; source: string };

async function stored(api: ApiClient, serial: number): Promise<Stored> {
  return (await api.get<Stored>(`/api/v1/rulesets/${serial}`)).body;
}

/** `rhictl rules show`: the text exactly as stored on stdout (redirect it to get the file back). */
async function show(args: readonly string[], ctx: RulesContext): Promise<number> {
  arity(args, 1, 1, 'show <serial>');
  const serial = serialOf(args[0], 'show <serial>');
  const r = await stored(await ctx.api(), serial);
  if (ctx.options.json) {
    ctx.out.write(`${JSON.stringify(r, null, 2)}\n`);
    return 0;
  }
  ctx.err.write(`${renderSummary(r.ruleset)}\n`);
  ctx.out.write(r.source);
  return 0;
}

/** `rhictl rules diff`: 0 the same rules, 1 different (as diff(1)), 2 a text with errors. */
async function diff(args: readonly string[], ctx: RulesContext): Promise<number> {
  arity(args, 2, 2, 'diff <serial> <serial | file>');
  const [first = '', second = ''] = args;
  const a = serialOf(first, 'diff <serial>');
  // Digits alone are a serial: a file named so is given as ./7.
  const bSerial = /^\d+$/.test(second) ? serialOf(second, 'diff <serial | file>') : null;
  const bText = bSerial === null ? await readRules(second) : null;
  const api = await ctx.api();
  const [left, right] = await Promise.all([
    stored(api, a),
    bSerial === null ? Promise.resolve(null) : stored(api, bSerial),
  ]);
  const labelA = `serial ${a}`;
  const labelB = bSerial === null ? second : `serial ${bSerial}`;
  const parsed = (text: string, file: string): ParseResult | null => {
    const result = parse(text, { file });
    if (result.ok) return result;
    ctx.err.write(`${formatDiagnostics(result.diagnostics)}\nrhictl: ${file} has errors: not compared\n`);
    return null;
  };
  const pa = parsed(left.source, labelA);
  const pb = parsed(right?.source ?? bText ?? '', labelB);
  if (!pa || !pb) return 2;
  const d = diffRuleSets(pa.ruleSet, pb.ruleSet);
  const routes = ruleSetRoutes(pa.ruleSet).length;
  ctx.out.write(`${ctx.options.json ? JSON.stringify(d, null, 2) : renderDiff(d, labelA, labelB, routes)}\n`);
  return sameRules(d) ? 0 : 1;
}

/** Runs `rhictl rules <subcommand> ...`; resolves with the exit status. */
export async function rules(args: readonly string[], ctx: RulesContext): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'lint':
      return lint(rest, ctx);
    case 'whatif':
      return whatIf(rest, ctx);
    case 'history':
      return history(rest, ctx);
    case 'show':
      return show(rest, ctx);
    case 'diff':
      return diff(rest, ctx);
    case 'push':
      return push(rest, ctx);
    case 'rollback':
      return rollbackTo(rest, ctx);
    case undefined:
      throw new RhictlUsageError(
        'rules needs a subcommand: lint, whatif, history, show, diff, push or rollback',
      );
    default:
      throw new RhictlUsageError(
        `unknown rules subcommand '${sub}' (lint, whatif, history, show, diff, push, rollback)`,
      );
  }
}
