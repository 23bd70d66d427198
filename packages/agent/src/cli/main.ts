import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { NodeStatus } from '@rhi/contracts';
import { parseRouteId } from '@rhi/contracts';
import { HaproxyClient } from '@rhi/haproxy-client';
import type { HealthState } from '@rhi/rules-dsl';
import { formatRoute, parse, parsePrefix, ruleSetHash, RuleSetSchema } from '@rhi/rules-dsl';
import { pino } from 'pino';
import { AgentApp } from '../app/agent-app.js';
import { PreflightFailedError } from '../app/preflight.js';
import type { ConfigOverride } from '../config/load.js';
import { ConfigInvalidError, overrideFromFlag, overridesFromEnv, parseConfig } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';
import { parseLimits } from '../core/accept-rule-set.js';
import { allowlist } from '../core/allowlist.js';
import { AdminClient, AdminRefusedError, AdminUnreachableError, permissionDenied } from './admin-client.js';
import { renderChecks, runChecks } from './check.js';
import type { ExplainedRules, RouteMatch } from './explain.js';
import { explainAgent, explainRules } from './explain.js';
import { drainProgress, drainSecondsLeft, drainStarted } from './drain-progress.js';
import { AGENT_VERSION } from './version.js';

const USAGE = `rhi-agent: route health injection for HAProxy, into BIRD

Usage:
  rhi-agent run      [--config F] [--set path=value ...]   run the agent (foreground; systemd runs this)
  rhi-agent check    [--config F]                          checklist: config, rules, allowlist, HAProxy, BIRD
  rhi-agent explain  [--config F] [--from-file] [<prefix>] why each route is (not) advertised: the running
                                                           agent's view, per-term reasons from live HAProxy
  rhi-agent status   [--config F] [--json]                 the running agent's status (--json: its NodeStatus)
  rhi-agent drain    [--config F] [--reason R] [--wait-sessions N [--timeout SECONDS]] [--no-wait]
  rhi-agent undrain  [--config F]
  rhi-agent --version                                      the agent's version (package.json's)

drain withdraws every route; with --wait-sessions N it first de-prefers them and withdraws them once
HAProxy's connections fall to N, or after --timeout (default 60 s). It waits until BIRD holds none of
the routes, printing progress, unless --no-wait (Ctrl-C stops the waiting, not the drain). drain and
undrain go through the admin socket (admin.socket, /run/rhi/admin.sock): run them as root or as a
member of its group (rhi).

explain asks the running agent (admin.listen, else admin.socket) for its rule set in force, damping, drain
and what BIRD holds; without a running agent, or with --from-file, it says what the rules file would do
with live HAProxy, which is not what is advertised.

--config defaults to $RHI_CONFIG or /etc/rhi/agent.yaml. Any setting can be overridden with
--set <path>=<value> or an environment variable RHI_<SECTION>__<KEY> (e.g. RHI_HAPROXY__POLL_INTERVAL_MS=100).
Exit status: 0 fine, 1 a check failed or the agent refused, 2 usage or configuration error.
`;

class UsageError extends Error {}
/** Exit status 1: the agent or the machine refused, or a drain did not finish. */
class FailedError extends Error {}

/** How often `drain` reads the agent's status while it waits. */
const DRAIN_POLL_MS = 200;
/** How long `drain` waits, beyond the agent's own deadline, for BIRD to hold none of the routes. */
const DRAIN_CONFIRM_MS = 15_000;

async function loadConfig(file: string, sets: readonly string[]): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES')
      throw new UsageError(`cannot read the configuration: ${await permissionDenied(file)}`);
    throw new UsageError(`cannot read the configuration ${file}: ${code ?? (err as Error).message}`);
  }
  const overrides: ConfigOverride[] = [...overridesFromEnv(process.env), ...sets.map(overrideFromFlag)];
  return parseConfig(text, file, overrides);
}

/**
 * After `POST /drain`: reads the status over the control socket until BIRD holds none of the routes,
 * printing each change of progress. Gives up (the drain staying in force) `DRAIN_CONFIRM_MS` after the
 * agent's own deadline.
 */
