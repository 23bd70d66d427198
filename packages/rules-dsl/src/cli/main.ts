import { parseArgs } from 'node:util';
import type { Decision } from '../evaluate.js';
import { evaluate, renderExplanation } from '../evaluate.js';
import { countDiagnostics, formatDiagnostics } from '../diagnostics.js';
import { formatRoute } from '../format.js';
import { formatSource } from '../format-source.js';
import type { HealthState } from '../health.js';
import { parsePrefix } from '../ip.js';
import type { ParseLimits } from '../limits.js';
import { DEFAULT_LIMITS, DEPTH_CEILING } from '../limits.js';
import type { ParseResult } from '../parser.js';
import { parse } from '../parser.js';
import { HealthStateSchema } from '../schema.js';
import type { CliIO } from './io.js';

/**
 * Exit codes: 0 fine, 1 findings (invalid rules, a rule set over a limit, would reformat, unknown prefix),
 * 2 usage, I/O or internal error.
 */
export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

/** The largest state file read (a state of 100,000 backends is about 10 MB). */
const MAX_STATE_BYTES = 64 * 1024 * 1024;

/** The options that override a parse limit, and the limit each sets. */
const LIMIT_OPTIONS = {
  'max-bytes': 'maxBytes',
  'max-rules': 'maxRules',
  'max-routes': 'maxRoutes',
  'max-depth': 'maxDepth',
  'max-terms': 'maxTermsPerRule',
  'max-diagnostics': 'maxDiagnostics',
} as const satisfies Record<string, keyof ParseLimits>;

const USAGE = `rhi-rules: check, format and evaluate rhi route rules (a superset of HAProxy Enterprise's hapee-rhi.cfg)

Usage:
  rhi-rules lint <file>...                              report every error and warning; exit 1 on errors
  rhi-rules fmt [--check | --write] <file>              canonical formatting (stdout, check, or in place)
  rhi-rules eval <file> --state <state.json> [--json]   which routes would be advertised
  rhi-rules explain <file> --state <state.json> [--prefix [<table>%]<prefix>]
                                                        why, as a tree of terms

A file name of '-' reads standard input. The state file looks like
  {"frontends":{"fe_web":{"up":true}},"backends":{"be_app":{"up":true,"serversUp":2,"serversTotal":3}}}

Limits (a rules file over one is refused; the defaults are the agent's):
  --max-bytes <n>        size of the rules file in bytes        (default ${DEFAULT_LIMITS.maxBytes})
  --max-rules <n>        rules                                  (default ${DEFAULT_LIMITS.maxRules})
  --max-routes <n>       routes of all rules together           (default ${DEFAULT_LIMITS.maxRoutes})
  --max-depth <n>        nesting of aggregators, at most ${DEPTH_CEILING}    (default ${DEFAULT_LIMITS.maxDepth})
  --max-terms <n>        terms of one rule, aggregators too     (default ${DEFAULT_LIMITS.maxTermsPerRule})
  --max-diagnostics <n>  errors, and warnings, listed           (default ${DEFAULT_LIMITS.maxDiagnostics})

Exit status: 0 fine, 1 findings (invalid rules, a limit crossed, would reformat, no such prefix),
2 usage, I/O or internal error.
`;

class UsageError extends Error {}

/**
 * Reads at most `maxBytes` + 1 bytes of a file: enough for the parser to see that a larger one is over
 * its limit, without holding (or waiting for the end of) a huge or endless input.
 */
