import { parseArgs } from 'node:util';
import type { Decision } from '../evaluate.js';
import { evaluate, renderExplanation } from '../evaluate.js';
import { formatDiagnostics } from '../diagnostics.js';
import { formatRoute } from '../format.js';
import { formatSource } from '../format-source.js';
import type { HealthState } from '../health.js';
import { parsePrefix } from '../ip.js';
import type { ParseResult } from '../parser.js';
import { parse } from '../parser.js';
import { HealthStateSchema } from '../schema.js';
import type { CliIO } from './io.js';

/** Exit codes: 0 fine, 1 findings (invalid rules, would reformat, unknown prefix), 2 usage or I/O error. */
export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

const USAGE = `rhi-rules: check, format and evaluate rhi route rules (a superset of HAProxy Enterprise's hapee-rhi.cfg)

Usage:
  rhi-rules lint <file>...                              report every error and warning; exit 1 on errors
  rhi-rules fmt [--check | --write] <file>              canonical formatting (stdout, check, or in place)
  rhi-rules eval <file> --state <state.json> [--json]   which routes would be advertised
  rhi-rules explain <file> --state <state.json> [--prefix [<table>%]<prefix>]
                                                        why, as a tree of terms

A file name of '-' reads standard input. The state file looks like
  {"frontends":{"fe_web":{"up":true}},"backends":{"be_app":{"up":true,"serversUp":2,"serversTotal":3}}}
Exit status: 0 fine, 1 findings (invalid rules, would reformat, no such prefix), 2 usage or I/O error.
`;

class UsageError extends Error {}

function read(io: CliIO, path: string, what: string): string {
  try {
    return io.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${what} '${path}': ${code ?? (err as Error).message}`);
  }
}

function parseFile(io: CliIO, path: string): ParseResult {
  return parse(read(io, path, 'rules file'), { file: path });
}

function reportIfInvalid(io: CliIO, result: ParseResult): boolean {
  if (result.diagnostics.length) io.stderr(`${formatDiagnostics(result.diagnostics)}\n`);
  return !result.ok;
}

function readState(io: CliIO, path: string): HealthState {
  const text = read(io, path, 'state file');
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
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  '))
    .join('\n');
}

function lint(io: CliIO, files: readonly string[]): number {
  if (!files.length) throw new UsageError('lint needs at least one file');
  let invalid = false;
  for (const file of files) {
    const result = parseFile(io, file);
    invalid = reportIfInvalid(io, result) || invalid;
    if (result.ok) {
      const routes = result.ruleSet.rules.reduce((n, r) => n + r.routes.length, 0);
      const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
      const rules = count(result.ruleSet.rules.length, 'rule');
      io.stdout(
        `${file}: ok, ${rules}, ${count(routes, 'route')}, ${count(result.diagnostics.length, 'warning')}\n`,
      );
    }
  }
  return invalid ? EXIT.findings : EXIT.ok;
}

function fmt(io: CliIO, files: readonly string[], check: boolean, write: boolean): number {
  if (check && write) throw new UsageError('fmt takes --check or --write, not both');
  if (files.length !== 1) throw new UsageError('fmt takes exactly one file');
  const file = files[0] ?? '';
  if (write && file === '-') throw new UsageError('fmt --write needs a file, not standard input');
  const result = formatSource(read(io, file, 'rules file'), { file });
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
): { decisions: Decision[]; result: ParseResult } | number {
  if (!statePath) throw new UsageError('--state <state.json> is required');
  const result = parseFile(io, file);
  if (reportIfInvalid(io, result)) return EXIT.findings;
  return { decisions: evaluate(result.ruleSet, readState(io, statePath)), result };
}

function evalCommand(
  io: CliIO,
  files: readonly string[],
  statePath: string | undefined,
  json: boolean,
): number {
  if (files.length !== 1) throw new UsageError('eval takes exactly one rules file');
  const outcome = decide(io, files[0] ?? '', statePath);
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
): number {
  if (files.length !== 1) throw new UsageError('explain takes exactly one rules file');
  const file = files[0] ?? '';
  const outcome = decide(io, file, statePath);
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
      },
    });
    const [command, ...files] = positionals;
    if (values.help || command === 'help') {
      io.stdout(USAGE);
      return EXIT.ok;
    }
    switch (command) {
      case 'lint':
        return lint(io, files);
      case 'fmt':
        return fmt(io, files, values.check ?? false, values.write ?? false);
      case 'eval':
        return evalCommand(io, files, values.state, values.json ?? false);
      case 'explain':
        return explain(io, files, values.state, values.prefix);
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
    throw err;
  }
}