async function waitForDrain(client: AdminClient, print: (line: string) => void): Promise<void> {
  let last = '';
  let limit: number | null = null;
  for (;;) {
    const s = (await client.control('GET', '/status')) as NodeStatus;
    if (limit === null) {
      const started = drainStarted(s);
      if (started) print(started);
      limit = Date.now() + (drainSecondsLeft(s) ?? 0) * 1000 + DRAIN_CONFIRM_MS;
    }
    const progress = drainProgress(s);
    if (progress.state === 'undrained') throw new FailedError(progress.line);
    if (progress.line !== last) print(progress.line);
    last = progress.line;
    if (progress.state === 'done') return;
    if (Date.now() > limit)
      throw new FailedError(
        `the drain has not finished: ${progress.line}; it stays in force (rhi-agent status shows it, rhi-agent undrain ends it)`,
      );
    await sleep(DRAIN_POLL_MS);
  }
}

/** `rhi-agent status`: the agent's `NodeStatus` as a table. */
export function renderStatus(s: NodeStatus): string {
  const lines = [
    `rule set: ${s.ruleSet ? `${s.ruleSet.hash.slice(0, 12)} (${s.ruleSet.source}, serial ${s.ruleSet.serial})` : 'none'}`,
    `haproxy:  ${s.haproxy.reachable ? `reachable${s.haproxy.pid ? ` (pid ${s.haproxy.pid})` : ''}` : `UNREACHABLE: ${s.haproxy.error ?? ''}`}${s.haproxy.eventRing?.state === 'unavailable' ? `, event ring REFUSED: ${s.haproxy.eventRing.error ?? s.haproxy.eventRing.name} (changes seen at the poll interval only)` : ''}`,
    `bird:     ${s.bird.reachable ? `reachable${s.bird.error ? `, REFUSING: ${s.bird.error}` : ''}` : `UNREACHABLE: ${s.bird.error ?? ''}`}${s.bird.disabled?.length ? `; DISABLED as a fail-safe (their routes withdrawn): ${s.bird.disabled.join(', ')}` : ''}`,
    `drained:  ${s.drain.drained ? `yes${s.drain.since ? ` since ${s.drain.since}` : ''}${s.drain.reason ? ` (${s.drain.reason})` : ''}` : 'no'}`,
    '',
  ];
  const rows = [['ROUTE', 'RULE', 'ADVERTISED', 'IN BIRD', 'SENT TO', 'REASON']];
  for (const r of s.routes) {
    const why = r.refused;
    const held = r.inBird ?? undefined;
    const sent = r.exported;
    const to = !held ? '-' : sent === undefined ? '?' : sent.to.length ? sent.to.join(',') : 'NONE';
    const reason =
      why !== undefined
        ? `REFUSED: ${why}`
        : held && sent && sent.to.length === 0
          ? `NOT SENT TO ANY ROUTER: ${sent.problems.join('; ')}`
          : r.reason;
    rows.push([
      formatRoute(r),
      r.decision === 'advertise' ? 'holds' : 'fails',
      r.desired ? 'yes' : 'no',
      held === undefined ? '?' : held ? 'yes' : 'no',
      to,
      reason,
    ]);
  }
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length))) ?? [];
  return [
    ...lines,
    ...rows.map((row) =>
      row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  '),
    ),
  ].join('\n');
}

/** The rules file, parsed, its rules named by their lines; null without `rules.file`. */
async function rulesFile(config: AgentConfig): Promise<(ExplainedRules & { readonly hash: string }) | null> {
  const file = config.rules.file;
  if (!file) return null;
  // The agent's own limits: explain refuses what the agent would refuse, and is as safe on a huge file.
  const result = parse(await readFile(file, 'utf8'), { file, ...parseLimits(config.rules.limits) });
  if (!result.ok) throw new UsageError(`the rules file has errors; run rhi-agent check`);
  return {
    ruleSet: result.ruleSet,
    hash: ruleSetHash(result.ruleSet),
    where: (i) => `rule at ${file}:${result.locations[i]?.line ?? '?'}`,
  };
}