function read(io: CliIO, path: string, what: string, maxBytes: number): string {
  try {
    return io.readFile(path, maxBytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${what} '${path}': ${code ?? (err as Error).message}`);
  }
}

function parseFile(io: CliIO, path: string, limits: ParseLimits): ParseResult {
  return parse(read(io, path, 'rules file', limits.maxBytes), { file: path, ...limits });
}

function reportIfInvalid(io: CliIO, result: ParseResult): boolean {
  if (result.diagnostics.length) io.stderr(`${formatDiagnostics(result.diagnostics)}\n`);
  return !result.ok;
}

/** The parse limits: the defaults, with those given as options (whole numbers) in their place. */
function limitsFrom(values: Partial<Record<keyof typeof LIMIT_OPTIONS, string>>): ParseLimits {
  const limits: { -readonly [K in keyof ParseLimits]: number } = { ...DEFAULT_LIMITS };
  for (const [option, key] of Object.entries(LIMIT_OPTIONS)) {
    const value = values[option as keyof typeof LIMIT_OPTIONS];
    if (value === undefined) continue;
    if (!/^\d{1,15}$/.test(value)) throw new UsageError(`--${option} takes a whole number, not '${value}'`);
    limits[key] = Number(value);
  }
  if (limits.maxDepth > DEPTH_CEILING) throw new UsageError(`--max-depth is at most ${DEPTH_CEILING}`);
  return limits;
}

function readState(io: CliIO, path: string): HealthState {
  const text = read(io, path, 'state file', MAX_STATE_BYTES);
  if (Buffer.byteLength(text) > MAX_STATE_BYTES)
    throw new UsageError(`${path}: larger than ${MAX_STATE_BYTES} bytes; not read`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  const result = HealthStateSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${path}: ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new UsageError(issues.join('\n'));
  }
  return result.data;
}

function table(rows: readonly (readonly string[])[]): string {
  // A loop, not Math.max(...column): spreading a long column as arguments overflows the stack.
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, cell.length)));
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  '))
    .join('\n');
}

function lint(io: CliIO, files: readonly string[], limits: ParseLimits): number {
  if (!files.length) throw new UsageError('lint needs at least one file');
  let invalid = false;
  for (const file of files) {
    const result = parseFile(io, file, limits);
    invalid = reportIfInvalid(io, result) || invalid;
    if (result.ok) {
      const routes = result.ruleSet.rules.reduce((n, r) => n + r.routes.length, 0);
      const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
      const rules = count(result.ruleSet.rules.length, 'rule');
      const { warnings } = countDiagnostics(result.diagnostics);
      io.stdout(`${file}: ok, ${rules}, ${count(routes, 'route')}, ${count(warnings, 'warning')}\n`);
    }
  }
  return invalid ? EXIT.findings : EXIT.ok;
}

function fmt(
  io: CliIO,
  files: readonly string[],
  check: boolean,
  write: boolean,
  limits: ParseLimits,
): number {
  if (check && write) throw new UsageError('fmt takes --check or --write, not both');
  if (files.length !== 1) throw new UsageError('fmt takes exactly one file');
  const file = files[0] ?? '';
  if (write && file === '-') throw new UsageError('fmt --write needs a file, not standard input');
  const result = formatSource(read(io, file, 'rules file', limits.maxBytes), { file, ...limits });
  if (!result.ok) {
    io.stderr(`${formatDiagnostics(result.diagnostics)}\n`);
    return EXIT.findings;
  }
  if (check) {
    if (result.changed) io.stderr(`${file}: would reformat\n`);
    return result.changed ? EXIT.findings : EXIT.ok;
  }
  if (write) {
    if (result.changed) {
      try {
        io.writeFile(file, result.text);
      } catch (err) {
        throw new UsageError(
          `cannot write '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      io.stderr(`${file}: reformatted\n`);
    }
    return EXIT.ok;
  }
  io.stdout(result.text);
  return EXIT.ok;
}

function decide(
  io: CliIO,
  file: string,
  statePath: string | undefined,
  limits: ParseLimits,
): { decisions: Decision[]; result: ParseResult } | number {
  if (!statePath) throw new UsageError('--state <state.json> is required');
  const result = parseFile(io, file, limits);
  if (reportIfInvalid(io, result)) return EXIT.findings;
  return { decisions: evaluate(result.ruleSet, readState(io, statePath)), result };
}