/**
 * The rule set the running agent has in force: the rules file when it is that one (its lines name the
 * rules), else the agent's own copy (`GET /ruleset`); null when neither can be had.
 */
async function rulesInForce(
  config: AgentConfig,
  client: AdminClient,
  status: NodeStatus,
): Promise<ExplainedRules | null> {
  const inForce = status.ruleSet;
  if (!inForce) return null;
  try {
    const file = await rulesFile(config);
    if (file && file.hash === inForce.hash) return file;
  } catch {
    // An unreadable or broken file is not what the agent runs: its own copy is.
  }
  try {
    const body = (await client.readEither('/ruleset')) as { ruleSet?: { ruleSet?: unknown } | null };
    const shape = RuleSetSchema.safeParse(body.ruleSet?.ruleSet);
    if (shape.success && ruleSetHash(shape.data) === inForce.hash) {
      const what =
        inForce.serial > 0
          ? `the controller's rule set (serial ${inForce.serial})`
          : inForce.source === 'persisted'
            ? 'the last good copy of the rules file'
            : 'the rule set in force (the rules file has changed since)';
      return { ruleSet: shape.data, where: (i) => `rule ${i + 1} of ${what}` };
    }
  } catch {
    // An agent without GET /ruleset: its reasons only.
  }
  return null;
}

/** The routes `explain <prefix>` asks about (`<table>%<prefix>` for one table only). */
function routeMatch(prefix: string | undefined): RouteMatch {
  if (prefix === undefined) return () => true;
  const id = prefix.includes('%') ? parseRouteId(prefix) : null;
  if (prefix.includes('%') && !id) throw new UsageError(`'${prefix}' is not <table>%<prefix>`);
  const table = id?.table;
  const parsed = parsePrefix(id?.prefix ?? prefix);
  if (!parsed.ok) throw new UsageError(parsed.message);
  return (r) => r.prefix === parsed.prefix && (table === undefined || r.table === table);
}

/**
 * Why each route is (not) advertised. While the agent runs, from its own view (the rule set in force,
 * damping, drain, allowlist, refusals, what BIRD holds: `GET /status`), with the per-term reasons from
 * live HAProxy; otherwise, or with `--from-file`, what the rules file would do, said to be no more.
 */
async function explain(config: AgentConfig, prefix: string | undefined, fromFile: boolean): Promise<string> {
  const match = routeMatch(prefix);
  const haproxy = () =>
    new HaproxyClient({
      socket: config.haproxy.sockets[0] ?? '',
      timeoutMs: config.haproxy.timeoutMs,
    }).readHealth();
  const file = config.rules.file ?? 'rules.file';
  let header = `--from-file: what ${file} would do with live HAProxy, not what the running agent advertises`;
  if (!fromFile) {
    const client = new AdminClient(config.admin);
    let status: NodeStatus | null = null;
    try {
      status = (await client.readEither('/status')) as NodeStatus;
    } catch (err) {
      if (!(err instanceof AdminUnreachableError)) throw err;
      header = `the agent does not answer (${err.message}): this is what ${file} would do with live HAProxy, NOT what is advertised`;
    }
    if (status) {
      const rules = await rulesInForce(config, client, status);
      let health: { state: HealthState } | { error: string };
      try {
        health = { state: await haproxy() };
      } catch (err) {
        health = { error: (err as Error).message };
      }
      const out = explainAgent(status, rules, health, config.allowlist, match);
      if (prefix !== undefined && out.count === 0)
        throw new UsageError(`no rule of the rule set in force controls ${prefix}`);
      return out.text;
    }
  }
  const rules = await rulesFile(config);
  if (!rules) throw new UsageError(`${header}; explain needs rules.file in the configuration`);
  const allowed = allowlist(config.allowlist);
  const out = explainRules(rules, await haproxy(), (p) => allowed.allows(p), config.allowlist, match, header);
  if (prefix !== undefined && out.count === 0) throw new UsageError(`no rule controls ${prefix}`);
  return out.text;
}

async function run(config: AgentConfig): Promise<number> {
  const logger = pino({ base: { node: config.node.name }, level: process.env.RHI_LOG_LEVEL ?? 'info' });
  const app = await AgentApp.start({ config, logger, version: AGENT_VERSION });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ event: 'signal', signal }, `received ${signal}`);
      void app.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ event: 'stopFailed', err }, 'stop failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => void app.reloadRules('SIGHUP'));
  });
}

/** Runs `rhi-agent` with `argv` (without node and script); resolves with the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        set: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        reason: { type: 'string' },
        'wait-sessions': { type: 'string' },
        timeout: { type: 'string' },
        'no-wait': { type: 'boolean' },
        'from-file': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
    const [command, ...rest] = positionals;
    if (values.version) {
      process.stdout.write(`rhi-agent ${AGENT_VERSION}\n`);
      return 0;
    }
    if (values.help || command === 'help' || command === undefined) {
      process.stdout.write(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    const config = await loadConfig(
      values.config ?? process.env.RHI_CONFIG ?? '/etc/rhi/agent.yaml',
      values.set ?? [],
    );
    switch (command) {
      case 'run':
        return await run(config);
      case 'check': {
        const items = await runChecks(config);
        process.stdout.write(`${renderChecks(items)}\n`);
        return items.some((i) => i.verdict === 'fail') ? 1 : 0;
      }
      case 'explain':
        process.stdout.write(`${await explain(config, rest[0], values['from-file'] === true)}\n`);
        return 0;
      case 'status': {
        const status = (await new AdminClient(config.admin).read('/status')) as NodeStatus;
        process.stdout.write(
          values.json ? `${JSON.stringify(status, null, 2)}\n` : `${renderStatus(status)}\n`,
        );
        return 0;
      }
      case 'drain': {
        const number = (flag: string, text: string | undefined) => {
          if (text === undefined) return undefined;
          const n = Number(text);
          if (!Number.isFinite(n) || n < 0)
            throw new UsageError(`--${flag} expects a number, found '${text}'`);
          return n;
        };
        const waitSessions = number('wait-sessions', values['wait-sessions']);
        const timeout = number('timeout', values.timeout);
        if (timeout !== undefined && waitSessions === undefined)
          throw new UsageError(
            '--timeout bounds the wait for sessions to fall: give it with --wait-sessions N',
          );
        const request = {
          ...(values.reason === undefined ? {} : { reason: values.reason }),
          ...(waitSessions === undefined ? {} : { waitSessions: Math.floor(waitSessions) }),
          ...(timeout === undefined ? {} : { timeoutMs: Math.round(timeout * 1000) }),
        };
        const client = new AdminClient(config.admin);
        await client.control('POST', '/drain', request);
        if (values['no-wait']) {
          process.stdout.write(
            waitSessions === undefined
              ? 'drain requested: routes being withdrawn (not waiting: rhi-agent status shows them)\n'
              : `draining: routes de-preferred, withdrawn once HAProxy's connections fall to ${Math.floor(waitSessions)} (not waiting: rhi-agent status shows the progress)\n`,
          );
          return 0;
        }
        await waitForDrain(client, (line) => process.stdout.write(`${line}\n`));
        return 0;
      }
      case 'undrain':
        await new AdminClient(config.admin).control('POST', '/undrain');
        process.stdout.write('undrained\n');
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    if (err instanceof ConfigInvalidError || err instanceof PreflightFailedError) {
      process.stderr.write(`rhi-agent: ${err.message}\n`);
      return 2;
    }
    // The admin endpoints' errors at start come as PreflightFailedError (above).
    if (err instanceof FailedError || err instanceof AdminRefusedError) {
      process.stderr.write(`rhi-agent: ${err.message}\n`);
      return 1;
    }
    if (
      err instanceof UsageError ||
      err instanceof AdminUnreachableError ||
      (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`rhi-agent: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}