function evalCommand(
  io: CliIO,
  files: readonly string[],
  statePath: string | undefined,
  json: boolean,
  limits: ParseLimits,
): number {
  if (files.length !== 1) throw new UsageError('eval takes exactly one rules file');
  const outcome = decide(io, files[0] ?? '', statePath, limits);
  if (typeof outcome === 'number') return outcome;
  const { decisions } = outcome;
  if (json) {
    const routes = decisions.map((d) => ({
      table: d.table,
      prefix: d.prefix,
      advertise: d.advertise,
      reason: d.reason,
    }));
    io.stdout(`${JSON.stringify({ routes }, null, 2)}\n`);
    return EXIT.ok;
  }
  const rows = [['TABLE', 'PREFIX', 'ADVERTISE', 'REASON']];
  for (const d of decisions) rows.push([d.table, d.prefix, d.advertise ? 'yes' : 'no', d.reason]);
  io.stdout(`${table(rows)}\n`);
  return EXIT.ok;
}

function explain(
  io: CliIO,
  files: readonly string[],
  statePath: string | undefined,
  prefix: string | undefined,
  limits: ParseLimits,
): number {
  if (files.length !== 1) throw new UsageError('explain takes exactly one rules file');
  const file = files[0] ?? '';
  const outcome = decide(io, file, statePath, limits);
  if (typeof outcome === 'number') return outcome;
  let selected = outcome.decisions;
  if (prefix !== undefined) {
    // Both table forms of the language: vol2%198.18.200.5 and 198.18.200.5%vol2.
    const [left, right] = prefix.split('%', 2);
    const suffixForm = right !== undefined && /[.:]/.test(left ?? '');
    const [tableName, network] =
      right === undefined ? [undefined, prefix] : suffixForm ? [right, left] : [left, right];
    const parsed = parsePrefix(network ?? '');
    if (!parsed.ok) throw new UsageError(`--prefix: ${parsed.message}`);
    selected = selected.filter(
      (d) => d.prefix === parsed.prefix && (tableName === undefined || d.table === tableName),
    );
    if (!selected.length) {
      io.stderr(`${file}: no rule controls ${prefix.includes('%') ? `${tableName}%` : ''}${parsed.prefix}\n`);
      return EXIT.findings;
    }
  }
  const blocks = selected.map((d) => {
    const where = outcome.result.locations[d.rule];
    const head = `${formatRoute(d)}: ${d.advertise ? 'advertise' : 'withdraw'} (table ${d.table}, rule at ${file}:${where?.line ?? '?'})`;
    return `${head}\n${renderExplanation(d.explanation, '  ')}`;
  });
  io.stdout(`${blocks.join('\n\n')}\n`);
  return EXIT.ok;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit status. */
export function main(argv: readonly string[], io: CliIO): number {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        state: { type: 'string', short: 's' },
        json: { type: 'boolean' },
        prefix: { type: 'string', short: 'p' },
        check: { type: 'boolean' },
        write: { type: 'boolean', short: 'w' },
        help: { type: 'boolean', short: 'h' },
        'max-bytes': { type: 'string' },
        'max-rules': { type: 'string' },
        'max-routes': { type: 'string' },
        'max-depth': { type: 'string' },
        'max-terms': { type: 'string' },
        'max-diagnostics': { type: 'string' },
      },
    });
    const [command, ...files] = positionals;
    if (values.help || command === 'help') {
      io.stdout(USAGE);
      return EXIT.ok;
    }
    const limits = limitsFrom(values);
    switch (command) {
      case 'lint':
        return lint(io, files, limits);
      case 'fmt':
        return fmt(io, files, values.check ?? false, values.write ?? false, limits);
      case 'eval':
        return evalCommand(io, files, values.state, values.json ?? false, limits);
      case 'explain':
        return explain(io, files, values.state, values.prefix, limits);
      case undefined:
        throw new UsageError('missing command');
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`rhi-rules: ${(err as Error).message}\nRun 'rhi-rules --help' for usage.\n`);
      return EXIT.usage;
    }
    // A bug, not the input's fault: one line, no stack trace.
    io.stderr(`rhi-rules: internal error (please report it): ${String(err)}\n`);
    return EXIT.usage;
  }
}
